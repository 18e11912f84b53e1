"""myOGO webhooks: a bad delivery gets a 4xx and changes nothing; a good one enqueues the order it names."""

from __future__ import annotations

import json

import pytest
from pydantic import SecretStr

from ogosync.errors import WebhookRejectedError
from ogosync.models import Credentials, TrackingHintJob
from ogosync.sync.warehouse_webhook import WarehouseWebhookDeps, receive_warehouse_webhook
from ogosync.warehouse.myogo_webhook import MyOgoWebhookVerifier
from ogosync_local.sim import sign_myogo_webhook
from tests.factories import make_integration
from tests.fakes import FakeQueue, FakeSecrets, InMemoryState, make_credentials

KEY = "myogo-webhook-key-1"
SHIPPED = {"type": "OrderShipped", "reference": "1001", "trackingNumber": "JJFI1", "status": "shipped"}


def _credentials(key: str | None = KEY) -> Credentials:
    return make_credentials().model_copy(update={"myogo_webhook_key": SecretStr(key) if key else None})


@pytest.fixture
def deps() -> WarehouseWebhookDeps:
    state = InMemoryState()
    integration = make_integration()
    state.put_integration(integration)
    state.put_integration(make_integration("paused-shop", status="paused"))
    state.put_integration(make_integration("no-key-shop"))
    state.put_integration(make_integration("empty-key-shop"))
    secrets = FakeSecrets(
        {
            integration.secret_name: _credentials(),
            "ogosync/paused-shop": _credentials(),
            "ogosync/no-key-shop": _credentials(None),
            "ogosync/empty-key-shop": make_credentials().model_copy(update={"myogo_webhook_key": SecretStr("")}),
        }
    )
    return WarehouseWebhookDeps(state=state, secrets=secrets, queue=FakeQueue(), verifier=MyOgoWebhookVerifier())


def _delivery(event: object, key: str = KEY) -> tuple[dict[str, str], bytes]:
    body = json.dumps(event).encode()
    return {"Content-Type": "application/json", "X-OGOship-Hmac-SHA256": sign_myogo_webhook(key, body)}, body


def test_a_signed_order_shipped_event_enqueues_the_order_it_names(deps: WarehouseWebhookDeps) -> None:
    headers, body = _delivery(SHIPPED)

    ack = receive_warehouse_webhook("acme-centra", headers, body, deps)

    assert (ack.accepted_orders, ack.ignored_events) == (1, 0)
    assert deps.queue.jobs == [TrackingHintJob(integration_id="acme-centra", reference="1001")]  # type: ignore[attr-defined]


def test_pascal_case_events_are_read_and_other_event_types_ignored(deps: WarehouseWebhookDeps) -> None:
    pascal = receive_warehouse_webhook("acme-centra", *_delivery({"Type": "OrderShipped", "Reference": "7"}), deps)
    stock = receive_warehouse_webhook(
        "acme-centra", *_delivery({"type": "ProductStockLevelChanged", "reference": "SKU-1"}), deps
    )

    assert (pascal.accepted_orders, stock.accepted_orders, stock.ignored_events) == (1, 0, 1)
    assert [job.reference for job in deps.queue.jobs] == ["7"]  # type: ignore[attr-defined]


def test_a_paused_integration_acknowledges_and_enqueues_nothing(deps: WarehouseWebhookDeps) -> None:
    ack = receive_warehouse_webhook("paused-shop", *_delivery(SHIPPED), deps)

    assert ack.paused and ack.accepted_orders == 0 and deps.queue.jobs == []  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("case", "status", "reason"),
    [
        ("wrong key", 401, "bad_signature"),
        ("no signature", 401, "missing_signature"),
        ("signature not base64", 401, "bad_signature"),
        ("body changed after signing", 401, "bad_signature"),
        ("unknown integration", 404, "unknown_integration"),
        ("invalid integration id", 404, "unknown_integration"),
        ("integration without a myOGO webhook", 404, "unknown_integration"),
        ("not json", 400, "malformed_body"),
        ("a list", 400, "malformed_body"),
        ("no reference", 400, "malformed_body"),
        ("empty reference", 400, "malformed_body"),
        ("oversized", 413, "body_too_large"),
    ],
)
def test_a_bad_delivery_gets_a_4xx_and_changes_nothing(
    deps: WarehouseWebhookDeps, case: str, status: int, reason: str
) -> None:
    integration_id = "acme-centra"
    headers, body = _delivery(SHIPPED)
    if case == "wrong key":
        headers, body = _delivery(SHIPPED, key="someone-elses-key")
    elif case == "no signature":
        del headers["X-OGOship-Hmac-SHA256"]
    elif case == "signature not base64":
        headers["X-OGOship-Hmac-SHA256"] = "not base64 at all!"
    elif case == "body changed after signing":
        body = body.replace(b"1001", b"1002")
    elif case == "unknown integration":
        integration_id = "no-such-shop"
    elif case == "invalid integration id":
        integration_id = "../../etc"
    elif case == "integration without a myOGO webhook":
        integration_id = "no-key-shop"
    elif case == "not json":
        headers, body = _signed(b"reference=1001")
    elif case == "a list":
        headers, body = _delivery([SHIPPED])
    elif case == "no reference":
        headers, body = _delivery({"type": "OrderShipped"})
    elif case == "empty reference":
        headers, body = _delivery({"type": "OrderShipped", "reference": " "})
    else:
        headers, body = _delivery({**SHIPPED, "padding": "x" * 300_000})
    writes_before = deps.state.writes  # type: ignore[attr-defined]

    with pytest.raises(WebhookRejectedError) as refused:
        receive_warehouse_webhook(integration_id, headers, body, deps)

    assert (refused.value.status, refused.value.reason) == (status, reason)
    assert deps.queue.jobs == [] and deps.state.writes == writes_before  # type: ignore[attr-defined]


def _signed(body: bytes) -> tuple[dict[str, str], bytes]:
    return {"X-OGOship-Hmac-SHA256": sign_myogo_webhook(KEY, body)}, body


def test_an_empty_webhook_key_verifies_nothing(deps: WarehouseWebhookDeps) -> None:
    headers, body = _delivery(SHIPPED, key="")  # signed with the empty key anyone could use

    with pytest.raises(WebhookRejectedError) as refused:
        receive_warehouse_webhook("empty-key-shop", headers, body, deps)
    with pytest.raises(WebhookRejectedError) as by_verifier:
        MyOgoWebhookVerifier().verify(headers, body, "")

    assert (refused.value.status, refused.value.reason) == (404, "unknown_integration")
    assert (by_verifier.value.status, by_verifier.value.reason) == (401, "no_webhook_key")
    assert deps.queue.jobs == []  # type: ignore[attr-defined]
