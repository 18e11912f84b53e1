"""The console's handler over in-memory fakes: sign-in, roles, CSRF, the security headers and escaping, and the
order pages and actions."""

from __future__ import annotations

from datetime import timedelta
from html import escape

import pytest

from ogosync.console.app import handle
from ogosync.console.deps import ConsoleDeps, SignInRefused
from ogosync.console.session import Identity, NewPasswordNeeded, decode
from ogosync.errors import AuthenticationError, PlatformError
from ogosync.models import (
    BindingStatus,
    Flow,
    Hold,
    HoldReason,
    OrderImportJob,
    Platform,
    ProductAction,
    ProductActionJob,
    ProductProblem,
    ProductProblemKind,
    ProductReportHeader,
    ProductRow,
    ProductState,
    PublishedStock,
    StockRunState,
)
from ogosync.operator.deps import OperatorDeps
from ogosync.stores import registry
from tests.console_client import ConsoleClient
from tests.factories import T0, make_integration
from tests.fakes import FakeQueue, FakeStore, FakeWarehouse, InMemoryState
from tests.fakes_operator import (
    FakeAccessCheck,
    FakeMyOgoAccount,
    FakeSecretWriter,
    FakeWorkQueues,
    InMemoryConsoleSessions,
    InMemoryIntegrationConfig,
)
from tests.fakes_product_page import InMemoryProductRuns
from tests.fakes_stock import InMemoryStockLedger

SCRIPT = "<script>alert(1)</script>"
USERS = {
    "olga": ("operator-pw", Identity(username="olga", operator=True)),
    "anna": ("anna-pw", Identity(username="anna", operator=False, merchant="Acme Apparel")),
    "bert": ("bert-pw", Identity(username="bert", operator=False, merchant="Bolt Bikes")),
}

DNS = {  # what the fake resolver answers; a name missing here is not found
    "acme.centra.example": ["93.184.216.34"],
    "acme.myshopify.com": ["23.227.38.65"],
    "api.ogoship.com": ["2606:4700::6810:1"],
    "my.ogoship.com": ["104.16.1.1"],
    "metadata.attacker.example": ["93.184.216.35", "169.254.169.254"],
    "intranet.attacker.example": ["10.1.2.3"],
}


class FakeSignIn:
    """The users above; "ivan" is invited (temporary password "temp-pw") and must choose a password first."""

    def __init__(self) -> None:
        self.signed_out: list[str] = []  # the users whose identity-provider tokens were revoked

    def sign_in(self, username: str, password: str) -> Identity | NewPasswordNeeded:
        if (username, password) == ("ivan", "temp-pw"):
            return NewPasswordNeeded(username="ivan", challenge="cognito-session-1")
        known = USERS.get(username)
        if known is None or known[0] != password:
            raise SignInRefused("wrong user name or password")
        return known[1]

    def set_new_password(self, challenge: NewPasswordNeeded, new_password: str) -> Identity:
        if challenge.challenge != "cognito-session-1" or len(new_password) < 12:
            raise SignInRefused("the new password is not accepted: too short")
        return Identity(username=challenge.username, operator=False, merchant="Acme Apparel")

    def sign_out(self, username: str) -> None:
        self.signed_out.append(username)


class World:
    def __init__(self) -> None:
        self.state = InMemoryState()
        self.state.put_integration(make_integration("acme-centra", merchant_name="Acme Apparel"))
        self.state.put_integration(make_integration("bolt-centra", merchant_name="Bolt Bikes"))
        self.order_queue = FakeQueue()
        self.products_queue = FakeQueue()
        self.secrets = FakeSecretWriter()
        self.product_runs = InMemoryProductRuns()
        self.sign_in = FakeSignIn()
        self.sessions = InMemoryConsoleSessions()
        operator = OperatorDeps(
            state=self.state,
            config=InMemoryIntegrationConfig(self.state),
            secrets=self.secrets,
            secret_writer=self.secrets,
            access_checks=lambda *_: {"store": FakeAccessCheck(), "myogo": FakeAccessCheck()},
            store=lambda _: FakeStore(),
            warehouse=lambda _: FakeWarehouse(),
            order_queue=self.order_queue,
            flow_queues={Flow.ORDERS: FakeQueue(), Flow.PRODUCTS: self.products_queue},
            work_queues=FakeWorkQueues({"order-import": 2}),
            webhook_base_url="https://hooks.example/",
            clock=lambda: T0 + timedelta(hours=3),
        )
        self.deps = ConsoleDeps(
            operator=operator,
            product_runs=self.product_runs,
            sign_in=self.sign_in,
            session_key=b"k" * 32,
            sessions=self.sessions,
            resolve=lambda host: DNS.get(host, []),
        )

    def client(self, username: str | None = None) -> ConsoleClient:
        client = ConsoleClient(lambda event: handle(event, self.deps))
        if username is not None:
            assert client.sign_in(username, USERS[username][0])["statusCode"] == 303
        return client

    def hold(self, integration_id: str, order_id: str, detail: str = "no myOGO shipping code for 'express'") -> None:
        hold = Hold(reason=HoldReason.UNKNOWN_SKU, detail=detail)
        self.state.mark_order_held(integration_id, order_id, order_id, [hold], T0, T0 - timedelta(minutes=30))


