"""Shopify's own settings of an integration (Integration.store_options), checked at set-up and by the factory."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ogosync.stores.shopify.mapping import gid


class ShopifyOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    location_id: str = Field(
        description="the Shopify location that is the warehouse: its numeric id or gid://shopify/Location/N"
    )
    paid_statuses: list[str] = Field(
        default_factory=lambda: ["PAID"],
        min_length=1,
        description="Order.displayFinancialStatus values that count as paid",
    )
    notify_customer: bool = Field(default=True, description="fulfillmentCreate's notifyCustomer")

    @field_validator("location_id")
    @classmethod
    def _a_location(cls, value: str) -> str:
        return gid("Location", value)

    @field_validator("paid_statuses")
    @classmethod
    def _upper(cls, value: list[str]) -> list[str]:
        statuses = [status.strip().upper() for status in value if status.strip()]
        if not statuses:
            raise ValueError("name at least one displayFinancialStatus that counts as paid (e.g. PAID)")
        return statuses
