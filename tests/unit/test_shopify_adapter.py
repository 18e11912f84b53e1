"""The Shopify platform in the registry: its credentials and options models, its store factory (a store that is
every side of the store port) and its webhook verifier, from a package that imports no HTTP client."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from ogosync.errors import ConfigurationError
from ogosync.models import Credentials, Integration, Platform
from ogosync.ports import ShipmentStore, StockStore, StoreCatalog, StorePlatform
from ogosync.stores import registry
from ogosync.stores.credentials import ShopifyCredentials
from ogosync.stores.shopify import ADAPTER, API_VERSION, SETUP_TEXT, ShopifyOptions
from ogosync.stores.shopify.store import ShopifyStore
from ogosync.stores.shopify.webhook import ShopifyWebhookVerifier
from tests.factories import make_integration

ROOT = Path(__file__).resolve().parents[2]
MYOGO = {"myogo_merchant_id": "M-1", "myogo_secret_token": "t", "myogo_client_id": "c", "myogo_client_secret": "s"}


def _credentials(**store: str) -> Credentials:
    return Credentials.model_validate(
        {"store": {"platform": "shopify", **store}, "webhook_secret": "shpss_secret", **MYOGO}
    )


def _integration(**options: object) -> Integration:
    return make_integration(
        "acme-shopify",
        platform=Platform.SHOPIFY,
        store_base_url="https://acme.myshopify.com",
        store_options={"location_id": "7", **options},
    )


def test_the_registry_serves_the_shopify_adapter() -> None:
    assert registry.adapter(Platform.SHOPIFY) is ADAPTER
    assert ADAPTER.credentials_model is ShopifyCredentials and ADAPTER.options_model is ShopifyOptions


@pytest.mark.parametrize("store", [{"client_id": "cid", "client_secret": "cs"}, {"access_token": "shpat_1"}])
def test_the_factory_builds_a_store_that_is_every_side_of_the_port(store: dict[str, str]) -> None:
    built = ADAPTER.build_store(_integration(), _credentials(**store), None)

    assert isinstance(built, ShopifyStore)
    assert all(isinstance(built, side) for side in (StorePlatform, StoreCatalog, StockStore, ShipmentStore))
    built.close()


def test_the_verifier_is_shopifys() -> None:
    assert isinstance(ADAPTER.build_verifier(), ShopifyWebhookVerifier)  # mypy checks it is a WebhookVerifier


def test_options_are_checked_and_the_location_becomes_a_gid() -> None:
    options = ShopifyOptions.model_validate({"location_id": "7", "paid_statuses": ["paid", " authorized "]})

    assert options.location_id == "gid://shopify/Location/7" and options.paid_statuses == ["PAID", "AUTHORIZED"]
    assert options.notify_customer is True
    for bad in (
        {"location_id": "gid://shopify/Order/7"},
        {"location_id": "7", "paid_statuses": [" "]},
        {"location_id": "7", "pricelist": "x"},
    ):
        with pytest.raises(ValidationError):
            ShopifyOptions.model_validate(bad)


def test_an_integration_without_a_location_is_a_configuration_error() -> None:
    integration = make_integration("acme-shopify", platform=Platform.SHOPIFY, store_options={})

    with pytest.raises(ConfigurationError, match="location_id"):
        ADAPTER.build_store(integration, _credentials(access_token="t"), None)


def test_the_setup_text_names_scopes_webhooks_location_and_version() -> None:
    for needed in (
        "write_inventory",
        "write_merchant_managed_fulfillment_orders",
        "orders/updated",
        "location_id",
        API_VERSION,
    ):
        assert needed in SETUP_TEXT


def test_the_package_and_its_verifier_import_no_http_client() -> None:
    code = "import sys; import ogosync.stores.shopify as s; s.ADAPTER.build_verifier(); print('httpx' in sys.modules)"
    done = subprocess.run(  # noqa: S603 (our own interpreter and code)
        [sys.executable, "-c", code],
        env={"PYTHONPATH": str(ROOT / "layers" / "common" / "python"), "POWERTOOLS_SERVICE_NAME": "ogosync"},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert done.stdout.strip().splitlines()[-1] == "False"
