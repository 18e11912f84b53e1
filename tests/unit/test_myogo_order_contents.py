"""find_order tells an order's lines and delivery address, so that "already exists" is adopted only for the same
order (design invariant 8). What cannot be read is None, never a guess and never another exception."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ogosync.models import Address, ShippedLine
from ogosync.warehouse.myogo import parse_order_state

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def _order(**changes: Any) -> dict[str, Any]:
    return {
        "id": "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
        "reference": "ACME-1001",
        "status": "New",
        "customer": {
            "name": "Test Person",
            "address1": "Teknobulevardi 3-5",
            "city": "Vantaa",
            "zip": "01530",
            "countryCode": "FI",
            "email": "foo@bar.com",
        },
        "orderLines": [{"code": "SKU-1", "quantity": 2, "unitPrice": 12.40}, {"code": "SKU-2", "quantity": "1"}],
    } | changes


def test_an_order_response_gives_its_lines_and_delivery_address() -> None:
    state = parse_order_state(_order())

    assert state.lines == [ShippedLine(code="SKU-1", quantity=2), ShippedLine(code="SKU-2", quantity=1)]
    assert state.customer == Address(
        name="Test Person", address1="Teknobulevardi 3-5", zip="01530", city="Vantaa", country_code="FI"
    )


def test_lines_with_any_unreadable_line_are_not_told() -> None:
    for lines in ([None], [{"code": "SKU-1", "quantity": "1.0"}], [{"code": "SKU-1", "quantity": True}], {"0": {}}):
        assert parse_order_state(_order(orderLines=lines)).lines is None


def test_a_missing_customer_is_not_told() -> None:
    assert parse_order_state(_order(customer=None)).customer is None
    assert parse_order_state(_order(customer="Test Person")).customer is None


@settings(max_examples=150)
@given(lines=JSON, customer=JSON)
def test_any_json_as_lines_or_customer_gives_a_state(lines: object, customer: object) -> None:
    state = parse_order_state(_order(orderLines=lines, customer=customer))

    assert state.lines is None or all(isinstance(line, ShippedLine) for line in state.lines)
    assert state.customer is None or isinstance(state.customer, Address)
