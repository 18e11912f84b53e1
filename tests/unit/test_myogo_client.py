"""myOGO v1 client: OAuth2 password login, token cache and renewal, orders, product codes."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import respx
from hypothesis import given
from hypothesis import strategies as st

from ogosync import jsonwire
from ogosync.errors import (
    AlreadyExistsError,
    AuthenticationError,
    NotFoundError,
    PlatformError,
    RejectedByPlatformError,
)
from ogosync.http import HttpClient, RetryPolicy
from ogosync.models import (
    UnreadableWarehouseRecord,
    WarehouseCustomer,
    WarehouseOrder,
    WarehouseOrderLine,
    WarehouseProduct,
    WarehouseProductState,
    WarehouseStockLevel,
)
from ogosync.warehouse import myogo
from ogosync.warehouse.myogo import MyOgoAccount, MyOgoWarehouse

BASE = "http://myogo.test"
TOKEN_URL = "http://myogo.test/OAuth/Token"
SECRET_TOKEN = "merchant-secret-token-XYZ"
CLIENT_SECRET = "client-secret-ABC"
ACCOUNT = MyOgoAccount(
    base_url=BASE,
    token_url=TOKEN_URL,
    merchant_id="M-1001",
    secret_token=SECRET_TOKEN,
    client_id="123456",
    client_secret=CLIENT_SECRET,
)
T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(autouse=True)
def _no_cached_tokens() -> Iterator[None]:
    myogo._tokens.clear()
    yield
    myogo._tokens.clear()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


@pytest.fixture
def tokens(api: respx.MockRouter) -> respx.Route:
    """The token endpoint: each login gets a new access token (tok-1, tok-2, ...)."""
    issued = iter(range(1, 100))

    def issue(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={
                "access_token": f"tok-{next(issued)}",
                "token_type": "bearer",
                "expires_in": 5400,
                "refresh_token": "refresh",
            },
        )

    return api.post("/OAuth/Token").mock(side_effect=issue)


def _warehouse(clock: Clock, account: MyOgoAccount = ACCOUNT) -> MyOgoWarehouse:
    never_sleep = RetryPolicy(attempts=2)
    http = HttpClient(
        "myogo",
        account.base_url,
        headers={"Accept": "application/json"},
        retry=never_sleep,
        sleep=lambda _: None,
        error_message=myogo._error_message,
    )
    token_http = HttpClient(
        "myogo", account.token_url, retry=never_sleep, sleep=lambda _: None, error_message=myogo._error_message
    )
    return MyOgoWarehouse(account, clock=clock, http=http, token_http=token_http)


@pytest.fixture
def warehouse(clock: Clock) -> Iterator[MyOgoWarehouse]:
    wh = _warehouse(clock)
    yield wh
    wh.close()


def _order_json(reference: str = "1001", **changes: Any) -> dict[str, Any]:
    order = {
        "id": "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
        "reference": reference,
        "status": "New",
        "trackingNumber": None,
        "trackingUrl": None,
        "editTime": "2026-06-01T12:00:00Z",
    }
    order.update(changes)
    return order


def _form(request: httpx.Request) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(request.content.decode()).items()}


# ---- login and token ------------------------------------------------------------------------------


def test_login_sends_the_password_grant_form(
    warehouse: MyOgoWarehouse, api: respx.MockRouter, tokens: respx.Route
) -> None:
    api.get("/api/v1/Orders").mock(return_value=httpx.Response(200, json=[]))

    warehouse.find_order("1001")

    assert tokens.call_count == 1
    request = tokens.calls.last.request
    assert str(request.url) == TOKEN_URL  # exactly the configured URL, no trailing slash
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = _form(request)
    assert form["grant_type"] == "password"
    assert form["username"] == "M-1001"
    assert form["password"] == SECRET_TOKEN
    assert form["client_id"] == "123456"
    assert form["client_secret"] == CLIENT_SECRET
    assert set(form["scope"].split()) >= {"read:order", "write:order", "read:product"}


def test_api_calls_carry_the_bearer_token(
    warehouse: MyOgoWarehouse, api: respx.MockRouter, tokens: respx.Route
) -> None:
    orders = api.get("/api/v1/Orders").mock(return_value=httpx.Response(200, json=[]))

    warehouse.find_order("1001")

    assert orders.calls.last.request.headers["Authorization"] == "Bearer tok-1"
    assert orders.calls.last.request.headers["Accept"] == "application/json"


def test_token_is_reused_across_calls_and_instances(
    clock: Clock, warehouse: MyOgoWarehouse, api: respx.MockRouter, tokens: respx.Route
) -> None:
    orders = api.get("/api/v1/Orders").mock(return_value=httpx.Response(200, json=[]))

    warehouse.find_order("1")
    warehouse.find_order("2")
    _warehouse(clock).find_order("3")  # a new client of the same account in the same container

    assert tokens.call_count == 1
    assert orders.call_count == 3
    assert {call.request.headers["Authorization"] for call in orders.calls} == {"Bearer tok-1"}


def test_accounts_do_not_share_tokens(clock: Clock, api: respx.MockRouter, tokens: respx.Route) -> None:
    orders = api.get("/api/v1/Orders").mock(return_value=httpx.Response(200, json=[]))
    other = MyOgoAccount(BASE, TOKEN_URL, "M-2002", "other-secret", "123456", CLIENT_SECRET)

    _warehouse(clock).find_order("1")
    _warehouse(clock, other).find_order("1")

    assert tokens.call_count == 2
    assert [call.request.headers["Authorization"] for call in orders.calls] == ["Bearer tok-1", "Bearer tok-2"]


def test_token_is_renewed_when_it_expires(
    clock: Clock, warehouse: MyOgoWarehouse, api: respx.MockRouter, tokens: respx.Route
) -> None:
    orders = api.get("/api/v1/Orders").mock(return_value=httpx.Response(200, json=[]))

    warehouse.find_order("1")
    clock.now = T0 + timedelta(seconds=5400 - 61)  # still valid (renewed a minute early)
    warehouse.find_order("2")
    assert tokens.call_count == 1

    clock.now = T0 + timedelta(seconds=5400 - 60)
    warehouse.find_order("3")

    assert tokens.call_count == 2
    assert [call.request.headers["Authorization"] for call in orders.calls] == [
        "Bearer tok-1",
        "Bearer tok-1",
        "Bearer tok-2",
    ]


def test_401_from_the_api_triggers_one_relogin_and_one_retry(
    warehouse: MyOgoWarehouse, api: respx.MockRouter, tokens: respx.Route
) -> None:
    orders = api.get("/api/v1/Orders").mock(
        side_effect=[httpx.Response(200, json=[]), httpx.Response(401), httpx.Response(200, json=[_order_json()])]
    )
    warehouse.find_order("0")  # logs in (tok-1)

    found = warehouse.find_order("1001")  # tok-1 refused: log in again (tok-2) and retry once

    assert found is not None
    assert tokens.call_count == 2
    assert orders.call_count == 3
    assert [call.request.headers["Authorization"] for call in orders.calls] == [
        "Bearer tok-1",
        "Bearer tok-1",
        "Bearer tok-2",
    ]


def test_a_second_401_is_an_authentication_error(
    warehouse: MyOgoWarehouse, api: respx.MockRouter, tokens: respx.Route
) -> None:
    orders = api.get("/api/v1/Orders").mock(
        return_value=httpx.Response(401, json={"statusCode": 401, "message": "Unauthorized"})
    )

    with pytest.raises(AuthenticationError) as caught:
        warehouse.find_order("1001")

    assert orders.call_count == 2
    assert tokens.call_count == 2
    assert caught.value.platform == "myogo"


def test_wrong_credentials_are_an_authentication_error_without_the_secret(
    warehouse: MyOgoWarehouse, api: respx.MockRouter
) -> None:
    tokens = api.post("/OAuth/Token").mock(
        return_value=httpx.Response(
            400, json={"error": "invalid_grant", "error_description": "The user name or password is incorrect."}
        )
    )
    orders = api.get("/api/v1/Orders").mock(return_value=httpx.Response(200, json=[]))

    with pytest.raises(AuthenticationError) as caught:
        warehouse.find_order("1001")

    message = str(caught.value)
    assert "myogo" in message
    assert "M-1001" in message
    assert "incorrect" in message
    assert SECRET_TOKEN not in message
    assert CLIENT_SECRET not in message
    assert caught.value.status == 400
    assert tokens.call_count == 1  # a refused login is not tried again at once
    assert orders.call_count == 0


def test_token_answer_without_access_token_is_a_platform_error(
    warehouse: MyOgoWarehouse, api: respx.MockRouter
) -> None:
    api.post("/OAuth/Token").mock(return_value=httpx.Response(200, json={"token_type": "bearer"}))

    with pytest.raises(PlatformError, match="no access_token"):
        warehouse.find_order("1001")


def test_a_failed_login_caches_nothing(warehouse: MyOgoWarehouse, api: respx.MockRouter) -> None:
    api.post("/OAuth/Token").mock(
        side_effect=[
            httpx.Response(400, json={"error": "invalid_grant"}),
            httpx.Response(200, json={"access_token": "tok-ok", "expires_in": 5400}),
        ]
    )
    orders = api.get("/api/v1/Orders").mock(return_value=httpx.Response(200, json=[]))

    with pytest.raises(AuthenticationError):
        warehouse.find_order("1")
    warehouse.find_order("1")

    assert orders.calls.last.request.headers["Authorization"] == "Bearer tok-ok"


# ---- orders ---------------------------------------------------------------------------------------


def _warehouse_order(**changes: Any) -> WarehouseOrder:
    values: dict[str, Any] = {
        "reference": "ACME-1001",
        "shipping_code": "pickup_123",
        "customer": WarehouseCustomer(
            name="Test Person", address1="Teknobulevardi 3-5", city="Vantaa", country_code="FI", zip="01530"
        ),
        "order_lines": [
            WarehouseOrderLine(code="SKU-1", quantity=2, unit_price=Decimal("12.40"), vat_percentage=Decimal("24")),
            WarehouseOrderLine(code="SKU-2", quantity=1),
        ],
        "price_total": Decimal("24.80"),
        "price_currency": "EUR",
    }
    values.update(changes)
    return WarehouseOrder(**values)


def test_create_order_posts_camel_case_json_without_nulls(
    warehouse: MyOgoWarehouse, api: respx.MockRouter, tokens: respx.Route
) -> None:
    route = api.post("/api/v1/Orders").mock(
        return_value=httpx.Response(200, json=_order_json("ACME-1001", status="NEW", trackingNumber="JJFI123"))
    )

    state = warehouse.create_order(_warehouse_order())

    request = route.calls.last.request
    assert request.headers["Authorization"] == "Bearer tok-1"
    assert request.headers["Content-Type"] == "application/json"
    sent = json.loads(request.content)
    assert sent["reference"] == "ACME-1001"
    assert sent["status"] == "new"
    assert sent["shippingCode"] == "pickup_123"
    assert sent["customer"]["countryCode"] == "FI"
    assert sent["orderLines"] == [
        {"code": "SKU-1", "quantity": 2, "unitPrice": 12.4, "vatPercentage": 24},
        {"code": "SKU-2", "quantity": 1},
    ]
    assert sent["priceTotal"] == 24.8
    assert sent["priceCurrency"] == "EUR"
    assert "pickUpPointCode" not in sent
    assert "comments" not in sent
    assert "company" not in sent["customer"]

    def no_nulls(value: Any) -> bool:
        if isinstance(value, dict):
            return all(v is not None and no_nulls(v) for v in value.values())
        if isinstance(value, list):
            return all(no_nulls(v) for v in value)
        return True

    assert no_nulls(sent)
    assert not any("_" in key for key in sent)  # no snake_case leaked through

    assert state.reference == "ACME-1001"
    assert state.status == "new"
    assert state.tracking_number == "JJFI123"
    assert state.id == "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
    assert state.edited_at == datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def test_create_order_is_sent_once_even_on_a_5xx(
    warehouse: MyOgoWarehouse, api: respx.MockRouter, tokens: respx.Route
) -> None:
    route = api.post("/api/v1/Orders").mock(return_value=httpx.Response(503))

    with pytest.raises(PlatformError):
        warehouse.create_order(_warehouse_order())

    assert route.call_count == 1


@pytest.mark.parametrize(
    "message",
    [
        "Trying to add new order but order with same reference ACME-1001",
        "Order ACME-1001 already exists",
        "ORDER WITH SAME REFERENCE EXISTS",
    ],
)
def test_duplicate_reference_is_already_exists(
    warehouse: MyOgoWarehouse, api: respx.MockRouter, tokens: respx.Route, message: str
) -> None:
    api.post("/api/v1/Orders").mock(
        return_value=httpx.Response(
            400, json={"statusCode": 400, "statusDescription": "Bad Request", "message": message}
        )
    )

    with pytest.raises(AlreadyExistsError) as caught:
        warehouse.create_order(_warehouse_order())

    assert caught.value.status == 400
    assert caught.value.platform == "myogo"
    assert isinstance(caught.value, RejectedByPlatformError)


def test_other_400_is_rejected(warehouse: MyOgoWarehouse, api: respx.MockRouter, tokens: respx.Route) -> None:
    api.post("/api/v1/Orders").mock(
        return_value=httpx.Response(400, json={"statusCode": 400, "message": "Product SKU-9 not found"})
    )

    with pytest.raises(RejectedByPlatformError) as caught:
        warehouse.create_order(_warehouse_order())

    assert type(caught.value) is RejectedByPlatformError
    assert "Product SKU-9 not found" in str(caught.value)
    assert caught.value.status == 400


def test_find_order_matches_the_reference_exactly(
    warehouse: MyOgoWarehouse, api: respx.MockRouter, tokens: respx.Route
) -> None:
    route = api.get("/api/v1/Orders").mock(
        return_value=httpx.Response(
            200,
            json=[
                _order_json("ACME-10011", status="SHIPPED"),
                _order_json("acme-1001", status="SHIPPED"),
                _order_json(
                    "ACME-1001",
                    status="SHIPPED",
                    trackingNumber="JJFI1,JJFI2",
                    trackingUrl="https://track.example/JJFI1",
                ),
            ],
        )
    )

    state = warehouse.find_order("ACME-1001")

    assert state is not None
    assert state.reference == "ACME-1001"
    assert state.status == "shipped"
    assert state.tracking_number == "JJFI1,JJFI2"
    assert state.tracking_url == "https://track.example/JJFI1"
    assert route.calls.last.request.url.params["reference"] == "ACME-1001"


def test_find_order_without_an_exact_match_is_none(
    warehouse: MyOgoWarehouse, api: respx.MockRouter, tokens: respx.Route
) -> None:
    api.get("/api/v1/Orders").mock(return_value=httpx.Response(200, json=[_order_json("ACME-10011")]))

    assert warehouse.find_order("ACME-1001") is None


@pytest.mark.parametrize("body", ["[]", "null"])
def test_find_order_on_an_empty_answer_is_none(
    warehouse: MyOgoWarehouse, api: respx.MockRouter, tokens: respx.Route, body: str
) -> None:
    api.get("/api/v1/Orders").mock(return_value=httpx.Response(200, text=body))

    assert warehouse.find_order("ACME-1001") is None


def test_find_order_parses_missing_optional_fields(
    warehouse: MyOgoWarehouse, api: respx.MockRouter, tokens: respx.Route
) -> None:
    api.get("/api/v1/Orders").mock(return_value=httpx.Response(200, json=[{"reference": "R1", "status": "Collecting"}]))

    state = warehouse.find_order("R1")

    assert state is not None
    assert state.status == "collecting"
    assert state.tracking_number is None
    assert state.edited_at is None


# ---- products -------------------------------------------------------------------------------------


def test_unknown_product_codes_and_cache_of_known_ones(
    warehouse: MyOgoWarehouse, api: respx.MockRouter, tokens: respx.Route
) -> None:
    known = {"SKU-1", "SKU-2"}

    def products(request: httpx.Request) -> httpx.Response:
        code = request.url.params["code"]
        # The search may return near matches: only an exact code counts.
        body = [{"code": code}] if code in known else [{"code": code + "-OLD"}]
        return httpx.Response(200, json=body)

    route = api.get("/api/v1/Products").mock(side_effect=products)

    assert warehouse.unknown_product_codes(["SKU-1", "SKU-2", "SKU-9", "SKU-1"]) == {"SKU-9"}
    assert route.call_count == 3
    assert sorted(call.request.url.params["code"] for call in route.calls) == ["SKU-1", "SKU-2", "SKU-9"]

    assert warehouse.unknown_product_codes(["SKU-1", "SKU-2"]) == set()
    assert route.call_count == 3  # known codes are not asked again

    assert warehouse.unknown_product_codes(["SKU-9"]) == {"SKU-9"}
    assert route.call_count == 4  # unknown ones are: they may have been created meanwhile


def test_unknown_product_codes_of_nothing_makes_no_request(
    warehouse: MyOgoWarehouse, api: respx.MockRouter, tokens: respx.Route
) -> None:
    assert warehouse.unknown_product_codes([]) == set()
    assert tokens.call_count == 0


def _product(code: str = "TS100BLKM", **changes: Any) -> WarehouseProduct:
    values: dict[str, Any] = {
        "code": code,
        "name": "Basic T-shirt / Black / M",
        "description": "Organic cotton.",
        "ean_code": "7350000000017",
        "sales_price": Decimal("299.0"),
        "currency_code": "SEK",
        "info_url": "https://shop.example/p/TS100BLKM",
        "picture_url": "https://cdn.example/TS100BLK.jpg",
        "language_code": "en",
    }
    values.update(changes)
    return WarehouseProduct(**values)


def _product_json(code: str, **changes: Any) -> dict[str, Any]:
    body = _product(code).to_wire() | {"id": f"id-{code}", "stock": 0, "stockAvailable": 0, "editTime": None}
    body.update(changes)
    return body


def test_create_product_posts_the_camel_case_payload(
    warehouse: MyOgoWarehouse, api: respx.MockRouter, tokens: respx.Route
) -> None:
    route = api.post("/api/v1/Products").mock(return_value=httpx.Response(200, json=_product_json("TS100BLKM")))

    state = warehouse.create_product(_product(description=None))

    sent = json.loads(route.calls.last.request.content)
    assert sent == {
        "code": "TS100BLKM",
        "name": "Basic T-shirt / Black / M",
        "eanCode": "7350000000017",
        "salesPrice": 299.0,
        "currencyCode": "SEK",
        "infoUrl": "https://shop.example/p/TS100BLKM",
        "pictureUrl": "https://cdn.example/TS100BLK.jpg",
        "languageCode": "en",
    }
    assert (state.id, state.code, state.sales_price) == ("id-TS100BLKM", "TS100BLKM", Decimal("299.0"))


def test_money_goes_out_as_exact_json_numbers(
    warehouse: MyOgoWarehouse, api: respx.MockRouter, tokens: respx.Route
) -> None:
    orders = api.post("/api/v1/Orders").mock(return_value=httpx.Response(200, json=_order_json("ACME-1001")))
    products = api.put("/api/v1/Products/TS100BLKM").mock(return_value=httpx.Response(200, json=_product_json("P")))
    line = WarehouseOrderLine(code="SKU-1", quantity=1, unit_price=Decimal("19.99"), vat_percentage=Decimal("25.5"))
    exact = Decimal("1234567890123.0000000001")  # more digits than a float holds

    warehouse.create_order(_warehouse_order(order_lines=[line], price_total=exact))
    warehouse.update_product("TS100BLKM", _product(sales_price=Decimal("0.10")))

    order_body = orders.calls.last.request.content
    assert b'"unitPrice":19.99,' in order_body and b'"vatPercentage":25.5}' in order_body
    assert b'"priceTotal":1234567890123.0000000001,' in order_body
    assert b'"salesPrice":0.10,' in products.calls.last.request.content
    assert products.calls.last.request.headers["Content-Type"] == "application/json"


def test_a_non_finite_amount_has_no_json_number() -> None:
    assert jsonwire.dumps({"a": [Decimal("-0.50"), 1, "x", None, True]}) == b'{"a":[-0.50,1,"x",null,true]}'
    with pytest.raises(ValueError, match="no JSON number"):
        jsonwire.dumps({"salesPrice": Decimal("Infinity")})


def test_a_product_code_myogo_has_is_already_exists(
    warehouse: MyOgoWarehouse, api: respx.MockRouter, tokens: respx.Route
) -> None:
    api.post("/api/v1/Products").mock(
        return_value=httpx.Response(400, json={"statusCode": 400, "message": "Product with code 'X' already exists"})
    )

    with pytest.raises(AlreadyExistsError):
        warehouse.create_product(_product("X"))


def test_create_product_is_sent_once_even_on_a_5xx(
    warehouse: MyOgoWarehouse, api: respx.MockRouter, tokens: respx.Route
) -> None:
    route = api.post("/api/v1/Products").mock(return_value=httpx.Response(503))

    with pytest.raises(PlatformError):
        warehouse.create_product(_product())

    assert route.call_count == 1  # the outcome is unknown: the engine looks the code up instead


def test_update_product_puts_a_plain_code_in_the_path(
    warehouse: MyOgoWarehouse, api: respx.MockRouter, tokens: respx.Route
) -> None:
    route = api.put("/api/v1/Products/TS100-BLK_M").mock(
        return_value=httpx.Response(200, json=_product_json("TS100-BLK_M"))
    )

    warehouse.update_product("TS100-BLK_M", _product("TS100-BLK_M"))

    assert route.call_count == 1
    assert "base64url" not in route.calls.last.request.url.params


@pytest.mark.parametrize("code", ["JACKET/BLK 42?", "Å-100", "50%+1", "a.b"])
def test_update_product_sends_other_codes_base64url_encoded(
    warehouse: MyOgoWarehouse, api: respx.MockRouter, tokens: respx.Route, code: str
) -> None:
    route = api.put(path__regex=r"^/api/v1/products/[A-Za-z0-9_-]+$").mock(
        return_value=httpx.Response(200, json=_product_json(code))
    )

    warehouse.update_product(code, _product(code))

    url = route.calls.last.request.url
    assert url.params["base64url"] == "true"
    encoded = url.path.rsplit("/", 1)[1]
    assert base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode() == code


def test_update_of_an_unknown_product_is_not_found(
    warehouse: MyOgoWarehouse, api: respx.MockRouter, tokens: respx.Route
) -> None:
    api.put("/api/v1/Products/GONE").mock(return_value=httpx.Response(404, json={"message": "not found"}))

    with pytest.raises(NotFoundError):
        warehouse.update_product("GONE", _product("GONE"))


def test_list_products_reads_pages_of_250_until_a_short_one(
    warehouse: MyOgoWarehouse, api: respx.MockRouter, tokens: respx.Route
) -> None:
    pages = [[_product_json(f"P{page}-{n}") for n in range(size)] for page, size in enumerate((250, 250, 3))]
    route = api.get("/api/v1/Products").mock(side_effect=[httpx.Response(200, json=page) for page in pages])

    products = list(warehouse.list_products())

    assert len(products) == 503 and products[-1].code == "P2-2"
    assert [call.request.url.params["page"] for call in route.calls] == ["1", "2", "3"]
    assert {call.request.url.params["limit"] for call in route.calls} == {"250"}


def test_find_product_matches_the_code_exactly(
    warehouse: MyOgoWarehouse, api: respx.MockRouter, tokens: respx.Route
) -> None:
    route = api.get("/api/v1/Products").mock(
        return_value=httpx.Response(200, json=[_product_json("TS100BLKM-OLD"), _product_json("TS100BLKM")])
    )

    found = warehouse.find_product("TS100BLKM")

    assert found is not None and found.id == "id-TS100BLKM"
    assert route.calls.last.request.url.params["code"] == "TS100BLKM"
    api.get("/api/v1/Products").mock(return_value=httpx.Response(200, json=[_product_json("TS100BLKM-OLD")]))
    assert warehouse.find_product("TS100BLKM") is None


def test_a_product_state_compares_content_but_not_the_ean() -> None:
    state = WarehouseProductState.model_validate(_product_json("P1", eanCode="999", salesPrice=299, description=""))

    assert state.description is None  # myOGO's empty strings are no value
    assert state.same_content(_product("P1", description=None))  # 299 == 299.0, and the EAN is myOGO's own
    assert not state.same_content(_product("P1", description="New text"))


# ---- what the merchant can choose: shipping codes and warehouses ----------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(["code", "name", "x"]), inner),
    max_leaves=12,
)


@given(JSON)
def test_any_json_list_of_codes_is_a_set_of_codes_none_or_a_platform_error(raw: Any) -> None:
    try:
        codes = myogo.parse_codes(raw)
    except PlatformError:
        return
    assert codes is None or (codes and all(isinstance(code, str) and code == code.strip() for code in codes))


def test_shipping_codes_and_warehouses_are_read_from_their_lists(
    warehouse: MyOgoWarehouse, api: respx.MockRouter, tokens: respx.Route
) -> None:
    api.get("/api/v1/Metadata/ShippingMethods").respond(
        200, json=[{"code": "POSTI", "name": "Posti"}, {"code": " DHL ", "name": "DHL"}, {"name": "no code"}]
    )
    api.get("/api/v1/Metadata/Warehouses").respond(200, json=[{"code": "TLL"}, {"code": "GOT"}])

    assert warehouse.shipping_codes() == {"POSTI", "DHL"}
    assert warehouse.warehouse_codes() == {"TLL", "GOT"}


@pytest.mark.parametrize(("status", "body"), [(404, {"message": "No HTTP resource"}), (403, {"message": "scope"})])
def test_an_account_without_the_list_has_none_to_check_against(
    warehouse: MyOgoWarehouse, api: respx.MockRouter, tokens: respx.Route, status: int, body: Any
) -> None:
    api.get("/api/v1/Metadata/ShippingMethods").respond(status, json=body)
    api.get("/api/v1/Metadata/Warehouses").respond(200, text="null")  # an empty list, in myOGO's way

    assert warehouse.shipping_codes() is None
    assert warehouse.warehouse_codes() is None


def test_a_list_that_is_not_json_is_a_platform_error(
    warehouse: MyOgoWarehouse, api: respx.MockRouter, tokens: respx.Route
) -> None:
    api.get("/api/v1/Metadata/Warehouses").respond(200, text="<html>")

    with pytest.raises(PlatformError):
        warehouse.warehouse_codes()


def test_unreadable_order_and_stock_rows_do_not_stop_the_listing(
    warehouse: MyOgoWarehouse, api: respx.MockRouter, tokens: respx.Route
) -> None:
    loose = _order_json(
        "1004", status="Shipped", editTime="yesterday", orderLines=[{"code": "SKU-1", "quantity": "1.0"}]
    )
    orders = [_order_json("1001"), _order_json("1002", orderLines=[None]), "garbage", loose]
    api.get("/api/v1/Orders").mock(return_value=httpx.Response(200, json=orders))
    rows = [{"productCode": "A", "stockAvailable": "3.0"}, {"productCode": "B", "stockAvailable": {}}, None]
    api.get("/api/v1/Stock").mock(return_value=httpx.Response(200, json=rows))

    changes = list(warehouse.orders_changed_since(datetime(2026, 6, 1, tzinfo=UTC)))
    levels = list(warehouse.stock_levels(None))

    assert [getattr(change, "reference", None) or getattr(change, "key", None) for change in changes] == [
        "1001",
        "1002",
        None,
        "1004",
    ]
    assert [type(change).__name__ for change in changes] == [
        "WarehouseOrderChange",
        "UnreadableWarehouseRecord",
        "UnreadableWarehouseRecord",
        "WarehouseOrderChange",
    ]
    assert changes[1].problem == "order line is not an object: None"  # type: ignore[union-attr]
    assert changes[3].lines[0].quantity == 1 and changes[3].edited_at is None  # type: ignore[union-attr]
    assert levels[0] == WarehouseStockLevel(code="A", available=3)
    assert levels[1:] == [
        UnreadableWarehouseRecord(key="B", problem="stockAvailable is not a whole number: {}"),
        UnreadableWarehouseRecord(key=None, problem="stock row is not an object: None"),
    ]
