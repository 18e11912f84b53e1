"""The console's deps from its environment (template.yaml's ConsoleFunction; locally, the local stack's):
the operator services' deps, Cognito's app client, and the key that signs session cookies, read once per container
from Secrets Manager."""

from __future__ import annotations

import os
from functools import cache

import boto3

from ogosync import runtime
from ogosync.aws import clients
from ogosync.aws.cognito import CognitoSignIn
from ogosync.console.deps import ConsoleDeps
from ogosync.state.console_sessions import DynamoConsoleSessions


@cache
def console_deps() -> ConsoleDeps:
    key = clients.secretsmanager().get_secret_value(SecretId=os.environ["CONSOLE_SESSION_KEY_SECRET"])["SecretString"]
    return ConsoleDeps(
        operator=runtime.operator_deps(),
        product_runs=runtime.product_runs(),
        stock_ledger=runtime.stock_ledger(),
        sign_in=CognitoSignIn(
            boto3.client("cognito-idp"), os.environ["CONSOLE_USER_POOL_CLIENT_ID"], os.environ["CONSOLE_USER_POOL_ID"]
        ),
        session_key=key.encode(),
        sessions=DynamoConsoleSessions(clients.dynamodb(), os.environ["OGOSYNC_TABLE"]),
        # Browsers keep Secure cookies from http://127.0.0.1 only in some versions: loopback turns it off.
        secure_cookies=os.environ.get("CONSOLE_SECURE_COOKIES", "true") != "false",
    )
