"""WooCommerce's own settings of an integration (Integration.store_options), checked at set-up and by the factory."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator


class WooCommerceOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    paid_statuses: list[str] = Field(
        default_factory=lambda: ["processing"],
        min_length=1,
        description="order statuses that count as paid (WooCommerce's slugs, e.g. processing)",
    )
    complete_order: bool = Field(
        default=True, description="set the order to completed when shipped (WooCommerce e-mails the customer)"
    )
    customer_note: bool = Field(default=True, description="add a customer note with the carrier and tracking codes")

    @field_validator("paid_statuses")
    @classmethod
    def _slugs(cls, value: list[str]) -> list[str]:
        statuses = [status.strip().lower().removeprefix("wc-") for status in value if status.strip()]
        if not statuses:
            raise ValueError("name at least one order status that counts as paid (e.g. processing)")
        return statuses
