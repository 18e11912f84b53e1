"""Writes integration credentials to Secrets Manager (one secret per integration, named <prefix><integration id>)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from ogosync.models import Credentials

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _marked_for_deletion(exc: ClientError) -> bool:
    # AWS says "...scheduled for deletion", moto "...currently marked deleted": both name it an invalid request.
    message = str(exc.response.get("Error", {}).get("Message", "")).lower()
    return _code(exc) == "InvalidRequestException" and "delet" in message


class SecretsManagerWriter:
    def __init__(self, client: SecretsManagerClient) -> None:
        self._client = client

    def write(self, name: str, credentials: Credentials) -> None:
        payload = json.dumps(credentials.revealed())
        try:
            self._client.create_secret(Name=name, SecretString=payload)
            return
        except ClientError as exc:
            if not (_marked_for_deletion(exc) or _code(exc) == "ResourceExistsException"):
                raise
        # The secret exists: a rotation, or an integration deleted and created again within the recovery window.
        if "DeletedDate" in self._client.describe_secret(SecretId=name):
            self._client.restore_secret(SecretId=name)
        self._client.put_secret_value(SecretId=name, SecretString=payload)

    def schedule_deletion(self, name: str, recovery_days: int) -> None:
        try:
            self._client.delete_secret(SecretId=name, RecoveryWindowInDays=recovery_days)
        except ClientError as exc:
            if not (_marked_for_deletion(exc) or _code(exc) == "ResourceNotFoundException"):  # done already
                raise
