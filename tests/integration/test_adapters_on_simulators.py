"""The store and warehouse adapters over real HTTP against the simulators: what unit tests with mocks cannot show."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from ogosync.errors import AlreadyExistsError, AuthenticationError, RejectedByPlatformError
from ogosync.http import HttpClient, RetryPolicy
from ogosync.models import StoreOrder, WarehouseCustomer, WarehouseOrder, WarehouseOrderLine
from ogosync.stores.centra.client import CentraStore
from ogosync.stores.centra.mapping import PLATFORM as CENTRA
from ogosync.warehouse.myogo import MyOgoAccount, MyOgoWarehouse
from ogosync_local.sim import CentraSimulator, FaultConfig, FaultRule, ManualClock, MyOgoSimulator

pytestmark = pytest.mark.integration
STOCKHOLM = ZoneInfo("Europe/Stockholm")
START = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def centra(clock: ManualClock) -> Iterator[CentraSimulator]:
    with CentraSimulator(api_key="key-1", clock=clock) as sim:
        yield sim


@pytest.fixture
def myogo(clock: ManualClock) -> Iterator[MyOgoSimulator]:
    with MyOgoSimulator(clock=clock) as sim:
        sim.add_merchant("M-1", "token-1", shipping_codes={"POSTI"})
        sim.add_product("M-1", "TS100BLKM", stock=10)
        yield sim


def _store(sim: CentraSimulator, clock: ManualClock, *, api_key: str = "key-1", page_size: int = 100) -> CentraStore:
    sleeps: list[float] = []
    http = HttpClient(
        CENTRA,
        sim.base_url,
        headers={"API-Authorization": api_key},
        sleep=sleeps.append,
        retry=RetryPolicy(attempts=3, base_delay_s=0.01),
    )
    return CentraStore(sim.base_url, api_key, STOCKHOLM, clock=clock, page_size=page_size, http=http)


def _warehouse(sim: MyOgoSimulator, *, clock: ManualClock | None = None, token: str = "token-1") -> MyOgoWarehouse:
    account = MyOgoAccount(
        base_url=sim.root_url,
        token_url=f"{sim.root_url}/OAuth/Token",
        merchant_id="M-1",
        secret_token=token,
        client_id="123456",
        client_secret="abcdef",
    )
    return MyOgoWarehouse(account, clock=clock or (lambda: datetime.now(UTC)))


def test_every_order_of_many_pages_is_read_once_with_the_time_zone_applied(
    centra: CentraSimulator, clock: ManualClock
) -> None:
    for _ in range(250):
        centra.add_order()
        clock.advance(60)
    store = _store(centra, clock)

    since = START + timedelta(minutes=99, seconds=30)  # 150.5 orders back from the newest
    orders = [order for order in store.orders_placed_since(since) if isinstance(order, StoreOrder)]

    assert len(orders) == 150
    assert min(order.placed_at for order in orders) == START + timedelta(minutes=100)
    assert centra.calls["GET /orders"] == 3  # 100, 50 more, and the 3 orders overlapping them: nothing new ends it


def test_a_server_capping_its_pages_loses_no_order(centra: CentraSimulator, clock: ManualClock) -> None:
    for _ in range(23):
        centra.add_order()
        clock.advance(60)
    centra.page_cap = 5  # asked for 100 a page, gives 5

    orders = list(_store(centra, clock).orders_placed_since(START - timedelta(minutes=1)))

    assert sorted(order.order_id for order in orders) == [str(1001 + n) for n in range(23)]


def test_an_order_dropping_out_between_two_page_reads_makes_no_other_order_skipped(
    centra: CentraSimulator, clock: ManualClock
) -> None:
    for _ in range(12):
        centra.add_order()
        clock.advance(60)
    centra.page_cap = 4
    centra.hide_after_next_page("1012")  # the newest, on the first page: cancelled while the poll reads on

    orders = list(_store(centra, clock, page_size=4).orders_placed_since(START - timedelta(minutes=1)))

    assert sorted(order.order_id for order in orders) == [str(1001 + n) for n in range(12)]
    assert len(orders) == 12


def test_the_catalog_and_the_stock_list_are_read_whole_from_a_server_capping_its_pages(
    centra: CentraSimulator, clock: ManualClock
) -> None:
    for number in range(7):
        centra.add_product(f"P{number}", "BLK", "M", stock=number)
    centra.page_cap = 3
    store = _store(centra, clock)

    assert len(list(store.products())) == 7
    assert sorted(row["sku"] for row in store._all_stock_rows()) == [f"P{number}" for number in range(7)]


def test_a_single_order_is_read_by_id_and_an_unknown_one_is_none(centra: CentraSimulator, clock: ManualClock) -> None:
    placed = centra.add_order(
        delivery={"name": "Maija", "address": "Teknobulevardi 3", "city": "Vantaa", "country": "FI", "zipcode": "01530"}
    )
    store = _store(centra, clock)

    order = store.get_order(placed["orderId"])

    assert isinstance(order, StoreOrder)
    assert order.customer.name == "Maija"
    assert order.customer.country_code == "FI"
    assert order.lines[0].sku == "TS100BLKM"
    assert store.get_order("999999") is None


def test_a_wrong_api_key_is_an_authentication_error(centra: CentraSimulator, clock: ManualClock) -> None:
    with pytest.raises(AuthenticationError, match="centra HTTP 401"):
        list(_store(centra, clock, api_key="wrong").orders_placed_since(START))


def test_rate_limited_reads_wait_as_told_and_then_succeed(centra: CentraSimulator, clock: ManualClock) -> None:
    centra.add_order()
    centra.faults.configure(FaultConfig(retry_after_s=2), [FaultRule(method="GET", path_prefix="/orders", status=429)])
    sleeps: list[float] = []
    http = HttpClient(CENTRA, centra.base_url, headers={"API-Authorization": "key-1"}, sleep=sleeps.append)
    store = CentraStore(centra.base_url, "key-1", STOCKHOLM, clock=clock, http=http)

    assert len(list(store.orders_placed_since(START - timedelta(hours=1)))) == 1
    assert sleeps == [2.0]


def _order(reference: str, code: str = "TS100BLKM") -> WarehouseOrder:
    return WarehouseOrder(
        reference=reference,
        shipping_code="POSTI",
        customer=WarehouseCustomer(name="Maija", address1="Teknobulevardi 3", city="Vantaa", country_code="FI"),
        order_lines=[WarehouseOrderLine(code=code, quantity=1, unit_price=Decimal("19.90"))],
    )


def test_an_order_is_created_found_and_refused_a_second_time(myogo: MyOgoSimulator) -> None:
    warehouse = _warehouse(myogo)

    created = warehouse.create_order(_order("1001"))
    found = warehouse.find_order("1001")

    assert created.status == "new"
    assert found is not None
    assert found.id == created.id
    assert [(line.code, line.quantity) for line in found.lines or []] == [("TS100BLKM", 1)]
    assert found.customer is not None
    assert (found.customer.name, found.customer.address1, found.customer.city, found.customer.country_code) == (
        "Maija",
        "Teknobulevardi 3",
        "Vantaa",
        "FI",
    )
    with pytest.raises(AlreadyExistsError):
        warehouse.create_order(_order("1001"))
    assert warehouse.find_order("1002") is None
    assert myogo.calls["POST /OAuth/Token"] == 1  # one login for all of it


def test_an_order_with_an_unknown_sku_is_refused_with_myogos_message(myogo: MyOgoSimulator) -> None:
    with pytest.raises(RejectedByPlatformError) as refused:
        _warehouse(myogo).create_order(_order("1001", code="NOPE"))
    assert "NOPE" in refused.value.detail


def test_unknown_product_codes(myogo: MyOgoSimulator) -> None:
    assert _warehouse(myogo).unknown_product_codes(["TS100BLKM", "NOPE"]) == {"NOPE"}


def test_a_token_that_expired_on_the_server_first_is_renewed_once(myogo: MyOgoSimulator, clock: ManualClock) -> None:
    our_clock = ManualClock(START)
    warehouse = _warehouse(myogo, clock=our_clock)
    warehouse.find_order("1")
    clock.advance(5400 + 1)  # the server's clock ran ahead: it sees the token as expired, we do not

    assert warehouse.find_order("1") is None
    assert myogo.calls["POST /OAuth/Token"] == 2


def test_wrong_myogo_credentials_are_an_authentication_error_without_the_secret(myogo: MyOgoSimulator) -> None:
    with pytest.raises(AuthenticationError) as refused:
        _warehouse(myogo, token="not-the-token").find_order("1")
    assert "not-the-token" not in str(refused.value)
    assert "M-1" in str(refused.value)


def test_the_merchants_shipping_codes_and_warehouses_are_listed(myogo: MyOgoSimulator) -> None:
    myogo.add_merchant("M-2", "token-2", shipping_codes={"POSTI", "DHL-EXPRESS"}, warehouses=["GOT"])
    account = _warehouse(myogo)

    assert account.shipping_codes() == {"POSTI"}
    assert account.warehouse_codes() == {"TLL", "GOT", "VNT"}
    assert myogo.calls["GET /api/v1/Metadata/ShippingMethods"] == 1
