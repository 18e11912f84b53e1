"""Each store platform's credentials, one model per platform, told apart by `platform` (a discriminated union).

They are kept in the integration's Secrets Manager secret beside the myOGO ones (models.Credentials) and reach
only the platform's own adapter (stores/registry.py). SecretStr keeps every secret out of reprs and logs.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

_STRICT = ConfigDict(extra="forbid", defer_build=True)


class CentraCredentials(BaseModel):
    """Centra's Order API plugin: its secret API key."""

    model_config = _STRICT

    platform: Literal["centra"] = "centra"
    api_key: SecretStr = Field(min_length=1)


class ShopifyCredentials(BaseModel):
    """A Shopify app of the merchant's: a client id and secret (the client-credentials grant, tokens of about 24 h)
    or the Admin API access token of an existing custom app. Exactly one of the two."""

    model_config = _STRICT

    platform: Literal["shopify"] = "shopify"
    client_id: str | None = Field(default=None, min_length=1)
    client_secret: SecretStr | None = None
    access_token: SecretStr | None = None

    @model_validator(mode="after")
    def _one_way_in(self) -> Self:
        grant = self.client_id is not None and self.client_secret is not None
        if grant == (self.access_token is not None) or (self.client_id is None) != (self.client_secret is None):
            raise ValueError("give either client_id and client_secret, or access_token")
        return self


class WooCommerceCredentials(BaseModel):
    """A WooCommerce REST API key pair (WooCommerce -> Settings -> Advanced -> REST API), read/write."""

    model_config = _STRICT

    platform: Literal["woocommerce"] = "woocommerce"
    consumer_key: SecretStr = Field(min_length=1)
    consumer_secret: SecretStr = Field(min_length=1)


StoreCredentials = Annotated[
    CentraCredentials | ShopifyCredentials | WooCommerceCredentials, Field(discriminator="platform")
]
