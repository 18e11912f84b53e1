"""The WooCommerce store port over a small in-test shop (httpx.MockTransport): the set-up check (permalinks, wc/v3,
read and write permission), orders by modified_after in id order, products and variations, stock through the
batch routes (100 a call, on 413 the limit the shop names or else half, every element of a 200 checked), and the
shipment's one PUT with the note and Shipment Tracking entries after it (the extension known from an index at most
15 minutes old). Work is bounded by calls, never by time."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ogosync.errors import (
    AuthenticationError,
    PlatformError,
    RejectedByPlatformError,
    ShipmentMismatchError,
    TransientPlatformError,
)
from ogosync.http import RetryPolicy
from ogosync.models import (
    ShipmentToPush,
    ShippedLine,
    SkuBinding,
    StockBatchResult,
    StockToPublish,
    StoreOrder,
    StoreOrderState,
    StoreShipment,
    UnidentifiedOrder,
    UnreadableOrder,
)
from ogosync.stores.woocommerce.client import WooCommerceClient
from ogosync.stores.woocommerce.options import WooCommerceOptions
from ogosync.stores.woocommerce.store import (
    INDEX_MAX_AGE,
    NOTE_ATTEMPTS,
    STOCK_BATCH_SIZE,
    WooCommerceStore,
    smaller_batch,
)
from ogosync.timeutil import Clock, utc_now

BASE = "https://shop.example"
SINCE = datetime(2026, 11, 30, 9, 0, 5, 900_000, tzinfo=UTC)


def _order(order_id: int, status: str = "processing", **changes: Any) -> dict[str, Any]:
    return {
        "id": order_id,
        "status": status,
        "currency": "EUR",
        "total": "10.00",
        "date_created_gmt": "2026-11-30T10:00:00",
        "billing": {"email": "a@example.com"},
        "shipping": {"first_name": "Ann", "address_1": "Main 1", "city": "Turku", "country": "FI"},
        "line_items": [{"id": order_id * 10, "sku": "MUG", "quantity": 2, "price": 5, "total": "10", "total_tax": "0"}],
        "shipping_lines": [{"method_title": "Posti"}],
        "meta_data": [],
    } | changes


class Shop:
    """Just enough of a WooCommerce shop: the calls it got, and switches for its quirks."""

    def __init__(self) -> None:
        self.calls: list[httpx.Request] = []
        self.namespaces = ["wp/v2", "wc/v3"]
        self.index_status = 200
        self.orders: dict[int, dict[str, Any]] = {}
        self.products: list[dict[str, Any]] = []
        self.variations: dict[int, list[dict[str, Any]]] = {}
        self.stock: dict[int, int] = {}
        self.batch_limit = 100
        self.refusal_names_limit = True  # WooCommerce's 413 names its limit; a proxy's page does not
        self.item_errors: dict[int, str] = {}
        self.read_only_key = False
        self.notes: dict[int, list[dict[str, Any]]] = {}
        self.fail_notes = 0  # the next note POSTs answered 500 before the note is added
        self.lose_note_answers = 0  # the next note POSTs that add the note and then answer 502 (the answer lost)
        self.currency_route = True

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        path = request.url.path
        if path == "/wp-json/":
            if self.index_status != 200:
                return httpx.Response(self.index_status, text="<html>home</html>")
            return httpx.Response(200, json={"name": "Shop", "namespaces": self.namespaces})
        body = json.loads(request.content) if request.content else None
        if request.method != "GET" and self.read_only_key:
            return _error(
                401, "woocommerce_rest_authentication_error", "The API key provided does not have write permissions."
            )
        route = path.removeprefix("/wp-json/wc/v3/")
        if route == "orders":
            return self._listing(request, [self.orders[key] for key in sorted(self.orders)])
        if match := re.fullmatch(r"orders/(\d+)", route):
            return self._order(request, int(match[1]), body)
        if match := re.fullmatch(r"orders/(\d+)/notes", route):
            return self._note(request, int(match[1]), body)
        if route == "products":
            return self._listing(request, self.products)
        if match := re.fullmatch(r"products/(\d+)/variations", route):
            return self._listing(request, self.variations.get(int(match[1]), []))
        if route == "products/batch" or re.fullmatch(r"products/\d+/variations/batch", route):
            return self._batch(body or {})
        if route == "data/currencies/current" and self.currency_route:
            return httpx.Response(200, json={"code": "EUR"})
        if route == "system_status":
            return httpx.Response(200, json={"settings": {"currency": "SEK"}})
        if path.startswith("/wp-json/wc-shipment-tracking/v3/"):
            return httpx.Response(201, json=body)
        return _error(404, "rest_no_route", "No route was found matching the URL and request method.")

    def _listing(self, request: httpx.Request, records: list[dict[str, Any]]) -> httpx.Response:
        per_page = int(request.url.params.get("per_page", "10"))
        page = int(request.url.params.get("page", "1"))
        pages = max(1, -(-len(records) // per_page))
        chunk = records[(page - 1) * per_page : page * per_page]
        return httpx.Response(200, json=chunk, headers={"X-WP-Total": str(len(records)), "X-WP-TotalPages": str(pages)})

    def _order(self, request: httpx.Request, order_id: int, body: Any) -> httpx.Response:
        order = self.orders.get(order_id)
        if order is None:
            return _error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
        if request.method == "PUT":
            for entry in body.get("meta_data", []):
                order["meta_data"] = [m for m in order["meta_data"] if m["key"] != entry["key"]] + [entry]
            order["status"] = body.get("status", order["status"])
        return httpx.Response(200, json=order)

    def _note(self, request: httpx.Request, order_id: int, body: Any) -> httpx.Response:
        notes = self.notes.setdefault(order_id, [])
        if request.method == "GET":
            return httpx.Response(200, json=list(reversed(notes)))
        if self.fail_notes:
            self.fail_notes -= 1
            return _error(500, "internal", "boom")
        notes.append({"id": len(notes) + 1, "note": body["note"], "customer_note": body["customer_note"]})
        if self.lose_note_answers:
            self.lose_note_answers -= 1
            return _error(502, "bad_gateway", "upstream")
        return httpx.Response(201, json=notes[-1])

    def _batch(self, body: dict[str, Any]) -> httpx.Response:
        items = body.get("update", [])
        if len(items) > self.batch_limit:
            if not self.refusal_names_limit:
                return httpx.Response(413, text="<html><h1>Request Entity Too Large</h1></html>")
            message = f"Unable to accept more than {self.batch_limit} items for this request."
            return _error(413, "woocommerce_rest_request_entity_too_large", message)
        answered = []
        for item in items:
            if item["id"] in self.item_errors:
                code = self.item_errors[item["id"]]
                answered.append({"id": item["id"], "error": {"code": code, "message": "no", "data": {"status": 400}}})
            else:
                self.stock[item["id"]] = item["stock_quantity"]
                answered.append({"id": item["id"], "stock_quantity": item["stock_quantity"], "manage_stock": True})
        return httpx.Response(200, json={"update": answered})

    def routes(self, method: str | None = None) -> list[str]:
        return [call.url.path for call in self.calls if method is None or call.method == method]


def _error(status: int, code: str, message: str) -> httpx.Response:
    return httpx.Response(status, json={"code": code, "message": message, "data": {"status": status}})


@pytest.fixture
def shop() -> Shop:
    return Shop()


def _store(shop: Shop, clock: Clock = utc_now, **options: Any) -> WooCommerceStore:
    client = WooCommerceClient(
        BASE,
        consumer_key="ck_1",
        consumer_secret="cs_2",
        retry=RetryPolicy(attempts=2, base_delay_s=0),
        transport=httpx.MockTransport(shop.handle),
        sleep=lambda _: None,
    )
    return WooCommerceStore(client, WooCommerceOptions.model_validate(options), integration_id="shop", clock=clock)


# ---- access ---------------------------------------------------------------------------------------------------


def test_check_access_reads_the_index_the_orders_and_sends_an_empty_batch(shop: Shop) -> None:
    _store(shop).check_access()

    assert [(call.method, call.url.path) for call in shop.calls] == [
        ("GET", "/wp-json/"),
        ("GET", "/wp-json/wc/v3/orders"),
        ("POST", "/wp-json/wc/v3/products/batch"),
    ]
    assert json.loads(shop.calls[2].content) == {"update": []}


def test_plain_permalinks_are_named(shop: Shop) -> None:
    shop.index_status = 404
    with pytest.raises(PlatformError, match="Permalinks"):
        _store(shop).check_access()


def test_a_shop_without_wc_v3_is_named(shop: Shop) -> None:
    shop.namespaces = ["wp/v2", "wc/v2"]
    with pytest.raises(PlatformError, match="wc/v3"):
        _store(shop).check_access()


def test_a_read_only_key_fails_the_check(shop: Shop) -> None:
    shop.read_only_key = True
    with pytest.raises(AuthenticationError, match="write permissions"):
        _store(shop).check_access()


# ---- orders ----------------------------------------------------------------------------------------------------


def test_orders_are_polled_by_modified_after_in_id_order_and_each_record_is_read(shop: Shop) -> None:
    shop.orders = {n: _order(n) for n in range(1, 151)}
    shop.orders[5] = _order(5, date_created_gmt="never")
    shop.orders[6] = _order(6) | {"id": "six"}

    found = list(_store(shop).orders_placed_since(SINCE))

    assert len(found) == 150
    assert isinstance(found[4], UnreadableOrder) and isinstance(found[5], UnidentifiedOrder)
    assert all(isinstance(order, StoreOrder) for index, order in enumerate(found) if index not in (4, 5))
    params = shop.calls[0].url.params
    assert params["modified_after"] == "2026-11-30T09:00:05" and params["dates_are_gmt"] == "true"
    assert (params["orderby"], params["order"], params["per_page"]) == ("id", "asc", "100")
    assert "line_items" in params["_fields"] and len(shop.calls) == 2


def test_get_order_reads_one_and_an_unknown_one_is_none(shop: Shop) -> None:
    shop.orders = {7: _order(7, "on-hold")}
    store = _store(shop)

    order = store.get_order("7")
    assert isinstance(order, StoreOrder) and order.state is StoreOrderState.AWAITING_PAYMENT and order.holds
    assert store.get_order("8") is None and store.get_order("../x") is None
    assert len(shop.calls) == 2


# ---- products --------------------------------------------------------------------------------------------------


def test_products_are_simple_ones_and_each_variation_with_no_export_skipped(shop: Shop) -> None:
    shop.products = [
        {"id": 1, "type": "simple", "status": "publish", "name": "Mug", "sku": "MUG", "price": "5"},
        {
            "id": 2,
            "type": "simple",
            "status": "publish",
            "name": "Secret",
            "sku": "SEC",
            "meta_data": [{"key": "_nettivarasto_no_export", "value": "yes"}],
        },
        {
            "id": 3,
            "type": "variable",
            "status": "publish",
            "name": "Shirt",
            "meta_data": [{"key": "_nettivarasto_eancode", "value": "6400000000024"}],
        },
        {"id": 4, "type": "simple", "status": "publish", "name": "Broken", "price": "cheap"},
    ]
    shop.variations = {3: [{"id": 31, "sku": "SHIRT-S", "status": "publish", "attributes": [{"option": "S"}]}]}

    found = list(_store(shop).products())

    assert [(p.sku, p.store_ids, p.currency) for p in found] == [
        ("MUG", {"product": "1"}, "EUR"),
        ("SHIRT-S", {"product": "3", "variation": "31"}, None),
    ]
    assert found[1].ean == "6400000000024" and found[1].name == "Shirt - S"
    assert "/wp-json/wc/v3/products/3/variations" in shop.routes()
    assert "/wp-json/wc/v3/system_status" not in shop.routes()


def test_without_the_currency_route_the_system_status_names_the_currency(shop: Shop) -> None:
    shop.currency_route = False
    shop.products = [{"id": 1, "type": "simple", "status": "publish", "name": "Mug", "sku": "MUG", "price": "5"}]

    (product,) = _store(shop).products()

    assert product.currency == "SEK"
    assert all("_fields" in call.url.params for call in shop.calls if "products" in call.url.path)


# ---- stock -----------------------------------------------------------------------------------------------------


def _item(sku: str, quantity: int, **ids: str) -> StockToPublish:
    return StockToPublish(binding=SkuBinding(integration_id="acme-woo", sku=sku, store_ids=ids), quantity=quantity)


def test_stock_goes_through_the_batch_routes_with_manage_stock(shop: Shop) -> None:
    items = [_item("MUG", 4, product="1"), _item("SHIRT-S", 0, product="3", variation="31"), _item("X", 1)]

    results = list(_store(shop).publish_stock(items))

    assert results[0].not_found == ["X"]
    written = [write for result in results for write in result.written]
    assert [(w.sku, w.store_quantity) for w in written] == [("MUG", 4), ("SHIRT-S", 0)]
    assert shop.stock == {1: 4, 31: 0}
    posts = [(call.url.path, json.loads(call.content)) for call in shop.calls]
    assert posts[0] == (
        "/wp-json/wc/v3/products/batch",
        {"update": [{"id": 1, "manage_stock": True, "stock_quantity": 4}]},
    )
    assert posts[1][0] == "/wp-json/wc/v3/products/3/variations/batch"


def test_every_element_of_a_200_is_checked_and_only_the_written_are_recorded(shop: Shop) -> None:
    shop.item_errors = {2: "woocommerce_rest_product_invalid_id", 3: "woocommerce_rest_invalid_stock"}
    items = [_item("A", 1, product="1"), _item("B", 1, product="2"), _item("C", 1, product="3")]

    (result,) = list(_store(shop).publish_stock(items))

    assert [write.sku for write in result.written] == ["A"]
    assert result.not_found == ["B"] and result.stale == []


def test_a_413_takes_the_limit_the_shop_names_at_the_cost_of_one_refused_call(shop: Shop) -> None:
    shop.batch_limit = 30
    items = [_item(f"S{n}", n, product=str(n)) for n in range(1, 2 * STOCK_BATCH_SIZE + 1)]

    results = list(_store(shop).publish_stock(items))

    assert sorted(write.sku for result in results for write in result.written) == sorted(f"S{n}" for n in range(1, 201))
    sizes = [len(json.loads(call.content)["update"]) for call in shop.calls]
    assert sizes == [100] + [30] * 6 + [20]  # one refusal, then ceil(200 / 30) calls


@given(refusal=st.text(max_size=200), size=st.integers(min_value=1, max_value=STOCK_BATCH_SIZE))
def test_a_smaller_batch_is_always_smaller_and_at_least_one(refusal: str, size: int) -> None:
    smaller = smaller_batch(refusal, size)
    assert smaller >= 1 and (smaller < size or size == 1)


def test_a_413_that_names_no_limit_halves_the_batch_and_everything_is_written_once(shop: Shop) -> None:
    shop.batch_limit = 30
    shop.refusal_names_limit = False
    items = [_item(f"S{n}", n, product=str(n)) for n in range(1, 2 * STOCK_BATCH_SIZE + 1)]

    results = list(_store(shop).publish_stock(items))

    assert sorted(write.sku for result in results for write in result.written) == sorted(f"S{n}" for n in range(1, 201))
    sizes = [len(json.loads(call.content)["update"]) for call in shop.calls]
    assert sizes[:4] == [100, 50, 25, 25] and max(sizes[3:]) == 25 and len(shop.calls) == 2 + 200 // 25


def test_a_413_for_a_single_item_is_a_refusal(shop: Shop) -> None:
    shop.batch_limit = 0
    with pytest.raises(RejectedByPlatformError, match="entity_too_large"):
        list(_store(shop).publish_stock([_item("A", 1, product="1")]))
    assert len(shop.calls) == 1 + STOCK_BATCH_SIZE.bit_length() - 1


# ---- tracking --------------------------------------------------------------------------------------------------

SHIPMENT = ShipmentToPush(carrier="Posti", tracking_numbers=["JJFI1", "JJFI2"], tracking_url="https://t.example/JJFI1")
LINES = [ShippedLine(code="MUG", quantity=2)]


def _meta(order: dict[str, Any]) -> dict[str, str]:
    return {entry["key"]: entry["value"] for entry in order["meta_data"]}


def test_a_shipment_is_one_put_then_the_note(shop: Shop) -> None:
    shop.orders = {7: _order(7)}
    writes: list[str] = []
    shop_calls_before_write: list[int] = []

    def before_write() -> None:
        writes.append("claim renewed")
        shop_calls_before_write.append(len(shop.calls))

    shipment = _store(shop).push_shipment("7", LINES, SHIPMENT, before_write=before_write, deadline=None)

    assert shipment.shipped and shipment.tracking == "JJFI1, JJFI2" and not shipment.already_shipped
    assert writes == ["claim renewed"] and shop_calls_before_write == [1]
    assert [call.method for call in shop.calls] == ["GET", "PUT", "POST", "GET"]
    put = json.loads(shop.calls[1].content)
    assert put["status"] == "completed"
    assert _meta(shop.orders[7])["ogoship_tracking"] == "JJFI1, JJFI2"
    assert _meta(shop.orders[7])["ogoship_tracking_url"] == "https://t.example/JJFI1"
    note = json.loads(shop.calls[2].content)
    assert note["customer_note"] is True and "Posti" in note["note"] and "JJFI2" in note["note"]


def test_options_can_leave_the_status_and_the_note_alone(shop: Shop) -> None:
    shop.orders = {7: _order(7)}
    _store(shop, complete_order=False, customer_note=False).push_shipment(
        "7", LINES, SHIPMENT, before_write=lambda: None, deadline=None
    )

    assert shop.orders[7]["status"] == "processing" and "status" not in json.loads(shop.calls[1].content)
    assert shop.routes("POST") == []


def test_a_shipped_order_is_found_and_not_written_again(shop: Shop) -> None:
    shop.orders = {7: _order(7)}
    store = _store(shop)
    assert store.shipped_already("7") is None
    store.push_shipment("7", LINES, ShipmentToPush(carrier="Posti"), before_write=lambda: None, deadline=None)
    calls = len(shop.calls)

    found = store.shipped_already("7")
    again = store.push_shipment("7", LINES, SHIPMENT, before_write=pytest.fail, deadline=None)

    assert found is not None and found.shipped and found.tracking is None
    assert again.already_shipped and shop.routes("PUT").count("/wp-json/wc/v3/orders/7") == 1
    assert len(shop.calls) == calls + 2


def test_a_note_that_keeps_failing_is_given_up_after_its_attempts_not_a_second_shipment(shop: Shop) -> None:
    shop.orders = {7: _order(7)}
    shop.fail_notes = 99

    shipment = _store(shop).push_shipment("7", LINES, SHIPMENT, before_write=lambda: None, deadline=None)

    assert shipment.shipped and shop.routes("PUT") == ["/wp-json/wc/v3/orders/7"]
    assert shop.routes("POST") == ["/wp-json/wc/v3/orders/7/notes"] * NOTE_ATTEMPTS and shop.notes[7] == []


def test_a_failed_note_is_posted_again_once_a_read_shows_it_did_not_land(shop: Shop) -> None:
    shop.orders = {7: _order(7)}
    shop.fail_notes = 1

    _store(shop).push_shipment("7", LINES, SHIPMENT, before_write=lambda: None, deadline=None)

    notes = "/wp-json/wc/v3/orders/7/notes"
    assert [(c.method, c.url.path) for c in shop.calls if c.url.path == notes] == [
        ("POST", notes),
        ("GET", notes),
        ("POST", notes),
    ]
    assert [note["customer_note"] for note in shop.notes[7]] == [True] and "JJFI2" in shop.notes[7][0]["note"]


def test_a_note_post_left_without_an_answer_is_not_followed_up(shop: Shop) -> None:
    shop.orders = {7: _order(7)}
    original = shop.handle

    def timing_out(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/notes"):
            shop.calls.append(request)
            raise httpx.ReadTimeout("the site is still adding the note", request=request)
        return original(request)

    shop.handle = timing_out  # type: ignore[method-assign]
    shipment = _store(shop).push_shipment("7", LINES, SHIPMENT, before_write=lambda: None, deadline=None)

    assert shipment.shipped and shop.routes("POST") == ["/wp-json/wc/v3/orders/7/notes"]
    assert not [call for call in shop.calls if call.method == "GET" and call.url.path.endswith("/notes")]


def test_a_note_whose_answer_was_lost_is_found_and_not_posted_twice(shop: Shop) -> None:
    shop.orders = {7: _order(7)}
    shop.lose_note_answers = 1

    _store(shop).push_shipment("7", LINES, SHIPMENT, before_write=lambda: None, deadline=None)

    assert shop.routes("POST") == ["/wp-json/wc/v3/orders/7/notes"] and len(shop.notes[7]) == 1


def test_a_failed_put_is_not_repeated(shop: Shop) -> None:
    shop.orders = {7: _order(7)}
    original = shop.handle

    def failing(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            shop.calls.append(request)
            return _error(502, "bad_gateway", "upstream")
        return original(request)

    shop.handle = failing  # type: ignore[method-assign]
    with pytest.raises(TransientPlatformError, match="bad_gateway"):
        _store(shop).push_shipment("7", LINES, SHIPMENT, before_write=lambda: None, deadline=None)
    assert shop.routes("PUT") == ["/wp-json/wc/v3/orders/7"] and shop.routes("POST") == []


def test_the_shipment_tracking_extension_gets_one_entry_per_code(shop: Shop) -> None:
    shop.orders = {7: _order(7)}
    shop.namespaces.append("wc-shipment-tracking/v3")

    _store(shop).push_shipment("7", LINES, SHIPMENT, before_write=lambda: None, deadline=None)

    entries = [json.loads(call.content) for call in shop.calls if "shipment-trackings" in call.url.path]
    assert [entry["tracking_number"] for entry in entries] == ["JJFI1", "JJFI2"]
    assert entries[0]["custom_tracking_provider"] == "Posti"
    assert entries[0]["custom_tracking_link"] == "https://t.example/JJFI1"


def test_an_extension_installed_later_gets_entries_once_the_index_is_old_enough(shop: Shop) -> None:
    shop.orders = {7: _order(7), 8: _order(8), 9: _order(9)}
    now = [SINCE]
    store = _store(shop, clock=lambda: now[0])

    def entries_after_shipping(order_id: str) -> int:
        before = len(shop.routes())
        store.push_shipment(order_id, LINES, SHIPMENT, before_write=lambda: None, deadline=None)
        return sum("shipment-trackings" in path for path in shop.routes()[before:])

    assert entries_after_shipping("7") == 0
    shop.namespaces.append("wc-shipment-tracking/v3")  # the merchant installs the extension
    now[0] += INDEX_MAX_AGE / 2
    assert entries_after_shipping("8") == 0  # the index read a moment ago still counts
    now[0] += INDEX_MAX_AGE / 2
    assert entries_after_shipping("9") == 2
    assert shop.routes("GET").count("/wp-json/") == 2  # one index read per INDEX_MAX_AGE, not per shipment


@pytest.mark.parametrize("status", ["cancelled", "refunded"])
def test_a_cancelled_order_is_refused_without_a_write(shop: Shop, status: str) -> None:
    shop.orders = {7: _order(7, status)}
    with pytest.raises(RejectedByPlatformError, match=status):
        _store(shop).push_shipment("7", LINES, SHIPMENT, before_write=pytest.fail, deadline=None)
    assert shop.routes("PUT") == []


def test_lines_the_order_does_not_have_are_a_mismatch(shop: Shop) -> None:
    shop.orders = {7: _order(7)}
    with pytest.raises(ShipmentMismatchError):
        _store(shop).push_shipment(
            "7", [ShippedLine(code="CUP", quantity=1)], SHIPMENT, before_write=pytest.fail, deadline=None
        )


def test_an_unknown_order_is_refused(shop: Shop) -> None:
    with pytest.raises(RejectedByPlatformError, match="does not exist"):
        _store(shop).shipped_already("9")


# ---- any answer: a result or our error -------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-5, max_value=5)
    | st.text(max_size=8)
    | st.sampled_from(["update", "error", "id", "code", "woocommerce_rest_product_invalid_id", "wc/v3", "namespaces"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "update",
                    "id",
                    "error",
                    "code",
                    "stock_quantity",
                    "namespaces",
                    "meta_data",
                    "status",
                    "line_items",
                    "key",
                    "value",
                ]
            )
            | st.text(max_size=4),
            inner,
            max_size=4,
        )
    ),
    max_leaves=10,
)


def _answering(body: Any) -> WooCommerceStore:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=body)

    client = WooCommerceClient(
        BASE, consumer_key="ck", consumer_secret="cs", transport=httpx.MockTransport(handler), sleep=lambda _: None
    )
    return WooCommerceStore(client, WooCommerceOptions(), integration_id="shop")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=json_values)
def test_any_batch_answer_gives_a_result_or_our_error(body: Any) -> None:
    try:
        results = list(_answering(body).publish_stock([_item("A", 1, product="1"), _item("B", 2, product="2")]))
    except PlatformError:
        return
    assert all(isinstance(result, StockBatchResult) for result in results)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=json_values)
def test_any_answer_to_the_setup_check_and_a_shipment_read_is_a_result_or_our_error(body: Any) -> None:
    store = _answering(body)
    actions = (
        store.check_access,
        lambda: store.shipped_already("7"),
        lambda: store.push_shipment("7", LINES, SHIPMENT, before_write=lambda: None, deadline=None),
        lambda: list(store.orders_placed_since(SINCE)),
        lambda: list(store.products()),
        store.switched_off_webhooks,
    )
    outcomes: list[object] = []
    for action in actions:
        try:
            outcomes.append(action())
        except (PlatformError, ShipmentMismatchError) as refused:
            outcomes.append(refused)
    assert all(
        outcome is None or isinstance(outcome, StoreShipment | list | PlatformError | ShipmentMismatchError)
        for outcome in outcomes
    )
    webhook_lines = outcomes[-1]
    if isinstance(webhook_lines, list):
        assert all(isinstance(line, str) for line in webhook_lines)
    else:
        assert isinstance(webhook_lines, PlatformError)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=json_values)
def test_any_answer_to_the_read_of_notes_after_a_failed_note_still_gives_the_shipment(body: Any) -> None:
    shop = Shop()
    shop.orders = {7: _order(7)}
    shop.fail_notes = 99
    original = shop.handle

    def answering_notes(request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path.endswith("/notes"):
            shop.calls.append(request)
            return httpx.Response(200, json=body)
        return original(request)

    shop.handle = answering_notes  # type: ignore[method-assign]
    shipment = _store(shop).push_shipment("7", LINES, SHIPMENT, before_write=lambda: None, deadline=None)

    assert shipment.shipped and len(shop.routes("POST")) <= NOTE_ATTEMPTS


def test_a_variations_batch_of_a_gone_parent_reports_its_skus_not_found(shop: Shop) -> None:
    original = shop.handle

    def gone_parent(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/wp-json/wc/v3/products/9/variations/batch":
            shop.calls.append(request)
            return _error(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")
        return original(request)

    shop.handle = gone_parent  # type: ignore[method-assign]
    items = [_item("V1", 1, product="9", variation="91"), _item("MUG", 2, product="1"), _item("BAD", 1, product="x")]

    results = list(_store(shop).publish_stock(items))

    assert [sku for result in results for sku in result.not_found] == ["BAD", "V1"]
    assert [write.sku for result in results for write in result.written] == ["MUG"]
