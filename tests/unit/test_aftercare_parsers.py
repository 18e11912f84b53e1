"""myOGO's copy of an order, as aftercare reads it: any JSON gives a model or ogosync's own typed error."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ogosync.errors import PlatformError
from ogosync.models import WarehouseCustomer, WarehouseOrderLine, order_content_hash
from ogosync.warehouse.myogo import parse_order_content

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=10,
)
ORDER = {
    "reference": "A-1001",
    "status": "New",
    "customer": {"name": "Anna", "address1": "Storgatan 1", "city": "Stockholm", "countryCode": "SE"},
    "orderLines": [{"code": "TS100BLKM", "quantity": 2}],
    "editTime": "2026-11-27T09:00:00Z",
}


@settings(max_examples=300)
@given(st.sampled_from(sorted(ORDER)), json_values)
def test_any_json_in_any_field_gives_a_model_or_a_platform_error(field: str, value: Any) -> None:
    try:
        parsed = parse_order_content({**ORDER, field: value})
    except PlatformError:
        return
    assert parsed.status == parsed.status.lower()


@settings(max_examples=100)
@given(json_values)
def test_anything_in_place_of_the_order_gives_a_model_or_a_platform_error(value: Any) -> None:
    try:
        parse_order_content(value)
    except PlatformError:
        return


def test_the_digest_ignores_line_order_and_splits_but_sees_addresses_and_quantities() -> None:
    anna = WarehouseCustomer(name="Anna", address1="Storgatan 1", city="Stockholm", country_code="SE")
    lines = [WarehouseOrderLine(code="A", quantity=1), WarehouseOrderLine(code="B", quantity=2)]
    split = [WarehouseOrderLine(code="B", quantity=1), WarehouseOrderLine(code="A", quantity=1)]
    same = [*split, WarehouseOrderLine(code="B", quantity=1)]
    moved = anna.model_copy(update={"address1": "Kungsgatan 2"})

    assert order_content_hash(anna, lines) == order_content_hash(anna, same)
    assert order_content_hash(anna, lines) != order_content_hash(moved, lines)
    assert order_content_hash(anna, lines) != order_content_hash(anna, lines[:1])
