"""Integration credentials from Secrets Manager, through Powertools Parameters (cached per container)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError
from pydantic import ValidationError

from ogosync.errors import ConfigurationError
from ogosync.models import Credentials, Integration

CACHE_SECONDS = 300


class SecretsManagerStore:
    def __init__(self, provider: SecretsProvider | None = None, max_age: int = CACHE_SECONDS) -> None:
        self._provider = provider or SecretsProvider()
        self._max_age = max_age

    def credentials(self, integration: Integration) -> Credentials:
        try:
            raw: Any = self._provider.get(integration.secret_name, max_age=self._max_age, transform="json")
        except (GetParameterError, TransformParameterError) as exc:
            raise ConfigurationError(f"credentials of integration {integration.id} cannot be read") from exc
        try:
            return Credentials.model_validate(raw)
        except ValidationError as exc:
            # Never the message itself: pydantic would quote the input, i.e. the secret values.
            fields = sorted({".".join(str(part) for part in error["loc"]) for error in exc.errors()})
            raise ConfigurationError(
                f"credentials of integration {integration.id} are incomplete or invalid: {', '.join(fields)}"
            ) from None
