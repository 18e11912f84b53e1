"""`python -m ogosync_local.serve --home DIR`: the local stack as a long-running process, for the ogosync CLI.

`ogosync local up` starts it in the background. It serves the operator API, the web console and the webhook receiver
on loopback,
runs the workers the way Lambda would (the queues drained every second, the scheduler every minute), and writes
DIR/local.json with its URLs, which the CLI reads by default. With a sample (the default) it also starts a simulated
Centra store and a simulated Shopify shop, each with products, orders and a myOGO account, and writes their
credentials to files only its owner can read, so that a person can set the integrations up with the CLI, step by
step (README). The console's users (an
operator, and a user of the sample's merchant "Demo Apparel") and their passwords go to a file of the same kind.
SIGTERM stops it.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import threading
import time
from pathlib import Path
from typing import Any

from ogosync.models import Flow
from ogosync_local.console import ConsoleUser, LocalConsole
from ogosync_local.stack import CentraMerchant, LocalStack, ShopifyMerchant

STATE_FILE = "local.json"
SAMPLE_INTEGRATION = "demo-centra"
SAMPLE_SHIPPING_CODES = {"POSTI", "POSTI-EXPRESS", "POSTI-NOUTO"}
SAMPLE_CATALOG = {("TS100", "BLK", "M"): 40, ("TS100", "BLK", "L"): 25, ("HD200", "GRY", "S"): 12}
SAMPLE_SHOPIFY_INTEGRATION = "demo-shopify"
SAMPLE_SHOPIFY_SHIPPING = {"Standard": "POSTI", "Express": "POSTI-EXPRESS"}  # shipping line title -> myOGO code
SAMPLE_SHOPIFY_CATALOG = {"Linen shirt": {"LS-WHT-M": 30, "LS-WHT-L": 18}, "Wool cap": {"WC-GRY": 9}}
SCHEDULER_EVERY_S = 60.0
SAMPLE_MERCHANT = "Demo Apparel"  # the merchant name the README's `ogosync integrations create` gives
CONSOLE_USERS_FILE = "console-users.json"


def write_private(path: Path, data: dict[str, Any]) -> None:
    """Write JSON readable by its owner only, atomically (a reader never sees half a file)."""
    partial = path.with_suffix(".tmp")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump(data, file, indent=2)
    partial.replace(path)


def add_sample_store(stack: LocalStack) -> CentraMerchant:
    """A Centra store with three sizes in stock and orders with three shipping methods; the sizes are in myOGO."""
    merchant = stack.add_centra_merchant(SAMPLE_INTEGRATION, shipping_codes=SAMPLE_SHIPPING_CODES)
    sizes = []
    for index, ((sku, variant, size), units) in enumerate(SAMPLE_CATALOG.items()):
        merchant.centra.add_product(sku, variant, size, ean=f"73500000{index:05d}", name=f"Product {sku}", stock=units)
        stack.myogo.add_product(merchant.merchant_id, f"{sku}{variant}{size}", stock=units)
        sizes.append(f"{sku}{variant}{size}")
    for number, method in enumerate(["standard", "standard", "standard", "express", "pickup", "standard"]):
        merchant.centra.add_order([{"product": sizes[number % len(sizes)], "qty": 1}], shipping_list=method)
    return merchant


def add_sample_shopify_shop(stack: LocalStack) -> ShopifyMerchant:
    """A Shopify shop whose variants are stocked at the warehouse location and in myOGO, with paid orders there."""
    merchant = stack.add_shopify_merchant(
        SAMPLE_SHOPIFY_INTEGRATION, shipping_codes=set(SAMPLE_SHOPIFY_SHIPPING.values())
    )
    skus = []
    for index, (title, variants) in enumerate(SAMPLE_SHOPIFY_CATALOG.items()):
        specs = [
            {
                "sku": sku,
                "barcode": f"64000000{index:02d}{n:03d}",
                "title": sku.rsplit("-", 1)[-1],
                "stock": units,
                "location_id": merchant.location_id,
            }
            for n, (sku, units) in enumerate(variants.items())
        ]
        merchant.shopify.add_product(title, specs)
        for sku, units in variants.items():
            stack.myogo.add_product(merchant.merchant_id, sku, stock=units)
            skus.append(sku)
    for number, code in enumerate(["STANDARD", "STANDARD", "EXPRESS", "STANDARD"]):
        line = {"sku": skus[number % len(skus)], "quantity": 1}
        merchant.shopify.add_order(
            [line], location_id=merchant.location_id, shipping_code=code, shipping_title=code.title()
        )
    return merchant


def add_console_users(console: LocalConsole, home: Path) -> Path:
    """An operator and a user of the sample's merchant, with random passwords, written where only the owner reads."""
    users = [
        ConsoleUser("operator", _password(), operator=True),
        ConsoleUser("demo", _password(), merchant=SAMPLE_MERCHANT),
    ]
    for user in users:
        console.add_user(user)
    path = home / CONSOLE_USERS_FILE
    write_private(path, {user.username: {"password": user.password, "merchant": user.merchant} for user in users})
    return path


