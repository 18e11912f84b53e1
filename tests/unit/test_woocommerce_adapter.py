"""The WooCommerce platform in the registry: its credentials and options models, its store factory (a store that
is every side of the store port), its webhook verifier and set-up text, from a package that imports no HTTP client."""

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
from ogosync.stores.credentials import WooCommerceCredentials
from ogosync.stores.woocommerce import ADAPTER, SETUP_TEXT, WooCommerceOptions
from ogosync.stores.woocommerce.store import WooCommerceStore
from ogosync.stores.woocommerce.webhook import WooCommerceWebhookVerifier
from tests.factories import make_integration

ROOT = Path(__file__).resolve().parents[2]
MYOGO = {"myogo_merchant_id": "M-1", "myogo_secret_token": "t", "myogo_client_id": "c", "myogo_client_secret": "s"}


def _credentials() -> Credentials:
    store = {"platform": "woocommerce", "consumer_key": "ck_1", "consumer_secret": "cs_2"}
    return Credentials.model_validate({"store": store, "webhook_secret": "wh", **MYOGO})


def _integration(**options: object) -> Integration:
    return make_integration(
        "acme-woo", platform=Platform.WOOCOMMERCE, store_base_url="https://shop.example", store_options=options
    )


def test_the_registry_serves_the_woocommerce_adapter() -> None:
    assert Platform.WOOCOMMERCE in registry.supported()
    assert registry.adapter(Platform.WOOCOMMERCE) is ADAPTER
    assert ADAPTER.credentials_model is WooCommerceCredentials and ADAPTER.options_model is WooCommerceOptions


def test_the_factory_builds_a_store_that_is_every_side_of_the_port() -> None:
    built = ADAPTER.build_store(_integration(), _credentials(), None, None)

    assert isinstance(built, WooCommerceStore)
    assert all(isinstance(built, side) for side in (StorePlatform, StoreCatalog, StockStore, ShipmentStore))
    built.close()


def test_the_verifier_is_woocommerces() -> None:
    assert isinstance(ADAPTER.build_verifier(), WooCommerceWebhookVerifier)


def test_options_have_defaults_and_are_checked() -> None:
    default = WooCommerceOptions()
    assert default.paid_statuses == ["processing"] and default.complete_order and default.customer_note

    options = WooCommerceOptions.model_validate({"paid_statuses": [" wc-Processing ", "awaiting-shipment"]})
    assert options.paid_statuses == ["processing", "awaiting-shipment"]
    for bad in ({"paid_statuses": [" "]}, {"paid_statuses": []}, {"location_id": "7"}):
        with pytest.raises(ValidationError):
            WooCommerceOptions.model_validate(bad)


def test_bad_options_are_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="complete_order"):
        ADAPTER.build_store(_integration(complete_order="sometimes"), _credentials(), None, None)


def test_the_setup_text_names_the_key_permalinks_and_webhooks() -> None:
    for needed in ("REST API", "Read/Write", "Permalinks", "Order created", "Order updated", "webhook_secret"):
        assert needed in SETUP_TEXT
    assert ADAPTER.credentials_guide and ADAPTER.store_url_hint.startswith("https://")


def test_the_package_and_its_verifier_import_no_http_client() -> None:
    code = (
        "import sys; import ogosync.stores.woocommerce as w; w.ADAPTER.build_verifier(); print('httpx' in sys.modules)"
    )
    done = subprocess.run(  # noqa: S603 (our own interpreter and code)
        [sys.executable, "-c", code],
        env={"PYTHONPATH": str(ROOT / "layers" / "common" / "python"), "POWERTOOLS_SERVICE_NAME": "ogosync"},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert done.stdout.strip().splitlines()[-1] == "False"
