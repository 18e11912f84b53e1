"""The console's sign-in on moto's Cognito: the operators group, a merchant's attribute, and refusals."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from ogosync.aws.cognito import CognitoSignIn
from ogosync.console.deps import SignInRefused
from ogosync.console.session import Identity, NewPasswordNeeded


@pytest.fixture
def pool() -> Iterator[tuple[Any, str, str]]:
    with mock_aws():
        client = boto3.client("cognito-idp", region_name="eu-north-1")
        pool_id = client.create_user_pool(
            PoolName="console", Schema=[{"Name": "merchant", "AttributeDataType": "String", "Mutable": True}]
        )["UserPool"]["Id"]
        client_id = client.create_user_pool_client(
            UserPoolId=pool_id, ClientName="console", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
        )["UserPoolClient"]["ClientId"]
        client.create_group(UserPoolId=pool_id, GroupName="operators")
        yield client, pool_id, client_id


def _user(client: Any, pool_id: str, name: str, merchant: str | None = None, *, operator: bool = False) -> None:
    attributes = [{"Name": "custom:merchant", "Value": merchant}] if merchant else []
    client.admin_create_user(UserPoolId=pool_id, Username=name, UserAttributes=attributes, MessageAction="SUPPRESS")
    client.admin_set_user_password(UserPoolId=pool_id, Username=name, Password="Pass-word-1!", Permanent=True)
    if operator:
        client.admin_add_user_to_group(UserPoolId=pool_id, Username=name, GroupName="operators")


def test_operators_and_merchants_get_their_roles_and_others_are_refused(pool: tuple[Any, str, str]) -> None:
    client, pool_id, client_id = pool
    _user(client, pool_id, "olga", operator=True)
    _user(client, pool_id, "anna", "Acme Apparel")
    _user(client, pool_id, "nobody")
    sign_in = CognitoSignIn(client, client_id, pool_id)

    assert sign_in.sign_in("olga", "Pass-word-1!") == Identity(username="olga", operator=True)
    assert sign_in.sign_in("anna", "Pass-word-1!") == Identity(username="anna", operator=False, merchant="Acme Apparel")
    with pytest.raises(SignInRefused, match="no role"):
        sign_in.sign_in("nobody", "Pass-word-1!")
    with pytest.raises(SignInRefused, match="wrong user name or password"):
        sign_in.sign_in("anna", "wrong")
    with pytest.raises(SignInRefused, match="wrong user name or password"):
        sign_in.sign_in("ghost", "Pass-word-1!")


def test_an_invited_user_sets_a_new_password_then_signs_in_with_it(pool: tuple[Any, str, str]) -> None:
    client, pool_id, client_id = pool
    attributes = [{"Name": "custom:merchant", "Value": "Acme Apparel"}]
    client.admin_create_user(
        UserPoolId=pool_id,
        Username="ivan",
        UserAttributes=attributes,
        TemporaryPassword="Temp-pass-word-1",
        MessageAction="SUPPRESS",
    )
    sign_in = CognitoSignIn(client, client_id, pool_id)

    challenge = sign_in.sign_in("ivan", "Temp-pass-word-1")
    assert isinstance(challenge, NewPasswordNeeded) and challenge.username == "ivan"
    identity = sign_in.set_new_password(challenge, "Own-pass-word-22")

    assert identity == Identity(username="ivan", operator=False, merchant="Acme Apparel")
    assert sign_in.sign_in("ivan", "Own-pass-word-22") == identity


def test_signing_out_revokes_the_refresh_tokens_cognito_issued_to_the_user(pool: tuple[Any, str, str]) -> None:
    client, pool_id, client_id = pool
    _user(client, pool_id, "anna", "Acme Apparel")
    tokens = client.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "anna", "PASSWORD": "Pass-word-1!"},
    )["AuthenticationResult"]
    refresh = {"REFRESH_TOKEN": tokens["RefreshToken"]}
    assert client.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters=refresh)

    CognitoSignIn(client, client_id, pool_id).sign_out("anna")

    with pytest.raises(ClientError, match="NotAuthorized"):
        client.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters=refresh)


def test_a_failed_sign_out_at_cognito_is_logged_not_raised(
    pool: tuple[Any, str, str], caplog: pytest.LogCaptureFixture
) -> None:
    client, pool_id, client_id = pool

    CognitoSignIn(client, client_id, pool_id).sign_out("ghost")  # Cognito answers UserNotFoundException

    (record,) = [record for record in caplog.records if "Cognito did not sign the user out" in record.getMessage()]
    assert record.levelname == "WARNING" and record.error == "UserNotFoundException"
