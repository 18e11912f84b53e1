"""Builders of domain objects for tests."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ogosync.models import Address, Hold, Integration, OrderLine, Platform, StoreOrder, StoreOrderState

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)  # Black Friday morning


def make_integration(integration_id: str = "acme-centra", **changes: Any) -> Integration:
    values: dict[str, Any] = {
        "id": integration_id,
        "platform": Platform.CENTRA,
        "merchant_name": "Acme Apparel",
        "store_base_url": "http://127.0.0.1:1/api/ogosync",
        "myogo_base_url": "http://127.0.0.1:2",
        "myogo_token_url": "http://127.0.0.1:2/OAuth/Token",
        "warehouse": "TLL",
        "time_zone": "Europe/Stockholm",
        "secret_name": f"ogosync/{integration_id}",
    }
    return Integration.model_validate(values | changes)


def make_order(
    order_id: str = "1001",
    *,
    placed_at: datetime = T0,
    state: StoreOrderState = StoreOrderState.PAID,
    holds: list[Hold] | None = None,
    shipping_method: str | None = "standard",
    skus: tuple[str, ...] = ("TSHIRT-BLK-M",),
    customer: Address | None = None,
) -> StoreOrder:
    return StoreOrder(
        order_id=order_id,
        placed_at=placed_at,
        state=state,
        holds=holds or [],
        currency="EUR",
        total=Decimal("49.90") * len(skus),
        shipping_method=shipping_method,
        customer=customer
        or Address(
            name="Maija Meikäläinen",
            address1="Teknobulevardi 3-5",
            zip="01530",
            city="Vantaa",
            country_code="FI",
            email="maija@example.com",
            phone="+358401234567",
        ),
        lines=[
            OrderLine(
                line_id=str(index),
                sku=sku,
                name=sku,
                quantity=1,
                unit_price=Decimal("49.90"),
                vat_percentage=Decimal("25.5"),
            )
            for index, sku in enumerate(skus, start=1)
        ],
    )
