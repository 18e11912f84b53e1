"""`ogosync orders do-not-send` and `ogosync orders retry` on the local stack."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from ogosync.models import DO_NOT_SEND_REASON, BindingStatus, Flow
from ogosync.timeutil import utc_now
from ogosync_cli.main import cli
from ogosync_local.stack import LocalStack

pytestmark = pytest.mark.e2e
SIZE = "TS100BLKM"


@pytest.fixture
def stack() -> Iterator[LocalStack]:
    with LocalStack(visibility_timeout_s=1, claim_lease_seconds=1, quiet=True) as local:
        yield local


def _ogosync(stack: LocalStack, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--api-url", stack.operator.base_url, *args])
    return result.exit_code, result.output


def test_a_held_order_is_kept_back_a_failed_one_retried_and_refusals_exit_non_zero(stack: LocalStack) -> None:
    setup = stack.add_centra_store("acme-centra", shipping_map={"standard": "POSTI"}, products={SIZE: 5})
    setup.centra.add_product("TS100", "BLK", "M", ean="7350000000017", stock=5)
    held = setup.centra.add_order([{"product": SIZE}], shipping_list="express")["orderId"]
    failed = setup.centra.add_order([{"product": SIZE}], shipping_list="standard")["orderId"]
    state = stack.state()
    state.claim_order("acme-centra", failed, failed, "gone", utc_now(), 60)
    state.mark_order_failed("acme-centra", failed, "gone", "myOGO timed out", utc_now())

    retried = _ogosync(stack, "orders", "retry", "acme-centra", failed)
    stack.run_order_workers()
    stack.enqueue_flow("acme-centra", Flow.ORDERS)
    stack.run_flow(Flow.ORDERS)
    stack.run_order_workers()
    kept = _ogosync(stack, "orders", "do-not-send", "acme-centra", held)
    again = _ogosync(stack, "orders", "do-not-send", "acme-centra", held)
    not_failed = _ogosync(stack, "orders", "retry", "acme-centra", failed)

    # (the handlers run in this process: their JSON log lines may share the captured output)
    assert retried[0] == 0 and retried[1].endswith(f"order {failed}: queued for a new import\n")
    assert kept[0] == 0 and kept[1].endswith(f"order {held}: not sent to myOGO\n")
    assert again[0] != 0 and "only a held order" in again[1]
    assert not_failed[0] != 0 and "only a failed order" in not_failed[1]
    kept_binding, sent_binding = (
        state.get_order_binding("acme-centra", held),
        state.get_order_binding("acme-centra", failed),
    )
    assert kept_binding is not None and kept_binding.skip_reason == DO_NOT_SEND_REASON
    assert sent_binding is not None and sent_binding.status is BindingStatus.SENT
