"""Shopify orders and variants as ogosync's models: the mapping rules, and totality (any JSON anywhere gives a
model or UnreadableRecordError, never another exception)."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ogosync.errors import UnreadableRecordError
from ogosync.models import HoldReason, StoreOrder, StoreOrderState, StoreProduct
from ogosync.stores.shopify.mapping import (
    OrderContext,
    TruncatedOrderError,
    gid,
    parse_order,
    parse_variant,
    plain_text,
)
from tests.unit.test_shopify_store import LOCATION, OTHER_LOCATION, VARIANT, _fo, _order

CONTEXT = OrderContext(LOCATION, frozenset({"PAID"}))
EXAMPLES = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["", "0", "1.0", "-1", "1e999", "NaN", "2026-11-30T10:00:00Z", LOCATION, "ON_HOLD", "HIGH"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def test_a_paid_order_at_our_location_maps_fully() -> None:
    order = parse_order(_order(1001), CONTEXT)

    assert (order.order_id, order.state, order.currency, order.total) == ("1001", StoreOrderState.PAID, "EUR", 20)
    assert order.shipping_method == "Posti" and order.holds == []
    assert (order.customer.name, order.customer.country_code, order.customer.email) == ("A B", "FI", "a@example.com")
    [line] = order.lines
    assert (line.sku, line.quantity, line.unit_price, line.name) == ("SKU-1", 2, Decimal("10.0"), "Shirt - M")
    assert line.line_id == "gid://shopify/FulfillmentOrderLineItem/100110"


def test_only_lines_of_fulfillment_orders_at_our_location_are_read() -> None:
    raw = _order(1, fulfillment_orders=[_fo("1", [("OURS", 1)]), _fo("2", [("THEIRS", 1)], location=OTHER_LOCATION)])

    assert [line.sku for line in parse_order(raw, CONTEXT).lines] == ["OURS"]


def test_a_line_without_sku_has_an_empty_sku() -> None:
    raw = _order(1, fulfillment_orders=[_fo("1", [("", 1)])])
    raw["fulfillmentOrders"]["nodes"][0]["lineItems"]["nodes"][0]["sku"] = None

    assert parse_order(raw, CONTEXT).lines[0].sku == ""


@pytest.mark.parametrize(
    ("changes", "state"),
    [
        ({"displayFinancialStatus": "PENDING"}, StoreOrderState.AWAITING_PAYMENT),
        ({"displayFinancialStatus": "AUTHORIZED"}, StoreOrderState.AWAITING_PAYMENT),
        ({"cancelledAt": "2026-11-30T11:00:00Z"}, StoreOrderState.CANCELLED),
        ({"fulfillment_orders": [_fo("1", [("A", 1)], status="CLOSED")]}, StoreOrderState.FULFILLED),
        ({"fulfillment_orders": [_fo("1", [("A", 1)], location=OTHER_LOCATION)]}, StoreOrderState.NOT_FOR_WAREHOUSE),
        ({"fulfillment_orders": []}, StoreOrderState.NOT_FOR_WAREHOUSE),
    ],
)
def test_order_states(changes: dict[str, Any], state: StoreOrderState) -> None:
    assert parse_order(_order(1, **changes), CONTEXT).state is state


def test_paid_statuses_are_a_setting() -> None:
    raw = _order(1, displayFinancialStatus="AUTHORIZED")

    assert parse_order(raw, OrderContext(LOCATION, frozenset({"PAID", "AUTHORIZED"}))).state is StoreOrderState.PAID


def test_an_on_hold_fulfillment_order_is_a_hold_with_its_reasons() -> None:
    raw = _order(1, fulfillment_orders=[_fo("1", [("A", 1)], status="ON_HOLD")])

    [hold] = parse_order(raw, CONTEXT).holds
    assert hold.reason is HoldReason.ON_HOLD_IN_STORE and "OTHER: check" in hold.detail


def test_high_fraud_risk_is_a_hold() -> None:
    raw = _order(1, risk={"recommendation": "INVESTIGATE", "assessments": [{"riskLevel": "HIGH"}]})

    assert [hold.reason for hold in parse_order(raw, CONTEXT).holds] == [HoldReason.SUSPECTED_FRAUD]


def test_a_truncated_order_says_so() -> None:
    with pytest.raises(TruncatedOrderError):
        parse_order(_order(1, fulfillment_orders=[_fo("1", [("A", 1)], more=True)]), CONTEXT)


def test_a_variant_maps_to_a_product() -> None:
    own_image = {**VARIANT, "title": "Blue", "image": {"url": "https://cdn.example/blue.jpg"}}
    product = parse_variant(own_image | {"product": {**VARIANT["product"], "status": "DRAFT"}}, "EUR")

    assert (product.name, product.image_url, product.active, product.ean) == (
        "Shirt - Blue",
        "https://cdn.example/blue.jpg",
        False,
        "6400000000017",
    )
    assert product.price == Decimal("19.90") and product.product_url is None


def test_a_variant_without_sku_has_none() -> None:
    assert parse_variant({**VARIANT, "sku": ""}, "EUR").sku is None


def test_plain_text_of_description_html() -> None:
    assert plain_text("<h2>Fit</h2><p>Soft&nbsp;&amp; <b>warm</b></p><ul><li>one</li><li>two</li></ul>") == (
        "Fit\nSoft & warm\none\ntwo"
    )


@pytest.mark.parametrize(("value", "expected"), [("7", "gid://shopify/Location/7"), (LOCATION, LOCATION)])
def test_location_ids_become_gids(value: str, expected: str) -> None:
    assert gid("Location", value) == expected


def test_a_gid_of_another_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="not a Shopify Location id"):
        gid("Location", "gid://shopify/Order/7")


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += _paths(inner, (*prefix, index))
    return found


ORDER = _order(1, fulfillment_orders=[_fo("1", [("A", 1), ("B", 2)]), _fo("2", [("C", 1)], status="ON_HOLD")])
ORDER_PATHS = _paths(ORDER)
VARIANT_PATHS = _paths(VARIANT)


def _outcome(parse: Any, *args: Any) -> object:
    """What a parser gives: its model, or the UnreadableRecordError it raised (any other exception fails)."""
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


@EXAMPLES
@given(path=st.sampled_from(VARIANT_PATHS), value=json_values)
def test_any_json_anywhere_in_a_variant_gives_a_product_or_our_error(path: tuple[Any, ...], value: Any) -> None:
    assert isinstance(
        _outcome(parse_variant, _replaced(VARIANT, path, value), "EUR"), StoreProduct | UnreadableRecordError
    )


@EXAMPLES
@given(value=json_values)
def test_any_json_as_a_variant_gives_a_product_or_our_error(value: Any) -> None:
    assert isinstance(_outcome(parse_variant, value, None), StoreProduct | UnreadableRecordError)


@EXAMPLES
@given(markup=st.text(max_size=80))
def test_plain_text_takes_any_text(markup: str) -> None:
    assert isinstance(plain_text(markup), str)
