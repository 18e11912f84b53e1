"""Writes integration credentials to Secrets Manager (one secret per integration, named <prefix><integration id>)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from ogosync.models import Credentials

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient


def _error(exc: ClientError) -> tuple[str, str]:
    error = exc.response.get("Error", {})
    return str(error.get("Code", "")), str(error.get("Message", ""))


class SecretsManagerWriter:
    def __init__(self, client: SecretsManagerClient) -> None:
        self._client = client

    def write(self, name: str, credentials: Credentials) -> None:
        payload = json.dumps(credentials.revealed())
        try:
            self._client.create_secret(Name=name, SecretString=payload)
            return
        except ClientError as exc:
            code, message = _error(exc)
            if code == "InvalidRequestException" and "deletion" in message.lower():
                # The integration was deleted and is created again within the recovery window: take the secret back.
                self._client.restore_secret(SecretId=name)
            elif code != "ResourceExistsException":
                raise
        self._client.put_secret_value(SecretId=name, SecretString=payload)

    def schedule_deletion(self, name: str, recovery_days: int) -> None:
        try:
            self._client.delete_secret(SecretId=name, RecoveryWindowInDays=recovery_days)
        except ClientError as exc:
            code, message = _error(exc)
            already_gone = code == "ResourceNotFoundException"
            already_scheduled = code == "InvalidRequestException" and "deletion" in message.lower()
            if not (already_gone or already_scheduled):
                raise
