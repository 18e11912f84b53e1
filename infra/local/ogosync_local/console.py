"""The web console on the local stack: moto's Cognito user pool (as template.yaml makes it: the "operators" group
and the custom attribute "merchant"), the session key in moto's Secrets Manager, and the console's handler served
on loopback over http (so its cookie is not marked Secure: browsers drop Secure cookies of plain http)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from ogosync.aws.cognito import MERCHANT_ATTRIBUTE, OPERATORS_GROUP
from ogosync.console import runtime as console_runtime
from ogosync_local.aws import LocalAws
from ogosync_local.lambdas import ConsoleGateway


@dataclass
class ConsoleUser:
    username: str
    password: str
    operator: bool = False
    merchant: str | None = None


class LocalConsole:
    def __init__(self, aws: LocalAws) -> None:
        self._cognito: Any = aws.client("cognito-idp")
        self._pool_id = self._cognito.create_user_pool(
            PoolName=f"ogosync-console-{aws.suffix}",
            AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
            Schema=[{"Name": "merchant", "AttributeDataType": "String", "Mutable": True}],
        )["UserPool"]["Id"]
        self._client_id = self._cognito.create_user_pool_client(
            UserPoolId=self._pool_id, ClientName="console", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
        )["UserPoolClient"]["ClientId"]
        self._cognito.create_group(UserPoolId=self._pool_id, GroupName=OPERATORS_GROUP)
        self._key_name = f"ogosync-console/{aws.suffix}/session-key"
        aws.client("secretsmanager").create_secret(Name=self._key_name, SecretString=secrets.token_urlsafe(48))
        self.gateway = ConsoleGateway()

    @property
    def url(self) -> str:
        return self.gateway.base_url

    def environment(self) -> dict[str, str]:
        return {
            "CONSOLE_USER_POOL_CLIENT_ID": self._client_id,
            "CONSOLE_USER_POOL_ID": self._pool_id,
            "CONSOLE_SESSION_KEY_SECRET": self._key_name,
            "CONSOLE_SECURE_COOKIES": "false",
        }

    def start(self) -> LocalConsole:
        console_runtime.console_deps.cache_clear()
        self.gateway.start()
        return self

    def stop(self) -> None:
        self.gateway.stop()
        console_runtime.console_deps.cache_clear()

    def add_user(self, user: ConsoleUser) -> ConsoleUser:
        attributes = [] if user.merchant is None else [{"Name": MERCHANT_ATTRIBUTE, "Value": user.merchant}]
        self._cognito.admin_create_user(
            UserPoolId=self._pool_id, Username=user.username, UserAttributes=attributes, MessageAction="SUPPRESS"
        )
        self._cognito.admin_set_user_password(
            UserPoolId=self._pool_id, Username=user.username, Password=user.password, Permanent=True
        )
        if user.operator:
            self._cognito.admin_add_user_to_group(
                UserPoolId=self._pool_id, Username=user.username, GroupName=OPERATORS_GROUP
            )
        return user
