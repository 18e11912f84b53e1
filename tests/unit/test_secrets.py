"""Integration credentials from Secrets Manager (moto): valid, incomplete, invalid, missing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from moto import mock_aws

from ogosync.aws.secrets import SecretsManagerStore
from ogosync.errors import ConfigurationError
from ogosync.models import Credentials, Integration

REGION = "eu-north-1"
SECRET_NAME = "ogosync/acme-centra"

VALUES = {
    "store_api_key": "centra-key-VALUE-1",
    "webhook_secret": "whsec-VALUE-2",
    "myogo_merchant_id": "merchant-VALUE-3",
    "myogo_secret_token": "token-VALUE-4",
    "myogo_client_id": "client-VALUE-5",
    "myogo_client_secret": "client-secret-VALUE-6",
}


@pytest.fixture(autouse=True)
def _aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def secretsmanager() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("secretsmanager", region_name=REGION)


@pytest.fixture
def store(secretsmanager: Any) -> SecretsManagerStore:
    return SecretsManagerStore(SecretsProvider(boto3_client=secretsmanager))


def _integration(secret_name: str = SECRET_NAME) -> Integration:
    return Integration(
        id="acme-centra",
        platform="centra",
        merchant_name="Acme Apparel",
        store_base_url="https://acme.centra.com/api/ogosync",
        warehouse="TLL",
        time_zone="Europe/Stockholm",
        secret_name=secret_name,
    )


def _put(client: Any, value: str, name: str = SECRET_NAME) -> None:
    client.create_secret(Name=name, SecretString=value)


def test_valid_secret_gives_credentials(secretsmanager: Any, store: SecretsManagerStore) -> None:
    _put(secretsmanager, json.dumps(VALUES))

    credentials = store.credentials(_integration())

    assert isinstance(credentials, Credentials)
    assert credentials.store.api_key.get_secret_value() == "centra-key-VALUE-1"
    assert credentials.webhook_secret.get_secret_value() == "whsec-VALUE-2"
    assert credentials.myogo_merchant_id == "merchant-VALUE-3"
    assert credentials.myogo_secret_token.get_secret_value() == "token-VALUE-4"
    assert credentials.myogo_client_id == "client-VALUE-5"
    assert credentials.myogo_client_secret.get_secret_value() == "client-secret-VALUE-6"
    assert "VALUE-1" not in repr(credentials)  # SecretStr keeps the secret parts out of reprs


def test_secret_is_cached(secretsmanager: Any, store: SecretsManagerStore) -> None:
    _put(secretsmanager, json.dumps(VALUES))
    store.credentials(_integration())

    secretsmanager.update_secret(SecretId=SECRET_NAME, SecretString=json.dumps(VALUES | {"store_api_key": "new"}))

    assert store.credentials(_integration()).store.api_key.get_secret_value() == "centra-key-VALUE-1"


def test_secret_missing_fields_names_them_and_no_value(secretsmanager: Any, store: SecretsManagerStore) -> None:
    partial = {key: value for key, value in VALUES.items() if key not in ("myogo_secret_token", "webhook_secret")}
    _put(secretsmanager, json.dumps(partial))

    with pytest.raises(ConfigurationError) as caught:
        store.credentials(_integration())

    message = str(caught.value)
    assert "acme-centra" in message
    assert "myogo_secret_token" in message
    assert "webhook_secret" in message
    for field in partial:
        assert field not in message  # only the missing ones are named
    for value in VALUES.values():
        assert value not in message
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_secret_with_wrong_types_and_unknown_fields_names_them_and_no_value(
    secretsmanager: Any, store: SecretsManagerStore
) -> None:
    bad = VALUES | {"store_api_key": ["centra-key-VALUE-1"], "myogo_client_secret": 987654321}
    bad["api_key_typo"] = "x-VALUE"
    _put(secretsmanager, json.dumps(bad))

    with pytest.raises(ConfigurationError) as caught:
        store.credentials(_integration())

    message = str(caught.value)
    assert "store.centra.api_key" in message  # an old secret's store_api_key is read as Centra's api_key
    assert "myogo_client_secret" in message
    assert "api_key_typo" in message
    assert "987654321" not in message
    for value in VALUES.values():
        assert value not in message
    assert "x-VALUE" not in message


@pytest.mark.parametrize("value", ["not json at all VALUE-7", '{"store_api_key": "VALUE-8"', "[1, 2]", "null"])
def test_secret_that_is_not_a_json_object_is_a_configuration_error(
    secretsmanager: Any, store: SecretsManagerStore, value: str
) -> None:
    _put(secretsmanager, value)

    with pytest.raises(ConfigurationError) as caught:
        store.credentials(_integration())

    assert "acme-centra" in str(caught.value)
    assert "VALUE" not in str(caught.value)


def test_secret_that_does_not_exist_is_a_configuration_error(store: SecretsManagerStore) -> None:
    with pytest.raises(ConfigurationError) as caught:
        store.credentials(_integration("ogosync/nobody"))

    assert "acme-centra" in str(caught.value)
    assert "cannot be read" in str(caught.value)
