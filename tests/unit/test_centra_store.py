"""Centra Order API adapter: SKU rule, order parsing, paging of GET /orders, error shapes."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import respx

from ogosync.errors import (
    AuthenticationError,
    PlatformError,
    RejectedByPlatformError,
    TransientPlatformError,
    UnreadableRecordError,
)
from ogosync.http import HttpClient, RetryPolicy
from ogosync.models import HoldReason, ShipmentToPush, StoreOrder, StoreOrderState, UnreadableOrder
from ogosync.stores.centra.client import CentraStore
from ogosync.stores.centra.mapping import centra_sku, parse_order, parse_product

BASE = "http://centra.test/api/ogosync"
API_KEY = "centra-secret-key-123"
STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = datetime(2026, 6, 1, 16, 0, tzinfo=UTC)


def raw_order(order_id: str = "83651", **changes: Any) -> dict[str, Any]:
    """A GET /orders element shaped as in the reference (§1.2), with a status."""
    order: dict[str, Any] = {
        "orderId": order_id,
        "orderStatus": "Confirmed",
        "orderDate": "2026-06-01 14:16:13",
        "orderCurrency": "SEK",
        "grandTotalValue": "901.00",
        "deliveryName": "Someones Name",
        "deliveryCompany": "",
        "deliveryAddress": "Examplestreet 1",
        "deliveryCoaddress": "",
        "deliveryZipcode": "12345",
        "deliveryCity": "Somecity",
        "deliveryCountry": "se",
        "deliveryEmail": "someone@example.com",
        "deliveryCell": "+46701234567",
        "shippingList": "standard",
        "hold": 0,
        "waitingForPayment": 0,
        "suspect": 0,
        "products": [
            {
                "lineId": "43243",
                "sku": "S123",
                "variantSku": "K345",
                "sizeSku": "U1",
                "ean": "1234567890123",
                "name": "Product #1",
                "variant": "White",
                "size": "XS",
                "qty": 2,
                "price": 450.5,
                "taxPercent": 25,
            }
        ],
    }
    order.update(changes)
    return order


# ---- SKU ------------------------------------------------------------------------------------------


def test_centra_sku_concatenates_product_variant_size_in_that_order() -> None:
    assert centra_sku("S123", "K345", "U1", "1234567890123") == "S123K345U1"
    assert centra_sku("123123", "789", "01", "") == "12312378901"


def test_centra_sku_with_only_one_part_missing_still_concatenates() -> None:
    assert centra_sku("P1", "", "XL", "999") == "P1XL"
    assert centra_sku("P1", "V2", "", "999") == "P1V2"


def test_centra_sku_falls_back_to_ean_when_variant_and_size_are_empty() -> None:
    assert centra_sku("M411-740", "", "", "7350000000017") == "7350000000017"


def test_centra_sku_without_parts_nor_ean_is_the_product_sku() -> None:
    assert centra_sku("M411-740", "", "", "") == "M411-740"


# ---- statuses -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("Pending", StoreOrderState.PAID),
        ("Confirmed", StoreOrderState.PAID),
        ("Processing", StoreOrderState.PAID),
        ("Completed", StoreOrderState.FULFILLED),
        ("Shipped", StoreOrderState.FULFILLED),
        ("Archived", StoreOrderState.FULFILLED),
        ("Cancelled", StoreOrderState.CANCELLED),
        ("PENDING", StoreOrderState.PAID),
        (" confirmed ", StoreOrderState.PAID),
        ("1", StoreOrderState.PAID),
        ("2", StoreOrderState.PAID),
        ("3", StoreOrderState.PAID),
        ("4", StoreOrderState.FULFILLED),
        ("5", StoreOrderState.FULFILLED),
        ("6", StoreOrderState.CANCELLED),
        (2, StoreOrderState.PAID),
        (6, StoreOrderState.CANCELLED),
    ],
)
def test_status_names_and_numbers(status: Any, state: StoreOrderState) -> None:
    order = parse_order(raw_order(orderStatus=status), STOCKHOLM)
    assert order.state is state
    assert order.holds == []


@pytest.mark.parametrize("status", ["Incomplete", "0"])
def test_incomplete_order_awaits_payment(status: str) -> None:
    order = parse_order(raw_order(orderStatus=status), STOCKHOLM)
    assert order.state is StoreOrderState.AWAITING_PAYMENT
    assert [hold.reason for hold in order.holds] == [HoldReason.AWAITING_PAYMENT]


@pytest.mark.parametrize("status", ["Refunded", "7", "paid"])
def test_unknown_status_is_rejected(status: str) -> None:
    with pytest.raises(UnreadableRecordError, match="unknown orderStatus") as caught:
        parse_order(raw_order("77", orderStatus=status), STOCKHOLM)
    assert caught.value.platform == "centra"
    assert "77" in str(caught.value)


def test_missing_status_is_paid() -> None:
    raw = raw_order()
    del raw["orderStatus"]
    assert parse_order(raw, STOCKHOLM).state is StoreOrderState.PAID


def test_empty_status_is_paid() -> None:
    assert parse_order(raw_order(orderStatus=""), STOCKHOLM).state is StoreOrderState.PAID


def test_missing_status_with_an_unshipped_shipment_is_paid() -> None:
    raw = raw_order(shipments=[{"shipmentId": "83651-1", "shippedDate": None}])
    del raw["orderStatus"]
    assert parse_order(raw, STOCKHOLM).state is StoreOrderState.PAID


@pytest.mark.parametrize("zero", ["0000-00-00 00:00:00", "0000-00-00", "", None, False])
def test_a_zero_shipped_date_is_not_shipped(zero: Any, api: respx.MockRouter) -> None:
    shipments = [{"shipmentId": "83651-1", "shippedDate": zero, "trackingId": ""}]
    raw = raw_order(shipments=shipments)
    del raw["orderStatus"]
    api.get("/orders").mock(return_value=httpx.Response(200, json={"status": "ok", "orders": [raw]}))

    assert parse_order(raw, STOCKHOLM).state is StoreOrderState.PAID
    assert [shipment.shipped for shipment in _store().order_shipments("83651")] == [False]


def test_missing_status_with_a_shipped_shipment_is_fulfilled() -> None:
    raw = raw_order(
        shipments=[
            {"shipmentId": "83651-1", "shippedDate": ""},
            {"shipmentId": "83651-2", "shippedDate": "2026-06-02 10:00:00"},
        ]
    )
    del raw["orderStatus"]
    assert parse_order(raw, STOCKHOLM).state is StoreOrderState.FULFILLED


# ---- holds ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("flag", [1, "1", True, "true"])
def test_waiting_for_payment_becomes_a_hold(flag: Any) -> None:
    order = parse_order(raw_order(waitingForPayment=flag), STOCKHOLM)
    assert order.state is StoreOrderState.AWAITING_PAYMENT
    assert [hold.reason for hold in order.holds] == [HoldReason.AWAITING_PAYMENT]


def test_waiting_for_payment_does_not_revive_a_cancelled_order() -> None:
    order = parse_order(raw_order(orderStatus="Cancelled", waitingForPayment=1), STOCKHOLM)
    assert order.state is StoreOrderState.CANCELLED


def test_hold_flag_becomes_a_hold() -> None:
    order = parse_order(raw_order(hold=1), STOCKHOLM)
    assert order.state is StoreOrderState.PAID
    assert [hold.reason for hold in order.holds] == [HoldReason.ON_HOLD_IN_STORE]


def test_suspect_flag_becomes_a_hold() -> None:
    order = parse_order(raw_order(suspect="1"), STOCKHOLM)
    assert order.state is StoreOrderState.PAID
    assert [hold.reason for hold in order.holds] == [HoldReason.SUSPECTED_FRAUD]


def test_all_flags_give_all_holds() -> None:
    order = parse_order(raw_order(waitingForPayment=1, hold=1, suspect=1), STOCKHOLM)
    assert {hold.reason for hold in order.holds} == {
        HoldReason.AWAITING_PAYMENT,
        HoldReason.ON_HOLD_IN_STORE,
        HoldReason.SUSPECTED_FRAUD,
    }
    assert all(hold.detail.startswith("Centra") for hold in order.holds)


@pytest.mark.parametrize("flag", [0, "0", None, "", False])
def test_cleared_flags_give_no_holds(flag: Any) -> None:
    order = parse_order(raw_order(waitingForPayment=flag, hold=flag, suspect=flag), STOCKHOLM)
    assert order.holds == []


# ---- fields ---------------------------------------------------------------------------------------


def test_local_order_date_becomes_utc() -> None:
    summer = parse_order(raw_order(orderDate="2026-06-01 14:16:13"), STOCKHOLM)
    winter = parse_order(raw_order(orderDate="2026-01-15 14:16:13"), STOCKHOLM)
    assert summer.placed_at == datetime(2026, 6, 1, 12, 16, 13, tzinfo=UTC)
    assert winter.placed_at == datetime(2026, 1, 15, 13, 16, 13, tzinfo=UTC)
    assert summer.placed_at.utcoffset() is not None


def test_order_date_in_the_repeated_hour_takes_the_earlier_instant() -> None:
    order = parse_order(raw_order(orderDate="2026-10-25 02:30:00"), STOCKHOLM)
    assert order.placed_at == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_order_header_fields() -> None:
    order = parse_order(raw_order(otherComment="Leave at door", shipwallet_pickup="SP-7123"), STOCKHOLM)
    assert order.order_id == "83651"
    assert order.currency == "SEK"
    assert order.total == Decimal("901.00")
    assert order.shipping_method == "standard"
    assert order.pickup_point == "SP-7123"
    assert order.comment == "Leave at door"


def test_address_mapping() -> None:
    order = parse_order(
        raw_order(deliveryCompany="Acme AB", deliveryCoaddress="c/o Svensson", deliveryState="Stockholms län"),
        STOCKHOLM,
    )
    customer = order.customer
    assert customer.name == "Someones Name"
    assert customer.company == "Acme AB"
    assert customer.address1 == "Examplestreet 1"
    assert customer.address2 == "c/o Svensson"
    assert customer.zip == "12345"
    assert customer.city == "Somecity"
    assert customer.state == "Stockholms län"
    assert customer.country_code == "SE"
    assert customer.email == "someone@example.com"
    assert customer.phone == "+46701234567"


def test_empty_optional_address_fields_are_none() -> None:
    customer = parse_order(raw_order(), STOCKHOLM).customer
    assert customer.company is None
    assert customer.address2 is None


def test_name_from_first_and_last_when_delivery_name_is_empty() -> None:
    raw = raw_order(deliveryName="", deliveryFirstName="Anna", deliveryLastName="Andersson")
    assert parse_order(raw, STOCKHOLM).customer.name == "Anna Andersson"


def test_name_from_first_name_alone() -> None:
    raw = raw_order(deliveryFirstName="Anna")
    del raw["deliveryName"]
    assert parse_order(raw, STOCKHOLM).customer.name == "Anna"


def test_email_falls_back_to_billing_email() -> None:
    raw = raw_order(deliveryEmail="", billingEmail="billing@example.com")
    assert parse_order(raw, STOCKHOLM).customer.email == "billing@example.com"


def test_phone_falls_back_to_landline_then_billing() -> None:
    assert parse_order(raw_order(deliveryCell="", deliveryTele="08-123"), STOCKHOLM).customer.phone == "08-123"
    raw = raw_order(deliveryCell="", deliveryTele="", billingCell="+46709999999")
    assert parse_order(raw, STOCKHOLM).customer.phone == "+46709999999"


def test_lines() -> None:
    (line,) = parse_order(raw_order(), STOCKHOLM).lines
    assert line.line_id == "43243"
    assert line.sku == "S123K345U1"
    assert line.name == "Product #1 / White / XS"
    assert line.quantity == 2
    assert line.unit_price == Decimal("450.5")
    assert line.vat_percentage == Decimal("25")


def test_line_values_given_as_strings() -> None:
    product = {
        "lineId": 1,
        "sku": "P",
        "variantSku": "V",
        "sizeSku": "S",
        "name": "Tee",
        "qty": "3",
        "price": "199.00",
        "taxPercent": "12.5",
    }
    (line,) = parse_order(raw_order(products=[product]), STOCKHOLM).lines
    assert line.line_id == "1"
    assert line.quantity == 3
    assert line.unit_price == Decimal("199.00")
    assert line.vat_percentage == Decimal("12.5")
    assert line.name == "Tee"


def test_line_without_variant_and_size_skus_uses_ean_and_tolerates_missing_prices() -> None:
    product = {
        "lineId": "9",
        "sku": "M411-740",
        "variantSku": "",
        "sizeSku": "",
        "ean": "7350000000017",
        "name": "Cap",
        "variant": "",
        "size": "",
        "qty": 1,
        "price": None,
    }
    (line,) = parse_order(raw_order(products=[product]), STOCKHOLM).lines
    assert line.sku == "7350000000017"
    assert line.name == "Cap"
    assert line.unit_price == Decimal(0)
    assert line.vat_percentage is None


def test_bundle_lines_are_left_out() -> None:
    products = [
        {"lineId": "1", "sku": "BUNDLE", "variantSku": "B", "sizeSku": "1", "qty": 1, "price": 100, "isBundle": True},
        {"lineId": "2", "sku": "PART", "variantSku": "P", "sizeSku": "1", "qty": 1, "price": 0, "isPartOfBundle": True},
    ]
    lines = parse_order(raw_order(products=products), STOCKHOLM).lines
    assert [line.line_id for line in lines] == ["2"]


def test_order_without_products_has_no_lines() -> None:
    assert parse_order(raw_order(products=None), STOCKHOLM).lines == []


# ---- the store over HTTP --------------------------------------------------------------------------


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


def _store(*, now: datetime = NOW, page_size: int = 100) -> CentraStore:
    return CentraStore(BASE, API_KEY, STOCKHOLM, clock=lambda: now, page_size=page_size)


def _quiet_store(*, now: datetime = NOW, page_size: int = 100) -> CentraStore:
    """A store whose HTTP client never sleeps (for tests that exercise retries)."""
    http = HttpClient(
        "centra", BASE, headers={"API-Authorization": API_KEY}, retry=RetryPolicy(attempts=3), sleep=lambda _: None
    )
    return CentraStore(BASE, API_KEY, STOCKHOLM, clock=lambda: now, page_size=page_size, http=http)


def _pages(*sizes: int) -> list[httpx.Response]:
    responses = []
    next_id = 1
    for size in sizes:
        orders = [raw_order(str(next_id + i)) for i in range(size)]
        next_id += size
        responses.append(httpx.Response(200, json={"status": "ok", "orders": orders}))
    return responses


class _OrderList:
    """GET /orders over a list, newest first, honouring at most `cap` orders a page; `between_reads` runs after
    each page is served (an order dropping out of the list, say)."""

    def __init__(self, count: int, cap: int, between_reads: Callable[[list[dict[str, Any]], int], None] | None = None):
        self.orders = [raw_order(str(number)) for number in range(count, 0, -1)]
        self.cap, self.between_reads, self.reads = cap, between_reads, 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        limit = min(int(request.url.params["limit"]), self.cap)
        offset = int(request.url.params.get("offset", "0"))
        page = self.orders[offset : offset + limit]
        self.reads += 1
        if self.between_reads:
            self.between_reads(self.orders, self.reads)
        return httpx.Response(200, json={"status": "ok", "orders": page})


def _ids(orders: Iterable[StoreOrder | UnreadableOrder]) -> list[str]:
    return sorted((order.order_id for order in orders), key=int)


def test_orders_are_all_read_when_the_server_gives_fewer_a_page_than_asked(api: respx.MockRouter) -> None:
    server = _OrderList(count=7, cap=2)
    route = api.get("/orders").mock(side_effect=server)

    orders = list(_store(page_size=5).orders_placed_since(datetime(2026, 6, 1, 10, 0, tzinfo=UTC)))

    assert _ids(orders) == [str(number) for number in range(1, 8)] and len(orders) == 7
    params = [call.request.url.params for call in route.calls]
    assert {p["limit"] for p in params} == {"5"} and {p["newer_than"] for p in params} == {"2026-06-01 12:00:00"}


def test_an_order_dropping_out_between_two_page_reads_skips_no_other(api: respx.MockRouter) -> None:
    def cancel_one_already_read(orders: list[dict[str, Any]], reads: int) -> None:
        if reads == 1:
            del orders[0]  # the newest order is cancelled (and hidden by the plugin) after the first page

    api.get("/orders").mock(side_effect=_OrderList(count=10, cap=4, between_reads=cancel_one_already_read))

    orders = list(_store(page_size=4).orders_placed_since(datetime(2026, 6, 1, 10, 0, tzinfo=UTC)))

    assert _ids(orders) == [str(number) for number in range(1, 11)] and len(orders) == 10


def test_many_orders_dropping_out_at_once_make_the_reader_step_back(api: respx.MockRouter) -> None:
    def cancel_a_page_worth(orders: list[dict[str, Any]], reads: int) -> None:
        if reads == 1:
            del orders[:6]  # more than the overlap: the next page meets no order read before

    server = _OrderList(count=20, cap=5, between_reads=cancel_a_page_worth)
    api.get("/orders").mock(side_effect=server)

    orders = list(_store(page_size=5).orders_placed_since(datetime(2026, 6, 1, 10, 0, tzinfo=UTC)))

    assert _ids(orders) == [str(number) for number in range(1, 21) if number != 15]  # 15 dropped out unread
    assert len(orders) == 19


def test_a_list_that_keeps_changing_fails_the_read_instead_of_skipping(api: respx.MockRouter) -> None:
    def cancel_everything_read(orders: list[dict[str, Any]], reads: int) -> None:
        del orders[:3]

    api.get("/orders").mock(side_effect=_OrderList(count=200, cap=3, between_reads=cancel_everything_read))

    with pytest.raises(TransientPlatformError, match="kept changing"):
        list(_store(page_size=3).orders_placed_since(datetime(2026, 6, 1, 10, 0, tzinfo=UTC)))


def test_orders_placed_since_with_nothing_new_makes_one_call(api: respx.MockRouter) -> None:
    route = api.get("/orders").mock(side_effect=_pages(0))

    assert list(_store().orders_placed_since(NOW)) == []
    assert route.call_count == 1


def test_orders_placed_since_sends_naive_local_time_and_the_api_key(api: respx.MockRouter) -> None:
    route = api.get("/orders").mock(side_effect=_pages(0))

    list(_store().orders_placed_since(datetime(2026, 1, 15, 9, 5, 7, 123456, tzinfo=UTC)))

    request = route.calls.last.request
    assert request.url.params["newer_than"] == "2026-01-15 10:05:07"
    assert request.headers["API-Authorization"] == API_KEY
    assert "Authorization" not in request.headers


def test_orders_placed_since_across_the_fall_back_reads_back_an_extra_hour(api: respx.MockRouter) -> None:
    route = api.get("/orders").mock(side_effect=_pages(0))
    store = _store(now=datetime(2026, 10, 25, 2, 30, tzinfo=UTC))

    list(store.orders_placed_since(datetime(2026, 10, 25, 0, 30, tzinfo=UTC)))

    assert route.calls.last.request.url.params["newer_than"] == "2026-10-25 01:30:00"


def test_orders_placed_since_is_lazy(api: respx.MockRouter) -> None:
    route = api.get("/orders").mock(side_effect=_pages(2, 2, 1))

    orders = _store(page_size=2).orders_placed_since(NOW)
    assert route.call_count == 0
    next(orders)
    assert route.call_count == 1


def test_orders_placed_since_raises_on_a_status_no_answer(api: respx.MockRouter) -> None:
    api.get("/orders").mock(return_value=httpx.Response(200, json={"status": "no", "msg": "order in wrong market"}))

    with pytest.raises(RejectedByPlatformError, match="order in wrong market"):
        list(_store().orders_placed_since(NOW))


def test_orders_placed_since_retries_a_5xx(api: respx.MockRouter) -> None:
    route = api.get("/orders").mock(side_effect=[httpx.Response(502), *_pages(1, 0)])

    assert len(list(_quiet_store().orders_placed_since(NOW))) == 1
    assert route.call_count == 3  # the 502, its retry, and the empty page that ends the list


def test_get_order_returns_the_parsed_order(api: respx.MockRouter) -> None:
    route = api.get("/orders").mock(
        return_value=httpx.Response(200, json={"status": "ok", "orders": [raw_order("83651")]})
    )

    order = _store().get_order("83651")

    assert order is not None
    assert order.order_id == "83651"
    assert route.calls.last.request.url.params["order"] == "83651"
    assert route.calls.last.request.headers["API-Authorization"] == API_KEY


def test_get_order_ignores_other_orders_in_the_answer(api: respx.MockRouter) -> None:
    api.get("/orders").mock(return_value=httpx.Response(200, json={"status": "ok", "orders": [raw_order("1")]}))

    assert _store().get_order("83651") is None


def test_get_order_returns_none_when_the_order_does_not_exist(api: respx.MockRouter) -> None:
    api.get("/orders").mock(
        return_value=httpx.Response(200, json={"status": "no", "msg": "order does not exist", "order": "1337"})
    )

    assert _store().get_order("1337") is None


def test_get_order_raises_on_other_refusals(api: respx.MockRouter) -> None:
    api.get("/orders").mock(return_value=httpx.Response(200, json={"status": "no", "msg": "order in wrong market"}))

    with pytest.raises(RejectedByPlatformError, match="order in wrong market"):
        _store().get_order("1")


@pytest.mark.parametrize("status", [401, 403])
def test_refused_api_key_is_an_authentication_error(api: respx.MockRouter, status: int) -> None:
    route = api.get("/orders").mock(return_value=httpx.Response(status, json={"status": "no", "msg": "bad key"}))

    with pytest.raises(AuthenticationError) as caught:
        _store().get_order("1")

    assert route.call_count == 1
    assert caught.value.platform == "centra"
    assert caught.value.status == status
    assert "bad key" in str(caught.value)
    assert API_KEY not in str(caught.value)


def test_answer_that_is_not_json_is_a_platform_error(api: respx.MockRouter) -> None:
    api.get("/orders").mock(return_value=httpx.Response(200, text="<html>maintenance</html>"))

    with pytest.raises(PlatformError, match="not JSON"):
        _store().get_order("1")


@pytest.mark.parametrize("body", [[], {"status": "ok"}, {"status": "ok", "orders": {"1": {}}}])
def test_answer_without_an_orders_list_is_a_platform_error(api: respx.MockRouter, body: Any) -> None:
    api.get("/orders").mock(return_value=httpx.Response(200, json=body))

    with pytest.raises(PlatformError):
        _store().get_order("1")


def test_an_unreadable_order_is_returned_as_such_and_the_others_still_come(api: respx.MockRouter) -> None:
    garbled = [raw_order("1"), raw_order("2", orderStatus="Teleported"), raw_order("3", orderDate="yesterday")]
    api.get("/orders").mock(return_value=httpx.Response(200, json={"status": "ok", "orders": garbled}))

    orders = list(_store().orders_placed_since(NOW))

    assert [type(order).__name__ for order in orders] == ["StoreOrder", "UnreadableOrder", "UnreadableOrder"]
    assert isinstance(orders[1], UnreadableOrder)
    assert "Teleported" in orders[1].problem
    assert orders[1].placed_at == datetime(2026, 6, 1, 12, 16, 13, tzinfo=UTC)
    assert isinstance(orders[2], UnreadableOrder)
    assert orders[2].placed_at is None
    assert "orderDate" in orders[2].problem


# ---- products (GET /products: one row per size) ---------------------------------------------------


def raw_product(stock_item_id: int = 17, **changes: Any) -> dict[str, Any]:
    """A GET /products row shaped as in the reference (§1.9)."""
    row: dict[str, Any] = {
        "sku": "TS100",
        "productId": 4,
        "variantSku": "BLK",
        "variantId": 9,
        "sizeSku": "M",
        "stockItemId": stock_item_id,
        "ean": "7350000000017",
        "product": "Basic tee (internal)",
        "name": "Basic T-shirt",
        "variant": "Black",
        "size": "M",
        "description": "Organic cotton.",
        "active": True,
        "images": ["https://cdn.example/TS100BLK.jpg", "https://cdn.example/TS100BLK-2.jpg"],
        "prices": [
            {"id": 19, "pricelist": "SEK", "price": 299.0, "currency": "SEK", "campaigns": []},
            {"id": 21, "pricelist": "Europe", "price": "29.90", "currency": "EUR", "campaigns": []},
        ],
    }
    row.update(changes)
    return row


def test_a_product_row_becomes_one_store_product_with_its_full_sku() -> None:
    product = parse_product(raw_product(), pricelist=None)

    assert product.sku == "TS100BLKM"
    assert product.store_ids == {"productId": "4", "variantId": "9", "stockItemId": "17"}
    assert product.ean == "7350000000017"
    assert product.name == "Basic T-shirt / Black / M"
    assert product.description == "Organic cotton."
    assert (product.price, product.currency) == (Decimal("299.0"), "SEK")  # the first price when none is named
    assert product.image_url == "https://cdn.example/TS100BLK.jpg"
    assert product.active is True


@pytest.mark.parametrize(("pricelist", "price"), [("Europe", ("29.90", "EUR")), ("21", ("29.90", "EUR"))])
def test_the_price_comes_from_the_pricelist_named_by_name_or_id(pricelist: str, price: tuple[str, str]) -> None:
    product = parse_product(raw_product(), pricelist=pricelist)
    assert (product.price, product.currency) == (Decimal(price[0]), price[1])


def test_a_product_without_the_named_pricelist_has_no_price() -> None:
    product = parse_product(raw_product(), pricelist="Norway")
    assert (product.price, product.currency) == (None, None)


def test_a_size_without_variant_and_size_skus_is_identified_by_its_ean() -> None:
    assert parse_product(raw_product(variantSku="", sizeSku=""), None).sku == "7350000000017"


def test_a_row_without_any_sku_or_ean_has_no_sku() -> None:
    product = parse_product(raw_product(sku="", variantSku="", sizeSku="", ean="", prices=[], images=[]), None)
    assert (product.sku, product.ean, product.price, product.image_url) == (None, None, None, None)


@pytest.mark.parametrize(("active", "expected"), [(False, False), ("0", False), (1, True), ("1", True)])
def test_the_active_flag(active: Any, expected: bool) -> None:
    assert parse_product(raw_product(active=active), None).active is expected


def test_the_internal_name_stands_in_for_a_missing_external_one() -> None:
    assert parse_product(raw_product(name="", variant="", size=""), None).name == "Basic tee (internal)"


def _product_page(first_id: int, size: int, *, more: bool) -> httpx.Response:
    body: dict[str, Any] = {"status": "ok", "products": [raw_product(first_id + n) for n in range(size)]}
    page = 1 + (first_id - 1) // 2
    if more:
        body["next"] = f"?limit=2&page={page + 1}"
    if page > 1:
        body["previous"] = f"?limit=2&page={page - 1}"
    return httpx.Response(200, json=body)


def test_products_are_read_page_by_page_until_one_without_a_next_link(api: respx.MockRouter) -> None:
    route = api.get("/products").mock(
        side_effect=[_product_page(1, 2, more=True), _product_page(3, 2, more=True), _product_page(5, 1, more=False)]
    )

    products = list(_store(page_size=2).products())

    assert [product.store_ids["stockItemId"] for product in products] == ["1", "2", "3", "4", "5"]
    assert [call.request.url.params["page"] for call in route.calls] == ["1", "2", "3"]
    assert {call.request.url.params["limit"] for call in route.calls} == {"2"}
    assert route.calls.last.request.headers["API-Authorization"] == API_KEY


def test_a_full_page_without_a_next_link_is_followed_until_an_empty_page(api: respx.MockRouter) -> None:
    route = api.get("/products").mock(
        side_effect=[_product_page(1, 2, more=False), httpx.Response(200, json={"status": "ok", "products": []})]
    )

    assert len(list(_store(page_size=2).products())) == 2
    assert route.call_count == 2


def test_the_stock_list_follows_its_next_links_when_the_server_gives_fewer_rows_than_asked(
    api: respx.MockRouter,
) -> None:
    def stock_page(first_id: int, more: bool) -> httpx.Response:
        rows = [{"sku": f"S{first_id + n}", "variantSku": "", "sizeSku": "", "allocatedStock": 1} for n in range(2)]
        page = 1 + (first_id - 1) // 2
        body: dict[str, Any] = {"status": "ok", "products": rows}
        body |= {"next": f"?limit=2&page={page + 1}"} if more else {}
        body |= {"previous": f"?limit=2&page={page - 1}"} if page > 1 else {}
        return httpx.Response(200, json=body)

    route = api.get("/stock").mock(side_effect=[stock_page(1, True), stock_page(3, True), stock_page(5, False)])

    rows = list(_store()._all_stock_rows())  # asks for 500 a page; this server caps at 2

    assert [row["sku"] for row in rows] == ["S1", "S2", "S3", "S4", "S5", "S6"]
    assert [call.request.url.params["page"] for call in route.calls] == ["1", "2", "3"]


def test_an_answer_without_a_products_list_is_a_platform_error(api: respx.MockRouter) -> None:
    api.get("/products").mock(return_value=httpx.Response(200, json={"status": "ok"}))

    with pytest.raises(PlatformError, match="products list"):
        list(_store().products())


def test_a_shipment_write_with_a_deadline_takes_no_retry_after_wait_past_it(api: respx.MockRouter) -> None:
    waits: list[float] = []
    http = HttpClient("centra", BASE, headers={"API-Authorization": API_KEY}, sleep=waits.append, clock=lambda: NOW)
    store = CentraStore(BASE, API_KEY, STOCKHOLM, clock=lambda: NOW, http=http)
    route = api.post("/shipments").mock(return_value=httpx.Response(429, headers={"Retry-After": "30"}))
    shipment = ShipmentToPush(carrier="POSTI", tracking_numbers=["JJFI1"])

    with pytest.raises(TransientPlatformError):
        store.create_shipment("1001", {"1": 1}, shipment, deadline=NOW + timedelta(seconds=20))

    assert route.call_count == 1 and waits == []
