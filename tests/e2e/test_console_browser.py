"""The web console in a real browser: Playwright drives Debian's chromium (headless) over the local stack, and each
page is saved as a screenshot under docs/console/ (the README shows them).

A merchant signs in, sees its integration (not another merchant's) with each flow's health, finds an order held for
an unmapped shipping method with its reason and age, has the method mapped, releases the order, and watches its
timeline: sent to myOGO, shipped, tracking pushed to the store; the stock page lists what was published and the SKUs
myOGO has and the store does not. The wizard refuses a URL of the cloud's metadata service, the shipping methods page
offers myOGO's codes only, and a copy of the cookie kept from before the sign-out opens nothing. An operator then sees
every integration and the work queues, and pauses an integration. Any console error in the browser (a blocked script
or style: the CSP) fails.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from ogosync.models import BindingStatus, Flow
from ogosync_local.console import ConsoleUser, LocalConsole
from ogosync_local.lambdas import ROOT
from ogosync_local.stack import CentraMerchant, LocalStack

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is a dev dependency (make install)")

pytestmark = pytest.mark.e2e
SCREENSHOTS = ROOT / "docs" / "console"
TEE, HOODIE, ONLY_IN_MYOGO = "TS100BLKM", "HD200GRYS", "WH900GRYL"
MERCHANT = ConsoleUser("anna", "Anna-pass-word-1", merchant="Demo Apparel")
OPERATOR = ConsoleUser("olga", "Olga-pass-word-1", operator=True)


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "Debian's chromium is needed: apt-get install -y chromium (make test installs it)"
    return found


@pytest.fixture
def browser_page() -> Iterator[tuple[Any, list[str]]]:
    with sync_api.sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where chromium refuses its sandbox.
        browser = playwright.chromium.launch(executable_path=_chromium(), headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        page.set_default_timeout(10_000)
        errors: list[str] = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        try:
            yield page, errors
        finally:
            browser.close()


def _merchant(stack: LocalStack) -> CentraMerchant:
    """A Centra store and a myOGO account, not yet connected: the merchant sets the integration up in the console."""
    merchant = stack.add_centra_merchant("demo-centra", shipping_codes={"POSTI", "DHL-EXPRESS"})
    merchant.centra.add_product(TEE[:5], TEE[5:8], TEE[8:], ean="7350000000001", stock=20)
    merchant.centra.add_product(HOODIE[:5], HOODIE[5:8], HOODIE[8:], ean="7350000000002", name="Hoodie", stock=4)
    stack.myogo.add_product(merchant.merchant_id, TEE, stock=20)
    stack.myogo.add_product(merchant.merchant_id, ONLY_IN_MYOGO, stock=3)  # no store item: the stock page lists it
    stack.add_centra_store("other-centra", shipping_map={"standard": "POSTI"})
    return merchant


def _set_up(page: Any, stack: LocalStack, merchant: CentraMerchant) -> None:
    """The wizard, as Centra's guide goes: the Order API plugin, myOGO's API information, warehouse, time zone."""
    page.click("text=New integration")
    fields = {
        "#id": "demo-centra",
        "#store_base_url": merchant.centra.base_url,
        "#store_api_key": merchant.secret_values["store_api_key"],
        "#myogo_merchant_id": merchant.secret_values["myogo_merchant_id"],
        "#myogo_secret_token": merchant.secret_values["myogo_secret_token"],
        "#myogo_client_id": merchant.secret_values["myogo_client_id"],
        "#myogo_client_secret": merchant.secret_values["myogo_client_secret"],
        "#myogo_base_url": stack.myogo.root_url,
        "#myogo_token_url": stack.myogo_token_url,
        "#warehouse": "TLL",
        "#setting_order_poll_minutes": "1",
    }
    for selector, value in fields.items():
        page.fill(selector, value)
    page.select_option("#time_zone", merchant.time_zone)
    page.fill("#store_base_url", "https://169.254.169.254/latest/meta-data")  # the cloud's metadata service
    page.click("button:has-text('Check the credentials and create')")
    assert (
        "'169.254.169.254' is a private or local address: give the service's public address (field: store_base_url)"
        in page.locator("[role=alert]").inner_text()
    )
    assert stack.state().get_integration("demo-centra") is None
    assert page.input_value("#id") == "demo-centra"  # kept, but the secrets must be typed again
    page.fill("#store_base_url", merchant.centra.base_url)
    for selector in ("#store_api_key", "#myogo_secret_token", "#myogo_client_secret"):
        page.fill(selector, fields[selector])
    _save(page, "02-new-integration.png")
    page.click("button:has-text('Check the credentials and create')")
    assert merchant.centra.base_url in page.content() or "webhook" in page.locator("h1").inner_text().lower()
    page.fill("#webhook_secret", merchant.secret_values["webhook_secret"])
    page.click("button:has-text('Save the secret')")
    assert "The secret is saved." in page.content()
    _save(page, "03-webhook.png")


def _sign_in(page: Any, console: LocalConsole, user: ConsoleUser, screenshot: str | None = None) -> None:
    page.goto(console.url)
    page.fill("#username", user.username)
    page.fill("#password", user.password)
    if screenshot:
        _save(page, screenshot)
    page.click("button[type=submit]")


def _save(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def _poll_orders(stack: LocalStack, integration_id: str) -> None:
    stack.enqueue_flow(integration_id, Flow.ORDERS)
    stack.run_flow(Flow.ORDERS)
    stack.run_order_workers()


def test_a_merchant_releases_a_held_order_and_watches_it_ship(
    stack: LocalStack, browser_page: tuple[Any, list[str]]
) -> None:
    page, errors = browser_page
    merchant = _merchant(stack)
    console = stack.start_console()
    console.add_user(MERCHANT)
    console.add_user(OPERATOR)

    _sign_in(page, console, MERCHANT, "01-sign-in.png")
    _set_up(page, stack, merchant)
    order_id = merchant.centra.add_order([{"product": TEE, "qty": 1}], shipping_list="express")["orderId"]
    _poll_orders(stack, "demo-centra")
    page.goto(console.url)
    listing = page.locator("#integrations")
    assert "demo-centra" in listing.inner_text() and "other-centra" not in listing.inner_text()
    assert "orders: ok" in listing.inner_text()
    _save(page, "04-integrations.png")

    listing.get_by_role("link", name="Products").click()
    page.click("button:has-text('Refresh')")
    assert "Refresh: queued" in page.locator("#run").inner_text()
    stack.run_flow(Flow.PRODUCTS)
    page.reload()
    products = page.locator("#products")
    assert "not in myOGO" in products.locator("tr", has_text=HOODIE).inner_text()
    assert "in myOGO, not linked" in products.locator("tr", has_text=TEE).inner_text()
    page.check(f"input[value={HOODIE}]")
    _save(page, "05-products.png")
    page.click("button:has-text('Create selected products')")
    stack.run_flow(Flow.PRODUCTS)
    page.reload()
    assert "Create product succeeded" in page.locator("#run").inner_text()
    assert HOODIE in stack.myogo.products(merchant.merchant_id)

    page.goto(f"{console.url}/integrations/demo-centra/orders")
    held = page.locator("#held-orders")
    assert order_id in held.inner_text() and "express" in held.inner_text()
    _save(page, "06-held-orders.png")

    page.goto(f"{console.url}/integrations/demo-centra/shipping")  # the cause fixed: express gets a code
    express = page.locator("#shipping tbody tr").filter(has=page.locator("td:first-child", has_text="express"))
    assert "none: its orders are held" in express.inner_text()
    choice = express.locator("select[name=myogo_code]")  # myOGO's list of the merchant's codes, nothing else
    assert choice.locator("option").all_inner_texts() == ["choose a code", "DHL-EXPRESS", "POSTI"]
    choice.select_option("POSTI")
    _save(page, "07-shipping-methods.png")
    express.locator("button", has_text="Save").click()
    assert stack.state().shipping_map("demo-centra")["express"] == "POSTI"
    page.goto(f"{console.url}/integrations/demo-centra/orders")
    held = page.locator("#held-orders")
    held.locator("tr", has_text=order_id).locator("button", has_text="Release").click()
    assert "imported again now" in page.locator("[role=status]").inner_text()
    stack.run_order_workers()
    stack.myogo.advance(2)  # the warehouse collects and ships it
    stack.enqueue_flow("demo-centra", Flow.TRACKING)
    stack.run_flow(Flow.TRACKING)
    page.reload()

    timeline = page.locator("#timeline").inner_text()
    assert "sent; created in myOGO" in timeline and "shipped; tracking pushed" in timeline
    assert "held: no myOGO shipping code for 'express'" in timeline and "released by a person" in timeline
    binding = stack.state().get_order_binding("demo-centra", order_id)
    assert binding is not None and binding.status is BindingStatus.SENT
    _save(page, "08-order-timeline.png")

    stack.enqueue_flow("demo-centra", Flow.STOCK)
    stack.run_flow(Flow.STOCK)
    page.goto(f"{console.url}/integrations/demo-centra/stock")
    assert HOODIE in page.locator("#stock").inner_text()  # created from the console: bound, its stock published
    # TEE is in both but not linked yet (the merchant created HOODIE only): its stock goes nowhere either
    assert page.locator("#stock-unbound").inner_text().split() == ["SKU", TEE, ONLY_IN_MYOGO]
    assert "SKUs refused by the store (0)" in page.content()
    _save(page, "09-stock.png")

    assert page.goto(f"{console.url}/integrations/other-centra/orders").status == 404
    errors.remove("Failed to load resource: the server responded with a status of 404 (Not Found)")
    (refused_url,) = [error for error in errors if "status of 422" in error]  # the wizard's refusal above
    errors.remove(refused_url)

    signed_in = page.context.cookies()
    page.click("text=Sign out")
    assert page.locator("h1").inner_text() == "Sign in to ogosync"
    page.context.add_cookies(signed_in)  # a copy of the cookie kept from before the sign-out
    page.goto(f"{console.url}/integrations/demo-centra/orders")
    assert page.url == f"{console.url}/sign-in" and page.locator("h1").inner_text() == "Sign in to ogosync"
    _sign_in(page, console, OPERATOR)
    assert "other-centra" in page.locator("#integrations").inner_text()
    page.locator("#integrations tr", has_text="other-centra").locator("button", has_text="Pause").click()
    assert "Paused" in page.locator("[role=status]").inner_text()
    paused = stack.state().get_integration("other-centra")
    assert paused is not None and paused.status == "paused"
    sqs = stack.aws.client("sqs")
    body = '{"integration_id": "demo-centra", "order_id": "1999", "source": "webhook"}'
    sqs.send_message(QueueUrl=stack.aws.queue_urls["OrderDLQ"], MessageBody=body)
    page.click("text=Status")
    assert "order-import" in page.locator("#queues").inner_text()
    _save(page, "10-status.png")
    page.locator("#queues").get_by_role("link", name="order-import").click()
    letters = page.locator("#dead-letters")
    assert '"order_id": "1999"' in letters.inner_text()
    _save(page, "11-dead-letters.png")
    letters.locator("button", has_text="Discard").click()
    assert "No dead letter." in page.content()
    assert stack.queue_depth("OrderDLQ") == 0
    assert errors == []


def test_a_product_name_and_a_shipping_method_with_a_script_show_as_text(
    stack: LocalStack, browser_page: tuple[Any, list[str]]
) -> None:
    page, errors = browser_page
    setup = stack.add_centra_store("demo-centra", shipping_map={"standard": "POSTI"}, products={TEE: 1})
    script = "<script>alert(1)</script>"
    setup.centra.add_product(TEE[:5], TEE[5:8], TEE[8:], ean="7350000000001", stock=1)
    setup.centra.add_product("XSS01", "RED", "M", ean="7350000000009", name=script, stock=1)
    stack.seed_sku_bindings("demo-centra")
    setup.centra.add_order([{"product": TEE, "qty": 1}], shipping_list=script)  # held: no such shipping method
    _poll_orders(stack, "demo-centra")
    console = stack.start_console()
    shop_user = console.add_user(ConsoleUser("sam", "Sam-pass-word-1", merchant="Merchant demo-centra"))
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    _sign_in(page, console, shop_user)
    page.goto(f"{console.url}/integrations/demo-centra/orders")

    assert script in page.locator("#held-orders").inner_text()  # shown as the text it is
    page.goto(f"{console.url}/integrations/demo-centra/products")
    page.click("button:has-text('Refresh')")
    stack.run_flow(Flow.PRODUCTS)
    page.reload()
    assert script in page.locator("#products tr", has_text="XSS01REDM").inner_text()  # a product name, as text
    assert dialogs == [] and errors == []
