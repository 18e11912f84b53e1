"""WooCommerce records as ogosync's models: order states and holds by status, lines priced with tax, the shipping
address (billing as fallback), simple products and variations with their EAN (global_unique_id, else OGOship's
meta, inherited from the parent), `_nettivarasto_no_export`, and total parsers (any JSON: a model or our error)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ogosync.errors import UnreadableRecordError
from ogosync.models import HoldReason, StoreOrder, StoreOrderState, StoreProduct
from ogosync.stores.woocommerce.mapping import (
    OrderContext,
    gmt_datetime,
    order_line_items,
    parse_order,
    parse_product,
    parse_variation,
    plain_text,
)

EXAMPLES = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CONTEXT = OrderContext(frozenset({"processing"}))

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["", "0", "1.0", "-1", "1e999", "NaN", "2026-11-30T10:00:00", "yes", "on-hold", "variable"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)


def _order(status: str = "processing", **changes: Any) -> dict[str, Any]:
    order: dict[str, Any] = {
        "id": 727,
        "status": status,
        "currency": "EUR",
        "total": "36.20",
        "date_created_gmt": "2026-11-30T10:00:00",
        "customer_note": "Leave at the door",
        "billing": {"first_name": "Bill", "last_name": "Payer", "email": "b@example.com", "phone": "+358 1"},
        "shipping": {
            "first_name": "Ann",
            "last_name": "Smith",
            "company": "",
            "address_1": "Main St 1",
            "address_2": "",
            "city": "Helsinki",
            "state": "",
            "postcode": "00100",
            "country": "fi",
            "phone": "",
        },
        "line_items": [
            {
                "id": 1,
                "name": "Shirt",
                "sku": "SHIRT-M",
                "quantity": 2,
                "price": 10,
                "total": "20.00",
                "total_tax": "4.80",
            },
            {"id": 2, "name": "Gift", "sku": "", "quantity": 1, "price": 5.5, "total": None, "total_tax": None},
        ],
        "shipping_lines": [{"id": 9, "method_title": "Posti", "method_id": "flat_rate"}],
    }
    return order | changes


PRODUCT = {
    "id": 10,
    "type": "simple",
    "status": "publish",
    "name": "Mug",
    "sku": "MUG",
    "global_unique_id": "",
    "price": "9.90",
    "description": "<p>A <b>mug</b> &amp; more</p>",
    "short_description": "",
    "permalink": "https://shop.example/product/mug/",
    "images": [{"id": 1, "src": "https://shop.example/mug.jpg"}],
    "meta_data": [{"id": 1, "key": "_nettivarasto_eancode", "value": "6400000000017"}],
}
PARENT = {
    "id": 20,
    "type": "variable",
    "status": "publish",
    "name": "Shirt",
    "description": "Cotton",
    "permalink": "https://shop.example/product/shirt/",
    "images": [{"src": "https://shop.example/shirt.jpg"}],
    "meta_data": [{"key": "_nettivarasto_eancode", "value": "6400000000024"}],
}
VARIATION = {
    "id": 21,
    "status": "publish",
    "sku": "SHIRT-BLUE-L",
    "global_unique_id": "",
    "price": "19.00",
    "description": "",
    "permalink": "https://shop.example/product/shirt/?attribute_color=Blue",
    "image": {"src": ""},
    "attributes": [{"id": 1, "name": "Color", "option": "Blue"}, {"id": 2, "name": "Size", "option": "L"}],
    "meta_data": [],
}


def test_a_processing_order_is_paid_with_lines_priced_with_tax() -> None:
    order = parse_order(_order(), CONTEXT)

    assert order.order_id == "727" and order.state is StoreOrderState.PAID and order.holds == []
    assert order.placed_at == datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    assert [(line.line_id, line.sku, line.quantity, line.unit_price) for line in order.lines] == [
        ("1", "SHIRT-M", 2, Decimal("12.40")),
        ("2", "", 1, Decimal("5.5")),
    ]
    assert order.shipping_method == "Posti" and order.comment == "Leave at the door"
    assert order.total == Decimal("36.20") and order.currency == "EUR"
    customer = order.customer
    assert (customer.name, customer.address1, customer.zip, customer.country_code) == (
        "Ann Smith",
        "Main St 1",
        "00100",
        "FI",
    )
    assert (customer.email, customer.phone) == ("b@example.com", "+358 1")


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("pending", StoreOrderState.AWAITING_PAYMENT),
        ("on-hold", StoreOrderState.AWAITING_PAYMENT),
        ("cancelled", StoreOrderState.CANCELLED),
        ("refunded", StoreOrderState.CANCELLED),
        ("failed", StoreOrderState.CANCELLED),
        ("completed", StoreOrderState.FULFILLED),
        ("wc-custom", StoreOrderState.AWAITING_PAYMENT),
    ],
)
def test_order_states_follow_the_status(status: str, state: StoreOrderState) -> None:
    assert parse_order(_order(status), CONTEXT).state is state


@pytest.mark.parametrize(
    ("status", "holds_stock"),
    [("pending", False), ("checkout-draft", False), ("on-hold", True), ("processing", True), ("wc-custom", True)],
)
def test_a_pending_order_holds_no_stock_in_the_shop_one_on_hold_or_paid_does(status: str, holds_stock: bool) -> None:
    """WooCommerce takes the units from stock_quantity on processing, on-hold or completed, not while pending."""
    assert parse_order(_order(status), CONTEXT).holds_stock is holds_stock
    assert parse_order(_order(status), OrderContext(frozenset({status}))).holds_stock  # named paid: taken at payment


def test_on_hold_is_a_hold_in_the_store_and_merchant_statuses_count_as_paid() -> None:
    held = parse_order(_order("on-hold"), CONTEXT)
    assert [hold.reason for hold in held.holds] == [HoldReason.ON_HOLD_IN_STORE]

    mapped = parse_order(_order("awaiting-shipment"), OrderContext(frozenset({"processing", "awaiting-shipment"})))
    assert mapped.state is StoreOrderState.PAID


def test_the_billing_address_stands_in_for_a_missing_shipping_one_and_method_id_for_a_title() -> None:
    billing = {"first_name": "Bill", "last_name": "P", "address_1": "Side St 2", "city": "Espoo", "country": "FI"}
    order = parse_order(
        _order(shipping={}, billing=billing | {"email": "b@x.fi"}, shipping_lines=[{"method_id": "local_pickup"}]),
        CONTEXT,
    )
    assert (order.customer.name, order.customer.address1, order.customer.email) == ("Bill P", "Side St 2", "b@x.fi")
    assert order.shipping_method == "local_pickup"


@pytest.mark.parametrize(
    "changes",
    [{"id": None}, {"date_created_gmt": "yesterday"}, {"line_items": [{"id": 1, "quantity": -1, "price": 1}]}],
)
def test_an_unreadable_order_is_our_error(changes: dict[str, Any]) -> None:
    with pytest.raises(UnreadableRecordError):
        parse_order(_order() | changes, CONTEXT)


def test_line_items_for_a_shipment_leave_unreadable_ones_out() -> None:
    assert order_line_items(_order(line_items=[{"id": 1, "sku": " A ", "quantity": 2}, {"id": "x"}])) == [("1", "A", 2)]


def test_a_simple_product_with_the_ean_from_ogoships_meta() -> None:
    product = parse_product(PRODUCT, "EUR")

    assert product is not None
    assert product.store_ids == {"product": "10"} and product.sku == "MUG" and product.ean == "6400000000017"
    assert product.description == "A mug & more" and product.price == Decimal("9.90") and product.currency == "EUR"
    assert product.image_url == "https://shop.example/mug.jpg" and product.active
    assert product.product_url == "https://shop.example/product/mug/"


def test_global_unique_id_wins_and_no_export_skips() -> None:
    found = parse_product(PRODUCT | {"global_unique_id": "0012345678905"}, None)
    assert found is not None and found.ean == "0012345678905"

    excluded = PRODUCT | {"meta_data": [{"key": "_nettivarasto_no_export", "value": "yes"}]}
    assert parse_product(excluded, None) is None
    assert parse_product(PRODUCT | {"type": "grouped"}, None) is None


def test_a_variation_inherits_empty_fields_from_its_parent() -> None:
    variation = parse_variation(VARIATION, PARENT, "EUR")

    assert variation is not None
    assert variation.store_ids == {"product": "20", "variation": "21"}
    assert variation.name == "Shirt - Blue, L" and variation.ean == "6400000000024"
    assert variation.description == "Cotton" and variation.image_url == "https://shop.example/shirt.jpg"
    assert variation.active

    parent_off = PARENT | {"meta_data": [{"key": "_nettivarasto_no_export", "value": "yes"}]}
    assert parse_variation(VARIATION, parent_off, None) is None
    own_on = VARIATION | {"meta_data": [{"key": "_nettivarasto_no_export", "value": "no"}]}
    assert parse_variation(own_on, parent_off, None) is not None
    draft = parse_variation(VARIATION, PARENT | {"status": "draft"}, None)
    assert draft is not None and not draft.active


def test_gmt_dates_are_utc() -> None:
    assert gmt_datetime("2026-11-30T10:00:00") == datetime(2026, 11, 30, 10, tzinfo=UTC)
    assert gmt_datetime("not a date") is None and gmt_datetime(7) is None


# ---- total parsers ----------------------------------------------------------------------------------------


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += _paths(inner, (*prefix, index))
    return found


ORDER = _order()
ORDER_PATHS = _paths(ORDER)
PRODUCT_PATHS = _paths(PRODUCT)
VARIATION_PATHS = _paths(VARIATION)
PARENT_PATHS = _paths(PARENT)


def _outcome(parse: Any, *args: Any) -> object:
    """What a parser gives: its model (or None: excluded), or the UnreadableRecordError it raised."""
    try:
        return parse(*args)
    except UnreadableRecordError as error:
        return error


def _replaced(raw: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(raw)
    target: Any = changed
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return changed


@EXAMPLES
@given(path=st.sampled_from(ORDER_PATHS), value=json_values)
def test_any_json_anywhere_in_an_order_gives_an_order_or_our_error(path: tuple[Any, ...], value: Any) -> None:
    assert isinstance(_outcome(parse_order, _replaced(ORDER, path, value), CONTEXT), StoreOrder | UnreadableRecordError)


@EXAMPLES
@given(value=json_values)
def test_any_json_as_an_order_gives_an_order_or_our_error(value: Any) -> None:
    assert isinstance(_outcome(parse_order, value, CONTEXT), StoreOrder | UnreadableRecordError)
    assert isinstance(order_line_items({"line_items": value}), list)


@EXAMPLES
@given(path=st.sampled_from(PRODUCT_PATHS), value=json_values)
def test_any_json_anywhere_in_a_product_gives_a_product_or_our_error(path: tuple[Any, ...], value: Any) -> None:
    outcome = _outcome(parse_product, _replaced(PRODUCT, path, value), "EUR")
    assert outcome is None or isinstance(outcome, StoreProduct | UnreadableRecordError)


@EXAMPLES
@given(
    path=st.sampled_from(
        [("variation", path) for path in VARIATION_PATHS] + [("parent", path) for path in PARENT_PATHS]
    ),
    value=json_values,
)
def test_any_json_anywhere_in_a_variation_or_its_parent_gives_a_product_or_our_error(
    path: tuple[str, tuple[Any, ...]], value: Any
) -> None:
    which, where = path
    variation = _replaced(VARIATION, where, value) if which == "variation" else VARIATION
    parent = _replaced(PARENT, where, value) if which == "parent" else PARENT
    outcome = _outcome(parse_variation, variation, parent, "EUR")
    assert outcome is None or isinstance(outcome, StoreProduct | UnreadableRecordError)


@EXAMPLES
@given(value=json_values, parent=json_values)
def test_any_json_as_a_product_or_variation_gives_a_product_or_our_error(value: Any, parent: Any) -> None:
    for outcome in (
        _outcome(parse_product, value, None),
        _outcome(parse_variation, value, parent if isinstance(parent, dict) else PARENT, None),
    ):
        assert outcome is None or isinstance(outcome, StoreProduct | UnreadableRecordError)


@EXAMPLES
@given(markup=st.text(max_size=80))
def test_plain_text_takes_any_text(markup: str) -> None:
    assert isinstance(plain_text(markup), str)