@pytest.fixture
def world() -> World:
    return World()


def test_every_answer_has_the_security_headers_and_pages_need_a_sign_in(world: World) -> None:
    client = world.client()

    page = client.get("/")
    sign_in = client.get("/sign-in")

    assert (page["statusCode"], page["headers"]["Location"]) == (303, "/sign-in")
    policy = sign_in["headers"]["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
    assert sign_in["headers"]["X-Frame-Options"] == "DENY"
    cookie = page["headers"]["Set-Cookie"]  # the first answer sets the (anonymous) session
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


def test_a_wrong_password_is_refused_and_a_right_one_gives_a_new_session(world: World) -> None:
    client = world.client()
    client.get("/sign-in")
    anonymous = client.cookie

    wrong = client.sign_in("anna", "nope")
    right = client.sign_in("anna", "anna-pw")

    assert wrong["statusCode"] == 401 and "wrong user name or password" in wrong["body"]
    assert right["statusCode"] == 303 and client.cookie != anonymous
    assert "acme-centra" in client.get("/")["body"]


def test_a_forged_or_altered_cookie_is_an_anonymous_visitor(world: World) -> None:
    client = world.client("olga")
    payload, _, signature = (client.cookie or "").partition(".")
    client.cookie = f"{payload[:-2]}xx.{signature}"

    assert client.get("/")["statusCode"] == 303


def test_signing_out_ends_the_session_for_good_and_clears_the_cookie(world: World) -> None:
    anna = world.client("anna")
    kept = anna.cookie  # a copy of the cookie, as a thief or a shared computer would keep it
    other_device = world.client("anna")

    signed_out = anna.post("/sign-out")
    anna.cookie = kept
    replayed = anna.get("/")
    replayed_action = anna.request("POST", "/integrations/acme-centra/pause", {"csrf": _csrf_of(world, kept)})

    assert (signed_out["statusCode"], signed_out["headers"]["Location"]) == (303, "/sign-in")
    assert (
        signed_out["headers"]["Set-Cookie"].startswith("ogosync_session=;")
        and "Max-Age=0" in signed_out["headers"]["Set-Cookie"]
    )
    assert (replayed["statusCode"], replayed["headers"]["Location"]) == (303, "/sign-in")
    assert replayed_action["statusCode"] == 303 and replayed_action["headers"]["Location"] == "/sign-in"
    acme = world.state.get_integration("acme-centra")
    assert acme is not None and acme.status == "active"
    assert world.sign_in.signed_out == ["anna"]
    assert other_device.get("/")["statusCode"] == 200  # the console's other session of the user stays


def test_a_signed_in_cookie_without_a_live_session_opens_nothing(world: World) -> None:
    olga = world.client("olga")
    world.sessions.sessions.clear()  # e.g. a cookie made before sessions were kept, or its item expired

    assert olga.get("/status")["statusCode"] == 303


def _csrf_of(world: World, cookie: str | None) -> str:
    session = decode((cookie or "").split("=", 1)[1], world.deps.session_key, world.deps.operator.clock())
    assert session is not None
    return session.csrf


def test_a_merchant_sees_only_its_integrations_and_is_refused_on_anothers_pages_and_actions(world: World) -> None:
    world.hold("bolt-centra", "2001")
    anna = world.client("anna")

    listing = anna.get("/")["body"]
    refused = [
        anna.get("/integrations/bolt-centra/orders")["statusCode"],
        anna.get("/integrations/bolt-centra/orders/2001")["statusCode"],
        anna.post("/integrations/bolt-centra/pause")["statusCode"],
        anna.post("/integrations/bolt-centra/orders/2001/release")["statusCode"],
        anna.post("/integrations/bolt-centra/orders/2001/do-not-send")["statusCode"],
        anna.post("/integrations/bolt-centra/orders/release-all")["statusCode"],
        anna.get("/status")["statusCode"],
    ]

    assert "acme-centra" in listing and "bolt-centra" not in listing
    assert refused == [404, 404, 404, 404, 404, 404, 403]
    assert world.order_queue.jobs == []
    bolt = world.state.get_integration("bolt-centra")
    binding = world.state.get_order_binding("bolt-centra", "2001")
    assert bolt is not None and bolt.status == "active"
    assert binding is not None and binding.status is BindingStatus.HELD


def test_an_operator_sees_every_integration_and_the_status_page(world: World) -> None:
    olga = world.client("olga")

    listing = olga.get("/")["body"]
    status = olga.get("/status")

    assert "acme-centra" in listing and "bolt-centra" in listing
    assert status["statusCode"] == 200 and "order-import" in status["body"]


def test_a_form_without_the_sessions_csrf_token_is_refused(world: World) -> None:
    anna = world.client("anna")
    other = world.client("bert")

    missing = anna.post("/integrations/acme-centra/pause", token=False)
    foreign = anna.request("POST", "/integrations/acme-centra/pause", {"csrf": other.csrf()})
    sign_in = world.client().post("/sign-in", {"username": "anna", "password": "anna-pw"}, token=False)

    assert (missing["statusCode"], foreign["statusCode"], sign_in["statusCode"]) == (403, 403, 403)
    acme = world.state.get_integration("acme-centra")
    assert acme is not None and acme.status == "active"


def test_text_from_a_store_is_shown_as_text(world: World) -> None:
    world.hold("acme-centra", "1001", detail=f"the store has no SKU for {SCRIPT}")
    anna = world.client("anna")

    pages = [
        anna.get("/integrations/acme-centra/orders")["body"],
        anna.get("/integrations/acme-centra/orders/1001")["body"],
    ]

    for page in pages:
        assert SCRIPT not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_held_order_is_listed_with_its_reason_and_age_then_released(world: World) -> None:
    world.hold("acme-centra", "1001")
    anna = world.client("anna")

    listing = anna.get("/integrations/acme-centra/orders")["body"]
    released = anna.post("/integrations/acme-centra/orders/1001/release")

    assert "no myOGO shipping code for &#x27;express&#x27;" in listing and "3 h 0 min" in listing
    assert released["statusCode"] == 303
    assert world.order_queue.jobs == [OrderImportJob(integration_id="acme-centra", order_id="1001", source="recheck")]
    assert "imported again now" in anna.get(released["headers"]["Location"])["body"]


def test_the_orders_page_shows_what_the_order_poll_says_to_check(world: World) -> None:
    cursor = world.state.get_cursor("acme-centra", Flow.ORDERS)
    switched_off = "webhook 7 'orders' (order.created) is disabled: set its status to Active"
    world.state.save_cursor(
        cursor.model_copy(update={"switched_off_webhooks": [switched_off], "webhooks_checked_at": T0})
    )
    anna = world.client("anna")

    acme = anna.get("/integrations/acme-centra/orders")["body"]
    bolt = anna.get("/integrations/bolt-centra/orders")["body"]

    assert 'id="order-warnings"' in acme and "webhook 7 &#x27;orders&#x27; (order.created) is disabled" in acme
    assert 'id="order-warnings"' not in bolt


def test_do_not_send_and_pause_change_the_state(world: World) -> None:
    world.hold("acme-centra", "1001")
    anna = world.client("anna")

    anna.post("/integrations/acme-centra/orders/1001/do-not-send")
    anna.post("/integrations/acme-centra/pause")
    again = anna.post("/integrations/acme-centra/orders/1001/do-not-send")

    binding = world.state.get_order_binding("acme-centra", "1001")
    acme = world.state.get_integration("acme-centra")
    assert binding is not None and binding.status is BindingStatus.SKIPPED
    assert acme is not None and acme.status == "paused"
    assert again["statusCode"] == 409 and "only a held order" in again["body"]


def test_an_order_number_is_looked_up_and_a_bad_one_refused(world: World) -> None:
    world.hold("acme-centra", "1001")
    anna = world.client("anna")

    found = anna.get("/integrations/acme-centra/orders?find=1001")
    bad = anna.get("/integrations/acme-centra/orders?find=%3Cx%3E")

    assert (found["statusCode"], found["headers"]["Location"]) == (303, "/integrations/acme-centra/orders/1001")
    assert bad["statusCode"] == 422


def test_an_operator_redrives_or_discards_dead_letters_one_by_one_and_a_merchant_may_not(world: World) -> None:
    olga, anna = world.client("olga"), world.client("anna")
    queues = world.deps.operator.work_queues

    listing = olga.get("/status/queues/order-import")["body"]
    refused = [
        anna.get("/status/queues/order-import")["statusCode"],
        anna.post("/status/queues/order-import/messages/order-import-0/redrive")["statusCode"],
        anna.post("/status/queues/order-import/discard-all")["statusCode"],
    ]
    redriven = olga.post("/status/queues/order-import/messages/order-import-0/redrive")
    discarded = olga.post("/status/queues/order-import/messages/order-import-1/discard")
    unknown = olga.post("/status/queues/order-import/messages/order-import-1/discard")

    assert "order-import-0" in listing and "order-import-1" in listing and "{&quot;n&quot;: 0}" in listing
    assert refused == [403, 403, 403]
    assert (redriven["statusCode"], discarded["statusCode"], unknown["statusCode"]) == (303, 303, 404)
    assert queues.depth("order-import").dead_letters == 0 and queues.depth("order-import").waiting == 1


def _report(world: World, rows: list[ProductRow]) -> None:
    counts = {state: sum(1 for row in rows if row.state is state) for state in ProductState}
    header = ProductReportHeader(
        integration_id="acme-centra",
        report_id="r1",
        run_id="run-1",
        refreshed_at=T0,
        counts=counts,
        rows=len(rows),
        chunks=1,
    )
    world.product_runs.put_product_report(header, rows)


def test_products_are_refreshed_listed_with_filters_and_created_some_or_all(world: World) -> None:
    anna = world.client("anna")
    before = anna.get("/integrations/acme-centra/products")["body"]
    refreshed = anna.post("/integrations/acme-centra/products/refresh")
    busy = anna.post("/integrations/acme-centra/products/refresh")
    running = anna.get("/integrations/acme-centra/products")["body"]
    world.state.release_lock("acme-centra", Flow.PRODUCTS, world.product_runs.runs["acme-centra"].run_id)
    _report(
        world,
        [
            ProductRow(sku="TS100BLKM", state=ProductState.NOT_IN_MYOGO, name=SCRIPT),
            ProductRow(sku="TS100BLKL", state=ProductState.LINKED, name="Tee L"),
            ProductRow(
                sku=None,
                state=ProductState.ERROR,
                name="Cap",
                problems=[ProductProblem(kind=ProductProblemKind.MISSING_SKU, detail="the store has no SKU for it")],
            ),
        ],
    )

    listing = anna.get("/integrations/acme-centra/products")["body"]
    errors = anna.get("/integrations/acme-centra/products?state=error")["body"]
    found = anna.get("/integrations/acme-centra/products?q=TS100BLKL")["body"]
    none_picked = anna.post("/integrations/acme-centra/products/create")
    picked = anna.request(
        "POST", "/integrations/acme-centra/products/create", {"csrf": anna.csrf(), "sku": "TS100BLKM"}
    )

    assert "No refresh yet" in before
    assert refreshed["statusCode"] == 303 and busy["statusCode"] == 409
    assert 'http-equiv="refresh"' in running and "Refresh: queued" in running
    assert SCRIPT not in listing and "&lt;script&gt;alert(1)&lt;/script&gt;" in listing
    assert "the store has no SKU for it" in errors and "TS100BLKM" not in errors
    assert "TS100BLKL" in found and "TS100BLKM" not in found
    assert none_picked["statusCode"] == 422
    assert picked["statusCode"] == 303
    (refresh_job, create_job) = world.products_queue.jobs
    assert isinstance(refresh_job, ProductActionJob) and refresh_job.action is ProductAction.REFRESH
    assert isinstance(create_job, ProductActionJob) and create_job.skus == ["TS100BLKM"]


def test_a_merchant_may_not_see_or_refresh_anothers_products(world: World) -> None:
    bert = world.client("bert")

    page = bert.get("/integrations/acme-centra/products")
    refresh = bert.post("/integrations/acme-centra/products/refresh")
    create = bert.post("/integrations/acme-centra/products/create-all")

    assert (page["statusCode"], refresh["statusCode"], create["statusCode"]) == (404, 404, 404)
    assert world.products_queue.jobs == []


def test_shipping_methods_are_listed_and_mapped_and_a_bad_code_is_refused(world: World) -> None:
    world.state.put_shipping_mapping("acme-centra", "standard", "POSTI")
    anna, bert = world.client("anna"), world.client("bert")

    page = anna.get("/integrations/acme-centra/shipping")["body"]
    saved = anna.post("/integrations/acme-centra/shipping", {"store_method": "express", "myogo_code": "POSTI-EXPRESS"})
    spaced = anna.post("/integrations/acme-centra/shipping", {"store_method": "pickup", "myogo_code": " "})
    foreign = bert.post("/integrations/acme-centra/shipping", {"store_method": "x", "myogo_code": "HACK"})

    assert "standard" in page and "POSTI" in page and "every other method (*)" in page
    assert saved["statusCode"] == 303
    assert (spaced["statusCode"], foreign["statusCode"]) == (422, 404)
    assert world.state.shipping_map("acme-centra") == {"standard": "POSTI", "express": "POSTI-EXPRESS"}


def test_shipping_methods_offer_myogos_codes_and_an_unlisted_code_is_refused(world: World) -> None:
    myogo = FakeMyOgoAccount(frozenset({"POSTI", "DHL-EXPRESS"}))
    world.deps.operator.warehouse = lambda _: myogo
    world.state.put_shipping_mapping("acme-centra", "standard", "POSTI")
    anna = world.client("anna")

    page = anna.get("/integrations/acme-centra/shipping")["body"]
    unknown = anna.post("/integrations/acme-centra/shipping", {"store_method": "express", "myogo_code": "NOPE"})
    chosen = anna.post("/integrations/acme-centra/shipping", {"store_method": "express", "myogo_code": "DHL-EXPRESS"})

    assert '<select name="myogo_code" required aria-label="myOGO code for standard">' in page
    assert '<option value="DHL-EXPRESS">DHL-EXPRESS</option><option value="POSTI" selected>POSTI</option>' in page
    assert 'type="text" name="myogo_code"' not in page
    assert unknown["statusCode"] == 422 and "the codes are DHL-EXPRESS, POSTI" in unknown["body"]
    assert chosen["statusCode"] == 303
    assert world.state.shipping_map("acme-centra") == {"standard": "POSTI", "express": "DHL-EXPRESS"}


def test_a_mapped_code_myogo_no_longer_enables_is_pointed_out(world: World) -> None:
    world.deps.operator.warehouse = lambda _: FakeMyOgoAccount(frozenset({"POSTI"}))
    world.state.put_shipping_mapping("acme-centra", "standard", "OLD-CODE")

    page = world.client("anna").get("/integrations/acme-centra/shipping")["body"]

    assert "OLD-CODE (not enabled in myOGO any more: choose another)" in page
    assert '<option value="OLD-CODE"' not in page


def test_without_myogos_list_a_code_is_typed_and_saved_unchecked(world: World) -> None:
    world.deps.operator.warehouse = lambda _: FakeMyOgoAccount(None)
    anna = world.client("anna")

    page = anna.get("/integrations/acme-centra/shipping")["body"]
    saved = anna.post("/integrations/acme-centra/shipping", {"store_method": "express", "myogo_code": "ANY-CODE"})

    assert 'type="text" name="myogo_code"' in page and "<select" not in page
    assert "myOGO offers no list of this merchant&#x27;s shipping codes" in page
    assert saved["statusCode"] == 303 and world.state.shipping_map("acme-centra") == {"express": "ANY-CODE"}


def test_when_myogo_cannot_list_its_codes_the_store_methods_still_show(world: World) -> None:
    failing = FakeMyOgoAccount(frozenset({"POSTI"}), PlatformError("myogo", "HTTP 503"))
    world.deps.operator.warehouse = lambda _: failing
    world.state.put_shipping_mapping("acme-centra", "standard", "POSTI")
    anna = world.client("anna")

    page = anna.get("/integrations/acme-centra/shipping")
    saved = anna.post("/integrations/acme-centra/shipping", {"store_method": "express", "myogo_code": "POSTI"})

    assert page["statusCode"] == 200 and "myOGO&#x27;s shipping codes could not be read" in page["body"]
    assert "standard" in page["body"]
    assert saved["statusCode"] == 503 and world.state.shipping_map("acme-centra") == {"standard": "POSTI"}


WIZARD = {
    "id": "acme-second",
    "store_base_url": "https://acme.centra.example/api/order/",
    "store_api_key": "centra-secret-key-1",
    "myogo_merchant_id": "M-1",
    "myogo_secret_token": "myogo-secret-token-1",
    "myogo_client_id": "123",
    "myogo_client_secret": "myogo-client-secret-1",
    "warehouse": "TLL",
    "time_zone": "Europe/Helsinki",
    "setting_stock_sync_minutes": "15",
    "setting_send_as_test_orders": "on",
}


def test_the_wizard_creates_a_merchants_integration_and_never_shows_a_secret_again(world: World) -> None:
    anna = world.client("anna")
    form = anna.get("/integrations/new")["body"]
    bad_zone = anna.post("/integrations/new", WIZARD | {"time_zone": "Mars/Olympus"})
    created = anna.post("/integrations/new", WIZARD | {"merchant_name": "Bolt Bikes"})  # not hers: ignored
    webhook = anna.get(created["headers"]["Location"])["body"]

    assert "Europe/Helsinki" in form and "stock_sync_minutes" in form and "default 10" in form
    assert bad_zone["statusCode"] == 422 and "time_zone" in bad_zone["body"]
    for secret in ("centra-secret-key-1", "myogo-secret-token-1", "myogo-client-secret-1"):
        assert secret not in bad_zone["body"] and secret not in webhook
    assert created["headers"]["Location"] == "/integrations/acme-second/webhook?done=created"
    integration = world.state.get_integration("acme-second")
    assert integration is not None and integration.merchant_name == "Acme Apparel"
    assert integration.store_base_url == "https://acme.centra.example/api/order"  # the trailing / dropped
    assert integration.settings.stock_sync_minutes == 15 and integration.settings.send_as_test_orders
    assert "https://hooks.example/webhooks/centra/acme-second" in webhook


SHOPIFY_WIZARD = {
    "platform": "shopify",
    "id": "acme-shop",
    "store_base_url": "https://acme.myshopify.com",
    "store_client_id": "client-1",
    "store_client_secret": "shopify-client-secret-1",
    "option_location_id": "71234567",
    "option_paid_statuses": "PAID, PARTIALLY_REFUNDED",
    "myogo_merchant_id": "M-1",
    "myogo_secret_token": "myogo-secret-token-1",
    "myogo_client_id": "123",
    "myogo_client_secret": "myogo-client-secret-1",
    "warehouse": "TLL",
    "time_zone": "Europe/Helsinki",
}


def test_each_platform_has_its_wizard_from_its_registry_entry(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    anna = world.client("anna")
    woocommerce = anna.get("/integrations/new?platform=woocommerce")["body"]
    monkeypatch.delitem(registry._PACKAGES, Platform.WOOCOMMERCE)  # a platform without an adapter has no wizard

    shopify = anna.get("/integrations/new?platform=shopify")["body"]
    centra = anna.get("/integrations/new")["body"]
    unknown = anna.get("/integrations/new?platform=woocommerce")

    assert "New Shopify integration" in shopify and "myshopify.com" in shopify
    for field in ("store_client_id", "store_client_secret", "store_access_token", "option_location_id"):
        assert f'name="{field}"' in shopify
    assert 'name="store_api_key"' not in shopify and "Centra" not in shopify.split("Another platform")[0]
    assert "New Centra integration" in centra and 'name="store_api_key"' in centra
    assert unknown["statusCode"] == 404 and "centra, shopify" in unknown["body"]
    assert "New WooCommerce integration" in woocommerce  # the console's capitalize() of the platform value
    assert 'name="store_consumer_key"' in woocommerce and 'name="option_complete_order"' in woocommerce


def test_the_shopify_wizard_creates_the_integration_with_its_options_and_credentials(world: World) -> None:
    anna = world.client("anna")

    missing_location = anna.post("/integrations/new", SHOPIFY_WIZARD | {"option_location_id": ""})
    created = anna.post("/integrations/new", SHOPIFY_WIZARD)
    webhook = anna.get(created["headers"]["Location"])["body"]

    assert missing_location["statusCode"] == 422 and "location_id" in missing_location["body"]
    assert "shopify-client-secret-1" not in missing_location["body"]
    integration = world.state.get_integration("acme-shop")
    assert integration is not None and integration.platform is Platform.SHOPIFY
    assert integration.store_options["location_id"] == "gid://shopify/Location/71234567"
    assert integration.store_options["paid_statuses"] == ["PAID", "PARTIALLY_REFUNDED"]
    stored = world.deps.operator.secrets.credentials(integration)
    assert stored.store.platform == "shopify" and stored.store.client_id == "client-1"  # type: ignore[union-attr]
    assert "https://hooks.example/webhooks/shopify/acme-shop" in webhook and "orders/create" in webhook


def test_the_wizard_saves_nothing_when_a_side_refuses_the_credentials(world: World) -> None:
    refused = AuthenticationError("centra", "Authorization failed", 401)
    world.deps.operator.access_checks = lambda *_: {"store": FakeAccessCheck(refused), "myogo": FakeAccessCheck()}
    anna = world.client("anna")

    answer = anna.post("/integrations/new", WIZARD)

    assert answer["statusCode"] == 422 and "store: the credentials were refused" in answer["body"]
    assert "centra-secret-key-1" not in answer["body"] and 'value="acme-second"' in answer["body"]
    assert world.state.get_integration("acme-second") is None


@pytest.mark.parametrize(
    ("field", "url", "words"),
    [
        ("store_base_url", "http://acme.centra.example/api/order", "must begin with https://"),
        (
            "store_base_url",
            "https://169.254.169.254/latest/meta-data",
            "'169.254.169.254' is a private or local address",
        ),
        ("store_base_url", "https://[::ffff:169.254.169.254]/api", "is a private or local address"),
        ("store_base_url", "https://127.0.0.1:9001/2018-06-01/runtime", "'127.0.0.1' is a private or local"),
        ("store_base_url", "https://metadata.attacker.example/api", "has the address 169.254.169.254: a private"),
        ("myogo_base_url", "https://intranet.attacker.example", "has the address 10.1.2.3: a private"),
        ("myogo_token_url", "https://[fd00::1]/OAuth/Token", "'fd00::1' is a private or local"),
        ("myogo_base_url", "https://nowhere.example", "is not found"),
        ("store_base_url", "http://127.0.0.1:8080/api/order", "must begin with https://"),
    ],
)
def test_the_wizard_calls_no_url_but_https_to_a_public_host(world: World, field: str, url: str, words: str) -> None:
    checks = {"store": FakeAccessCheck(), "myogo": FakeAccessCheck()}
    world.deps.operator.access_checks = lambda *_: checks
    anna = world.client("anna")

    answer = anna.post("/integrations/new", WIZARD | {field: url})

    assert answer["statusCode"] == 422 and f"(field: {field})" in answer["body"]
    assert escape(words, quote=True) in answer["body"]
    assert [check.calls for check in checks.values()] == [0, 0]  # refused before anything was called
    assert world.state.get_integration("acme-second") is None


def test_only_the_local_stack_may_call_plain_http_on_loopback(world: World) -> None:
    world.deps.secure_cookies = False  # how the local stack (http on loopback) marks itself
    anna = world.client("anna")
    loopback = {
        "store_base_url": "http://127.0.0.1:8080/api/order",
        "myogo_base_url": "http://127.0.0.1:8081",
        "myogo_token_url": "http://localhost:8081/OAuth/Token",
    }
    world.deps.resolve = lambda host: {"localhost": ["127.0.0.1", "::1"]}.get(host, [])

    private = anna.post("/integrations/new", WIZARD | loopback | {"myogo_base_url": "http://10.0.0.5"})
    created = anna.post("/integrations/new", WIZARD | loopback)

    assert private["statusCode"] == 422 and "(field: myogo_base_url)" in private["body"]
    assert created["statusCode"] == 303 and world.state.get_integration("acme-second") is not None


def _published(sku: str, quantity: int) -> PublishedStock:
    return PublishedStock(
        integration_id="acme-centra",
        sku=sku,
        quantity=quantity,
        available=quantity + 1,
        in_transit=1,
        store_quantity=quantity + 2,
        published_at=T0,
    )


def test_the_stock_page_shows_the_last_run_what_was_published_and_the_problem_skus(world: World) -> None:
    ledger = InMemoryStockLedger()
    world.deps.stock_ledger = ledger
    ledger.record_published([_published("TS100BLKM", 7), _published("HD200GRYS", 2)])
    ledger.save_run_state(
        StockRunState(integration_id="acme-centra", unbound_skus=["ONLY-IN-MYOGO", SCRIPT], refused_skus=["BUNDLE-1"])
    )
    cursor = world.state.get_cursor("acme-centra", Flow.STOCK)
    world.state.save_cursor(
        cursor.model_copy(update={"last_run_ended": T0, "last_counts": {"written": 2, "not_written": 1}})
    )
    anna, bert = world.client("anna"), world.client("bert")

    page = anna.get("/integrations/acme-centra/stock")["body"]
    searched = anna.get("/integrations/acme-centra/stock?q=hd200")["body"]

    assert "TS100BLKM" in page and "HD200GRYS" in page and "2 SKUs published, page 1 of 1" in page
    assert "<h2>SKUs myOGO has and the store does not (2)</h2>" in page
    assert '<table id="stock-unbound">' in page and "<td>ONLY-IN-MYOGO</td>" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and SCRIPT not in page
    assert "<h2>SKUs refused by the store (1)</h2>" in page and "<td>BUNDLE-1</td>" in page
    assert "HD200GRYS" in searched and "TS100BLKM" not in searched and "ONLY-IN-MYOGO" not in searched
    assert bert.get("/integrations/acme-centra/stock")["statusCode"] == 404


def test_the_published_values_are_paged(world: World) -> None:
    ledger = InMemoryStockLedger()
    world.deps.stock_ledger = ledger
    ledger.record_published([_published(f"SKU-{n:03d}", n) for n in range(250)])
    anna = world.client("anna")

    first = anna.get("/integrations/acme-centra/stock")["body"]
    third = anna.get("/integrations/acme-centra/stock?page=3")["body"]
    searched = anna.get("/integrations/acme-centra/stock?q=SKU-24&page=1")["body"]
    bad = anna.get("/integrations/acme-centra/stock?page=0")

    assert "250 SKUs published, page 1 of 3" in first and "<td>SKU-099</td>" in first and "SKU-100" not in first
    assert 'href="/integrations/acme-centra/stock?page=2"' in first
    assert "<td>SKU-200</td>" in third and "<td>SKU-249</td>" in third and "SKU-199" not in third
    assert "10 SKUs published, page 1 of 1" in searched
    assert bad["statusCode"] == 422


def test_an_invited_user_chooses_a_password_at_the_first_sign_in(world: World) -> None:
    ivan = world.client()

    challenged = ivan.sign_in("ivan", "temp-pw")
    token = ivan.csrf()
    differ = ivan.request("POST", "/new-password", {"csrf": token, "new_password": "a" * 12, "again": "b" * 12})
    short = ivan.request("POST", "/new-password", {"csrf": token, "new_password": "short", "again": "short"})
    chosen = ivan.request("POST", "/new-password", {"csrf": token, "new_password": "a" * 12, "again": "a" * 12})

    assert challenged["statusCode"] == 200 and "Choose your password" in challenged["body"]
    assert "cognito-session-1" not in challenged["body"]
    assert (differ["statusCode"], short["statusCode"]) == (422, 422) and "too short" in short["body"]
    assert (chosen["statusCode"], chosen["headers"]["Location"]) == (303, "/")
    assert "acme-centra" in ivan.get("/")["body"]
