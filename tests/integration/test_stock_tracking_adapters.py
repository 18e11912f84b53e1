"""The Centra and myOGO adapters' stock and tracking calls over real HTTP against the simulators."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from ogosync.errors import CaptureFailedError, OrderNotReadyError, RejectedByPlatformError
from ogosync.models import (
    ShipmentToPush,
    SkuBinding,
    StockToPublish,
    WarehouseCustomer,
    WarehouseOrder,
    WarehouseOrderLine,
    order_content_hash,
)
from ogosync.stores.centra.client import CentraStore
from ogosync.warehouse import myogo
from ogosync.warehouse.myogo import MyOgoAccount, MyOgoWarehouse
from ogosync_local.sim import CentraSimulator, ManualClock, MyOgoSimulator

pytestmark = pytest.mark.integration
API_KEY = "centra-key"
MERCHANT, SECRET = "M-1", "merchant-secret"
SHIPPED = ShipmentToPush(carrier="POSTI", tracking_numbers=["JJFI1", "JJFI2"], tracking_url="https://posti.example/1")


@pytest.fixture
def centra() -> Iterator[CentraSimulator]:
    with CentraSimulator(api_key=API_KEY) as sim:
        yield sim


@pytest.fixture
def store(centra: CentraSimulator) -> Iterator[CentraStore]:
    adapter = CentraStore(centra.base_url, API_KEY, ZoneInfo("Europe/Stockholm"))
    yield adapter
    adapter.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 27, 9, 0, tzinfo=UTC))


@pytest.fixture
def myogo_sim(clock: ManualClock) -> Iterator[MyOgoSimulator]:
    with MyOgoSimulator(multi_parcel_every=2, clock=clock) as sim:
        sim.add_merchant(MERCHANT, SECRET, {"POSTI"})
        yield sim


@pytest.fixture
def warehouse(myogo_sim: MyOgoSimulator) -> Iterator[MyOgoWarehouse]:
    myogo._tokens.clear()
    account = MyOgoAccount(
        base_url=myogo_sim.root_url,
        token_url=f"{myogo_sim.root_url}/OAuth/Token",
        merchant_id=MERCHANT,
        secret_token=SECRET,
        client_id="123456",
        client_secret="abcdef",
    )
    adapter = MyOgoWarehouse(account, page_size=2)
    yield adapter
    adapter.close()
    myogo._tokens.clear()


def _binding(sku: str, ean: str | None = None) -> SkuBinding:
    return SkuBinding(integration_id="acme-centra", sku=sku, ean=ean)


# ---- Centra: stock ------------------------------------------------------------------------------


def test_centra_sells_exactly_the_value_published_whatever_its_orders_hold(
    centra: CentraSimulator, store: CentraStore
) -> None:
    centra.add_product("TS100", "BLK", "M", ean="7350000000017", stock=10)
    centra.add_product("CAP", ean="7350000000024", stock=10)  # no variant or size: its code is the EAN
    centra.add_order([{"product": "TS100BLKM", "qty": 3}])
    centra.add_order([{"product": "7350000000024", "qty": 2}])

    batches = list(
        store.publish_stock(
            [
                StockToPublish(binding=_binding("TS100BLKM", "7350000000017"), quantity=4),
                StockToPublish(binding=_binding("7350000000024", "7350000000024"), quantity=0),
            ]
        )
    )

    tee, cap = centra.stock("TS100BLKM"), centra.stock("7350000000024")
    assert (tee["physicalStock"], tee["allocatedStock"], tee["availableStock"]) == (7, 3, 4)
    assert (cap["physicalStock"], cap["allocatedStock"], cap["availableStock"]) == (2, 2, 0)
    assert [(w.sku, w.quantity, w.store_quantity) for w in batches[0].written] == [
        ("TS100BLKM", 4, 7),
        ("7350000000024", 0, 2),
    ]
    assert centra.calls["GET /stock"] == 2 and centra.calls["POST /stock"] == 1  # one look-up per item, one write


@pytest.mark.parametrize("bound_by_product_flow", [True, False])
def test_an_item_without_ean_has_its_allocation_read_whatever_centras_sku_filter_matches(
    centra: CentraSimulator, store: CentraStore, bound_by_product_flow: bool
) -> None:
    centra.sku_filter_product_only = True  # GET /stock?sku=TS100BLKM would find nothing
    row = centra.add_product("TS100", "BLK", "M", ean="", stock=10)
    centra.add_product("TS100", "BLK", "L", ean="", stock=10)
    centra.add_order([{"product": "TS100BLKM", "qty": 3}])
    store_ids = {"stockItemId": str(row["stockItemId"])} if bound_by_product_flow else {}
    binding = SkuBinding(integration_id="acme-centra", sku="TS100BLKM", store_ids=store_ids)

    (batch,) = store.publish_stock([StockToPublish(binding=binding, quantity=4)])

    tee = centra.stock("TS100BLKM")
    assert (tee["physicalStock"], tee["allocatedStock"], tee["availableStock"]) == (7, 3, 4)
    assert [(w.sku, w.quantity, w.store_quantity) for w in batch.written] == [("TS100BLKM", 4, 7)]


def test_many_items_read_the_allocation_from_the_paged_list_and_write_in_batches(
    centra: CentraSimulator, store: CentraStore
) -> None:
    store.ALLOCATION_LOOKUP_MAX, store.STOCK_PAGE_SIZE, store.STOCK_BATCH_SIZE = 2, 2, 2  # type: ignore[misc]
    codes = [f"SKU{n}" for n in range(5)]
    for code in codes:
        centra.add_product(code, "V", "S", stock=20)
        centra.add_order([{"product": f"{code}VS", "qty": 1}])

    batches = list(store.publish_stock([StockToPublish(binding=_binding(f"{c}VS"), quantity=5) for c in codes]))

    assert [len(batch.written) for batch in batches] == [2, 2, 1]
    assert {centra.stock(f"{code}VS")["availableStock"] for code in codes} == {5}
    assert centra.calls["GET /stock"] == 3 and centra.calls["POST /stock"] == 3  # 5 rows in pages of 2


def test_items_centra_does_not_have_are_reported_and_the_others_written(
    centra: CentraSimulator, store: CentraStore
) -> None:
    centra.add_product("TS100", "BLK", "M", stock=1)

    (batch,) = store.publish_stock(
        [
            StockToPublish(binding=_binding("GONE1"), quantity=3),
            StockToPublish(binding=_binding("TS100BLKM"), quantity=3),
        ]
    )

    assert batch.not_found == ["GONE1"] and [write.sku for write in batch.written] == ["TS100BLKM"]
    assert centra.stock("TS100BLKM")["availableStock"] == 3


# ---- Centra: shipments ----------------------------------------------------------------------------


def test_a_shipment_is_created_captured_and_shipped_in_one_call_with_every_tracking_code(
    centra: CentraSimulator, store: CentraStore
) -> None:
    centra.add_product("TS100", "BLK", "M", stock=10)
    order = centra.add_order([{"product": "TS100BLKM", "qty": 2}])
    line_id = order["products"][0]["lineId"]

    created = store.create_shipment(order["orderId"], {line_id: 2}, SHIPPED)

    (row,) = centra.shipments(order["orderId"])
    (summary,) = centra.orders[order["orderId"]]["shipments"]
    assert (created.shipment_id, row["shipmentId"], row["paid"], row["shippedDate"] != "") == (
        "1001-1",
        "1001-1",
        1,
        True,
    )
    assert (summary["trackingId"], summary["carrier"]) == ("JJFI1,JJFI2", "POSTI")
    assert centra.orders[order["orderId"]]["orderStatus"] == "Completed"
    assert centra.calls["POST /shipments"] == 1 and centra.calls["PUT /shipment"] == 0
    assert [s.model_dump() for s in store.order_shipments(order["orderId"])] == [
        {
            "shipment_id": "1001-1",
            "shipped": True,
            "tracking": "JJFI1,JJFI2",
            "was_open": False,
            "already_shipped": False,
        }
    ]


def test_an_open_shipment_is_completed_with_tracking(centra: CentraSimulator, store: CentraStore) -> None:
    order = centra.add_order()
    line_id = order["products"][0]["lineId"]
    with httpx.Client(base_url=centra.base_url, headers={"API-Authorization": API_KEY}) as http:
        http.post("/shipments", json={"order": order["orderId"], "products": {line_id: 1}, "capture": False})
    (opened,) = store.order_shipments(order["orderId"])
    assert not opened.shipped

    store.complete_shipment(order["orderId"], opened.shipment_id, SHIPPED)

    (row,) = centra.shipments(order["orderId"])
    assert (row["paid"], row["trackingNumber"], row["shippedDate"] != "") == (1, "JJFI1,JJFI2", True)


def test_a_failed_capture_is_its_own_error_and_ships_nothing(centra: CentraSimulator, store: CentraStore) -> None:
    order = centra.add_order()
    centra.fail_capture(order["orderId"])

    with pytest.raises(CaptureFailedError, match="can not capture"):
        store.create_shipment(order["orderId"], {order["products"][0]["lineId"]: 1}, SHIPPED)

    assert centra.shipments(order["orderId"]) == []


def test_the_shipments_of_an_order_centra_does_not_have_are_a_refusal(store: CentraStore) -> None:
    with pytest.raises(RejectedByPlatformError, match="does not exist"):
        store.order_shipments("424242")


# ---- myOGO: stock and changed orders --------------------------------------------------------------


def test_myogo_stock_is_read_page_by_page_and_by_modification(
    myogo_sim: MyOgoSimulator, warehouse: MyOgoWarehouse, clock: ManualClock
) -> None:
    for n in range(5):
        myogo_sim.add_product(MERCHANT, f"SKU-{n}", stock=n)
    later = clock.advance(1)
    myogo_sim.set_stock(MERCHANT, "SKU-3", 30)

    every = list(warehouse.stock_levels(None))
    changed = list(warehouse.stock_levels(later - timedelta(milliseconds=500)))

    assert sorted((level.code, level.available) for level in every) == [
        (f"SKU-{n}", n if n != 3 else 30) for n in range(5)
    ]
    assert [(level.code, level.available, level.modified) for level in changed] == [("SKU-3", 30, later)]
    assert myogo_sim.calls["GET /api/v1/Stock"] == 4  # 5 rows in pages of 2 (3 calls), then the changes (1)
    assert warehouse.stock_level("SKU-3").available == 30  # type: ignore[union-attr]
    assert warehouse.stock_level("NO-SUCH") is None


def test_myogo_orders_are_read_with_their_lines_and_every_tracking_code(
    myogo_sim: MyOgoSimulator, warehouse: MyOgoWarehouse, clock: ManualClock
) -> None:
    myogo_sim.add_product(MERCHANT, "TS100BLKM", stock=10)
    customer = WarehouseCustomer(name="Anna", address1="Storgatan 1", city="Stockholm", country_code="SE")
    start = clock.advance(1)
    for reference in ("1001", "1002", "1003"):
        line = WarehouseOrderLine(code="TS100BLKM", quantity=2)
        warehouse.create_order(WarehouseOrder(reference=reference, customer=customer, order_lines=[line]))
    myogo_sim.advance(2)  # new -> collecting -> shipped; every 2nd shipment has two parcels

    changes = {change.reference: change for change in warehouse.orders_changed_since(start - timedelta(seconds=1))}
    one = warehouse.order_change("1002")

    assert sorted(changes) == ["1001", "1002", "1003"]
    assert {change.status for change in changes.values()} == {"shipped"}
    assert [len(change.tracking_numbers) for change in (changes["1001"], changes["1002"])] == [1, 2]
    assert one is not None and one.tracking_numbers == changes["1002"].tracking_numbers
    assert (one.shipping_code, [(line.code, line.quantity) for line in one.lines]) == ("POSTI", [("TS100BLKM", 2)])
    assert one.tracking_url and one.edited_at is not None
    assert warehouse.order_change("9999") is None


# ---- issue 10 items 9 and 10: aftercare calls and a Pending order's shipment ---------------------------------


def test_a_shipment_of_a_pending_order_is_refused_as_not_ready_and_ships_nothing(
    centra: CentraSimulator, store: CentraStore
) -> None:
    order = centra.add_order(status="Pending")

    with pytest.raises(OrderNotReadyError, match="not confirmed"):
        store.create_shipment(order["orderId"], {order["products"][0]["lineId"]: 1}, SHIPPED)

    assert centra.shipments(order["orderId"]) == []
    centra.update_order(order["orderId"], status="Confirmed")
    shipment = store.create_shipment(order["orderId"], {order["products"][0]["lineId"]: 1}, SHIPPED)
    assert shipment.shipped and len(centra.shipments(order["orderId"])) == 1


def test_myogo_copy_of_an_order_is_read_updated_and_cancelled(
    myogo_sim: MyOgoSimulator, warehouse: MyOgoWarehouse
) -> None:
    myogo_sim.add_product(MERCHANT, "TS100BLKM", stock=10)
    customer = WarehouseCustomer(name="Anna", address1="Storgatan 1", city="Stockholm", country_code="SE")
    sent = WarehouseOrder(
        reference="A-1001",
        shipping_code="POSTI",
        customer=customer,
        order_lines=[WarehouseOrderLine(code="TS100BLKM", quantity=2)],
    )
    warehouse.create_order(sent)

    copy = warehouse.order_content("A-1001")
    assert copy is not None and copy.status == "new"
    assert order_content_hash(copy.customer, copy.order_lines) == order_content_hash(sent.customer, sent.order_lines)

    moved = customer.model_copy(update={"address1": "Kungsgatan 2"})
    updated = warehouse.update_order(sent.model_copy(update={"customer": moved}))
    assert updated.customer is not None and updated.customer.address1 == "Kungsgatan 2"

    cancelled = warehouse.cancel_order(updated)
    assert cancelled.status == "cancelled" and myogo_sim.orders(MERCHANT)["A-1001"]["status"] == "cancelled"
    assert [(line.code, line.quantity) for line in cancelled.order_lines] == [("TS100BLKM", 2)]  # lines kept
    assert warehouse.order_content("NO-SUCH") is None


def test_myogo_refuses_to_cancel_an_order_the_warehouse_is_collecting(
    myogo_sim: MyOgoSimulator, warehouse: MyOgoWarehouse
) -> None:
    myogo_sim.add_product(MERCHANT, "TS100BLKM", stock=10)
    customer = WarehouseCustomer(name="Anna", address1="Storgatan 1", city="Stockholm", country_code="SE")
    line = WarehouseOrderLine(code="TS100BLKM", quantity=1)
    warehouse.create_order(WarehouseOrder(reference="A-1002", customer=customer, order_lines=[line]))
    myogo_sim.set_status(MERCHANT, "A-1002", "collecting")
    current = warehouse.order_content("A-1002")
    assert current is not None

    with pytest.raises(RejectedByPlatformError):
        warehouse.cancel_order(current)
