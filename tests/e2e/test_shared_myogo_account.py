"""Two stores on one myOGO account under the same reference prefix (an integration set up before the operator
refused such pairs): each store's order 1001 meets the other's in myOGO. Neither is adopted by the wrong store and no
shipment crosses over (design invariant 8). Real handlers, real HTTP to the simulators and to moto."""

from __future__ import annotations

import pytest

from ogosync.models import BindingStatus, Flow, HoldReason
from ogosync_local.stack import CentraSetup, LocalStack

pytestmark = pytest.mark.e2e
TEE = "TS100BLKM"


def _store(stack: LocalStack, integration_id: str, myogo_account_of: str | None = None) -> CentraSetup:
    setup = stack.add_centra_store(
        integration_id, shipping_map={"standard": "POSTI"}, myogo_account_of=myogo_account_of
    )
    setup.centra.add_product("TS100", "BLK", "M", ean="7350000000017", stock=50)
    return setup


def _run(stack: LocalStack, flow: Flow, *setups: CentraSetup) -> None:
    for setup in setups:
        stack.enqueue_flow(setup.integration.id, flow)
    stack.run_flow(flow)


def test_another_stores_order_under_the_same_reference_is_neither_adopted_nor_shipped_to_us(
    stack: LocalStack,
) -> None:
    acme = _store(stack, "acme-centra")
    stack.myogo.add_product(acme.merchant_id, TEE, stock=50)
    beta = _store(stack, "beta-centra", myogo_account_of="acme-centra")
    acme_order = acme.centra.add_order([{"product": TEE, "qty": 1}])["orderId"]
    beta_order = beta.centra.add_order([{"product": TEE, "qty": 2}])["orderId"]
    assert acme_order == beta_order  # each store numbers its orders from 1001

    _run(stack, Flow.ORDERS, acme)
    _run(stack, Flow.ORDERS, beta)
    stack.myogo.advance(2)  # the warehouse collects and ships acme's order
    _run(stack, Flow.TRACKING, acme, beta)

    (in_myogo,) = stack.myogo.orders(acme.merchant_id).values()
    assert [(line["code"], line["quantity"]) for line in in_myogo["orderLines"]] == [(TEE, 1)]
    beta_binding = stack.state().get_order_binding(beta.integration.id, beta_order)
    assert beta_binding is not None and beta_binding.status is BindingStatus.HELD
    assert beta_binding.holds[0].reason is HoldReason.REFERENCE_TAKEN
    assert len(acme.centra.shipments(acme_order)) == 1
    assert beta.centra.shipments(beta_order) == []