def _password() -> str:
    return f"Ogo-{secrets.token_urlsafe(12)}-9a"  # meets the pool's policy: upper, lower, digits, 12+


def serve(home: Path, *, sample: bool, tick_s: float = 1.0) -> None:
    home.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    # On the clock, as in the cloud but sooner: failed messages come back after a second, dead workers' claims end
    # after two (the stack's defaults would redeliver only when asked).
    with LocalStack(quiet=True, visibility_timeout_s=1, claim_lease_seconds=2) as stack:
        console = stack.start_console()
        state: dict[str, Any] = {
            "pid": os.getpid(),
            "operator_url": stack.operator.base_url,
            "console_url": console.url,
            "console_users_file": str(add_console_users(console, home)),
            "webhook_url": stack.gateway.base_url,
            "myogo_url": stack.myogo.root_url,
            "myogo_token_url": stack.myogo_token_url,
        }
        if sample:
            merchant = add_sample_store(stack)
            credentials_file = home / f"{SAMPLE_INTEGRATION}-credentials.json"
            write_private(credentials_file, merchant.secret_values)
            state["sample"] = {
                "integration_id": SAMPLE_INTEGRATION,
                "store_url": merchant.centra.base_url,
                "time_zone": merchant.time_zone,
                "shipping_codes": sorted(SAMPLE_SHIPPING_CODES),
                "credentials_file": str(credentials_file),
            }
            state["shopify_sample"] = _shopify_sample(add_sample_shopify_shop(stack), home)
        state_file = home / STATE_FILE
        write_private(state_file, state)
        try:
            _pump(stack, stop, tick_s)
        finally:
            state_file.unlink(missing_ok=True)


def _shopify_sample(merchant: ShopifyMerchant, home: Path) -> dict[str, Any]:
    credentials_file = home / f"{SAMPLE_SHOPIFY_INTEGRATION}-credentials.json"
    write_private(credentials_file, merchant.secret_values)
    return {
        "integration_id": SAMPLE_SHOPIFY_INTEGRATION,
        "store_url": merchant.shopify.base_url,
        "location_id": merchant.location_id,
        "shipping_map": SAMPLE_SHOPIFY_SHIPPING,
        "credentials_file": str(credentials_file),
    }


def _pump(stack: LocalStack, stop: threading.Event, tick_s: float) -> None:
    """What Lambda's event sources and EventBridge Scheduler do in the cloud."""
    next_schedule = time.monotonic()
    while not stop.is_set():
        if time.monotonic() >= next_schedule:
            stack.run_scheduler()
            next_schedule += SCHEDULER_EVERY_S
        for flow in Flow:
            stack.run_flow(flow)
        stack.run_order_workers()
        stop.wait(tick_s)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, required=True, help="where to write local.json (and the sample's files)")
    parser.add_argument("--no-sample", action="store_true", help="no simulated store and myOGO account")
    args = parser.parse_args(argv)
    serve(args.home, sample=not args.no_sample)


if __name__ == "__main__":
    main()
