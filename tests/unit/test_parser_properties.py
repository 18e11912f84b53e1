"""Invariant 7: every parser of external data is total. Any JSON in place of any field of a Centra order, a myOGO
order or a myOGO stock row gives a model or ogosync's own typed error (UnreadableRecordError), never another
exception; the adapters turn that error into an UnreadableOrder / UnidentifiedOrder / UnreadableWarehouseRecord."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from ogosync.errors import UnreadableRecordError
from ogosync.http import HttpClient
from ogosync.models import (
    StoreOrder,
    UnidentifiedOrder,
    UnreadableOrder,
    WarehouseOrderChange,
    WarehouseOrderState,
    WarehouseStockLevel,
)
from ogosync.stores.centra.client import CentraStore
from ogosync.stores.centra.mapping import parse_order
from ogosync.warehouse.myogo import parse_order_change, parse_order_state, parse_stock_level
from tests.unit.test_centra_store import NOW, raw_order

ZONE = ZoneInfo("Europe/Stockholm")
EXAMPLES = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["", "0", "1.0", "-1", "1e999", "NaN", "0000-00-00 00:00:00", "9999-12-31 23:59:59"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)

MYOGO_ORDER: dict[str, Any] = {
    "id": "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
    "reference": "1001",
    "status": "Shipped",
    "trackingNumber": "JJFI1,JJFI2",
    "trackingUrl": "https://track.example/JJFI1",
    "shippingCode": "POSTI",
    "orderLines": [{"code": "SKU-1", "quantity": 2}],
    "editTime": "2026-06-01T12:00:00Z",
}
STOCK_ROW: dict[str, Any] = {
    "productCode": "SKU-1",
    "stockAvailable": 5,
    "stock": 7,
    "reserved": 2,
    "modified": "2026-06-01T12:00:00Z",
}


def _parsed(parse: Callable[[Any], BaseModel], raw: Any) -> BaseModel | UnreadableRecordError:
    """What a parser makes of `raw`: its model or our typed error; any other exception fails the test."""
    try:
        return parse(raw)
    except UnreadableRecordError as exc:
        return exc


def _replaced(record: dict[str, Any], line_key: str, field: str, value: Any, in_line: bool) -> dict[str, Any]:
    changed = copy.deepcopy(record)
    if in_line and isinstance(changed.get(line_key), list) and changed[line_key]:
        changed[line_key][0][field] = value
    else:
        changed[field] = value
    return changed


def _centra_fields() -> list[str]:
    return [*raw_order(), "shipments", "orderStatus", "deliveryFirstName", "isBundle"]


def _line_fields() -> list[str]:
    return [*raw_order()["products"][0], "isBundle"]


@EXAMPLES
@given(st.sampled_from(_centra_fields()), st.sampled_from(_line_fields()), json_values, st.booleans())
def test_any_json_in_any_field_of_a_centra_order_is_an_order_or_our_error(
    field: str, line_field: str, value: Any, in_line: bool
) -> None:
    raw = _replaced(raw_order(), "products", line_field if in_line else field, value, in_line)
    order = _parsed(lambda record: parse_order(record, ZONE), raw)
    assert isinstance(order, UnreadableRecordError) or (isinstance(order, StoreOrder) and order.order_id)


@EXAMPLES
@given(json_values)
def test_any_json_as_a_whole_centra_order_is_an_order_or_our_error(raw: Any) -> None:
    assert isinstance(_parsed(lambda record: parse_order(record, ZONE), raw), StoreOrder | UnreadableRecordError)


@EXAMPLES
@given(st.sampled_from([*MYOGO_ORDER, "lines"]), st.sampled_from(["code", "quantity"]), json_values, st.booleans())
def test_any_json_in_any_field_of_a_myogo_order_is_a_model_or_our_error(
    field: str, line_field: str, value: Any, in_line: bool
) -> None:
    raw = _replaced(MYOGO_ORDER, "orderLines", line_field if in_line else field, value, in_line)
    change, state = _parsed(parse_order_change, raw), _parsed(parse_order_state, raw)
    assert isinstance(change, WarehouseOrderChange | UnreadableRecordError)
    assert isinstance(state, WarehouseOrderState | UnreadableRecordError)


@EXAMPLES
@given(st.sampled_from(list(STOCK_ROW)), json_values)
def test_any_json_in_any_field_of_a_myogo_stock_row_is_a_level_or_our_error(field: str, value: Any) -> None:
    level = _parsed(parse_stock_level, STOCK_ROW | {field: value})
    assert isinstance(level, UnreadableRecordError) or (isinstance(level, WarehouseStockLevel) and level.code)


@EXAMPLES
@given(json_values)
def test_any_json_as_a_whole_myogo_record_is_a_model_or_our_error(raw: Any) -> None:
    models = (WarehouseOrderChange, WarehouseOrderState, WarehouseStockLevel)
    for parse, model in zip((parse_order_change, parse_order_state, parse_stock_level), models, strict=True):
        assert isinstance(_parsed(parse, raw), model | UnreadableRecordError)


@pytest.mark.parametrize(
    ("element", "expected"),
    [
        (raw_order("2", products={"3": raw_order()["products"][0]}), StoreOrder),  # PHP's filtered array
        (raw_order("3", products=[None]), UnreadableOrder),
        (raw_order("4", shipments=["4-1"], orderStatus=None), UnreadableOrder),
        (raw_order("5", products=[raw_order()["products"][0] | {"qty": "1.5"}]), UnreadableOrder),
        (raw_order("6", deliveryAddress={"street": "x"}), UnreadableOrder),
        (raw_order("7", orderDate="0000-00-00 00:00:00"), UnreadableOrder),
        (raw_order("8", orderDate="0001-01-01 00:30:00"), UnreadableOrder),
        (None, UnidentifiedOrder),
        ("83651", UnidentifiedOrder),
        (raw_order("", grandTotalValue="x"), UnidentifiedOrder),
        (raw_order("9") | {"orderId": {"id": 9}}, UnidentifiedOrder),
    ],
)
def test_the_store_lists_every_element_without_raising(element: Any, expected: type) -> None:
    with respx.mock(base_url="http://centra.test/api") as api:
        body = {"status": "ok", "orders": [raw_order("1"), element, raw_order("10")]}
        api.get("/orders").mock(return_value=httpx.Response(200, json=body))
        store = CentraStore(
            "http://centra.test/api",
            "key",
            ZONE,
            clock=lambda: NOW,
            http=HttpClient("centra", "http://centra.test/api"),
        )

        orders = list(store.orders_placed_since(NOW))

    assert [type(order) for order in orders] == [StoreOrder, expected, StoreOrder]
    if isinstance(orders[1], UnreadableOrder | UnidentifiedOrder):
        assert orders[1].problem
