"""`make demo`'s WooCommerce merchant on a fresh local stack: the cycle converges, and what it claims holds in the
simulators and in myOGO."""

from __future__ import annotations

import functools
from collections import Counter
from pathlib import Path

import pytest

from ogosync.models import BindingStatus, Platform
from ogosync_local.demo import _cli, _section
from ogosync_local.demo_woocommerce import EXPECTED_EAN, INTEGRATION, NO_EXPORT_SKU, run_woocommerce
from ogosync_local.stack import LocalStack

pytestmark = pytest.mark.e2e


def test_the_woocommerce_demo_converges_with_each_paid_order_in_myogo_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "CRITICAL")  # as `make demo`: logs would mix into the CLI's JSON
    with LocalStack(quiet=True) as stack:
        assert run_woocommerce(stack, tmp_path, functools.partial(_cli, stack), _section)
        _check_what_the_demo_claims(stack)


def _check_what_the_demo_claims(stack: LocalStack) -> None:

    integration = stack.state().get_integration(INTEGRATION)
    assert integration is not None and integration.platform is Platform.WOOCOMMERCE
    site = stack.woocommerce_merchants[INTEGRATION]
    products = stack.myogo.products(site.merchant_id)
    assert {sku: products[sku].get("eanCode") for sku in products} == EXPECTED_EAN
    assert NO_EXPORT_SKU not in products
    references = Counter(order["reference"] for order in stack.myogo.orders(site.merchant_id).values())
    assert len(references) == 8 and set(references.values()) == {1}  # eight paid orders, each once
    order_ids = [str(order_id) for order_id in site.woocommerce.order_ids()]
    bindings = stack.state().get_order_bindings(INTEGRATION, order_ids)
    kept = [b for b in bindings.values() if b.status is BindingStatus.HELD]
    assert len(kept) == 3 and all(b.holds for b in kept)
    shipped = [order_id for order_id in references if site.woocommerce.order(order_id)["status"] == "completed"]
    assert len(shipped) == len(references) == site.woocommerce.calls["PUT /wp-json/wc/v3/orders/{id}"]
