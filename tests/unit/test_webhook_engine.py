"""Webhook intake (invariant 3): refused deliveries change nothing; valid ones are enqueued as hints."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from urllib.parse import quote

import pytest
from pydantic import BaseModel

from ogosync.errors import ConfigurationError, WebhookRejectedError
from ogosync.models import (
    Credentials,
    Flow,
    Integration,
    IntegrationSettings,
    IntegrationStatus,
    OrderImportJob,
    Platform,
)
from ogosync.ports import WebhookHints
from ogosync.stores import registry
from ogosync.stores.centra.webhook import CentraWebhookVerifier
from ogosync.sync.webhooks import MAX_BODY_BYTES, FairShare, WebhookDeps, receive_store_webhook
from tests.factories import T0, make_integration
from tests.fakes import FakeQueue, FakeSecrets, InMemoryHintCounter, InMemoryState, make_credentials
from tests.webhooks import centra_delivery

SECRET = "whsec-test"


def _verifier(platform: Platform) -> CentraWebhookVerifier:
    if platform is not Platform.CENTRA:
        raise ConfigurationError(f"platform {platform} is not supported yet")
    return CentraWebhookVerifier(300)


@pytest.fixture
def deps() -> WebhookDeps:
    state = InMemoryState()
    for integration in (make_integration("acme-centra"), make_integration("paused-shop", status="paused")):
        state.put_integration(integration)
    secrets = FakeSecrets(
        {
            "ogosync/acme-centra": make_credentials(webhook_secret=SECRET),
            "ogosync/paused-shop": make_credentials(webhook_secret=SECRET),
        }
    )
    return WebhookDeps(
        state=state,
        secrets=secrets,
        queue=FakeQueue(),
        verifier_for=_verifier,
        deliveries=state,
        clock=lambda: T0,
    )


def _events(*ids: int) -> list[dict[str, object]]:
    return [{"type": "order", "action": "update", "date": "2026-11-27 10:00:00.000000", "id": i} for i in ids]


def test_a_valid_delivery_enqueues_one_job_per_order(deps: WebhookDeps) -> None:
    headers, body = centra_delivery([*_events(1001, 1002, 1001), {"type": "shipment", "id": 7}], SECRET, T0)

    ack = receive_store_webhook(Platform.CENTRA, "acme-centra", headers, body, deps)

    assert (ack.accepted_orders, ack.ignored_events) == (2, 2)
    assert deps.queue.jobs == [  # type: ignore[attr-defined]
        OrderImportJob(integration_id="acme-centra", order_id="1001", source="webhook"),
        OrderImportJob(integration_id="acme-centra", order_id="1002", source="webhook"),
    ]


def _refusal(
    deps: WebhookDeps, integration_id: str, headers: dict[str, str], body: bytes, platform: Platform = Platform.CENTRA
) -> WebhookRejectedError:
    with pytest.raises(WebhookRejectedError) as refused:
        receive_store_webhook(platform, integration_id, headers, body, deps)
    assert deps.queue.jobs == []  # type: ignore[attr-defined]
    return refused.value


def test_refusals_are_4xx_and_enqueue_nothing(deps: WebhookDeps) -> None:
    headers, body = centra_delivery(_events(1001), SECRET, T0)
    wrong_secret = centra_delivery(_events(1001), "another-integrations-secret", T0)
    stale = centra_delivery(_events(1001), SECRET, T0.replace(hour=8))
    oversized = b"payload=" + quote("x" * MAX_BODY_BYTES).encode()

    cases = {
        "unknown integration": (_refusal(deps, "nobody-here", headers, body), 404),
        "bad integration id": (_refusal(deps, "../../etc", headers, body), 404),
        "wrong platform": (_refusal(deps, "acme-centra", headers, body, Platform.SHOPIFY), 404),
        "wrong secret": (_refusal(deps, "acme-centra", *wrong_secret), 401),
        "stale": (_refusal(deps, "acme-centra", *stale), 401),
        "tampered": (_refusal(deps, "acme-centra", headers, body.replace(b"1001", b"9999")), 401),
        "json body": (_refusal(deps, "acme-centra", headers | {"Content-Type": "application/json"}, body), 415),
        "oversized": (_refusal(deps, "acme-centra", headers, oversized), 413),
    }

    assert {name: refusal.status for name, (refusal, _) in cases.items()} == {
        name: status for name, (_, status) in cases.items()
    }


def test_the_size_limit_is_checked_before_any_state_is_read(deps: WebhookDeps) -> None:
    deps.state = None  # type: ignore[assignment]  # any read would fail loudly
    refused = _refusal(deps, "acme-centra", {}, b"x" * (MAX_BODY_BYTES + 1))
    assert refused.reason == "body_too_large"


def test_a_paused_integration_acknowledges_and_enqueues_nothing(deps: WebhookDeps) -> None:
    headers, body = centra_delivery(_events(1001), SECRET, T0)

    ack = receive_store_webhook(Platform.CENTRA, "paused-shop", headers, body, deps)

    assert ack.paused and ack.accepted_orders == 0 and deps.queue.jobs == []  # type: ignore[attr-defined]
    assert deps.state.get_integration("paused-shop").status is IntegrationStatus.PAUSED  # type: ignore[union-attr]


class _CountingSecrets(FakeSecrets):
    def __init__(self, inner: FakeSecrets) -> None:
        super().__init__(inner.by_secret_name)
        self.reads = 0

    def credentials(self, integration: Integration) -> Credentials:
        self.reads += 1
        return super().credentials(integration)


class _CountingQueue(FakeQueue):
    def __init__(self) -> None:
        super().__init__()
        self.sends = 0

    def send(self, jobs: Sequence[BaseModel]) -> None:
        self.sends += 1
        super().send(jobs)


def test_a_large_delivery_costs_one_secret_read_and_one_enqueue(deps: WebhookDeps) -> None:
    # Centra waits 5 s for the answer: the work must not grow with remote calls per event (timings: benchmarks).
    secrets, queue = _CountingSecrets(deps.secrets), _CountingQueue()  # type: ignore[arg-type]
    deps.secrets, deps.queue = secrets, queue
    headers, body = centra_delivery(_events(*range(1000)), SECRET, T0)

    ack = receive_store_webhook(Platform.CENTRA, "acme-centra", headers, body, deps)

    assert (ack.accepted_orders, secrets.reads, queue.sends, len(queue.jobs)) == (1000, 1, 1, 1000)


def test_an_integration_without_an_endpoint_secret_refuses_every_delivery(deps: WebhookDeps) -> None:
    deps.state.put_integration(make_integration("no-secret-yet"))
    deps.secrets.by_secret_name["ogosync/no-secret-yet"] = make_credentials(webhook_secret="")  # type: ignore[attr-defined]
    headers, body = centra_delivery(_events(1001), "", T0)  # signed with the empty key an attacker would try

    refused = _refusal(deps, "no-secret-yet", headers, body)

    assert (refused.status, refused.reason) == (401, "no_webhook_secret")


def test_a_redelivered_event_is_acknowledged_and_enqueued_once(deps: WebhookDeps) -> None:
    hinted = WebhookHints(order_ids=["1001"], delivery_id="event-7")
    deps.verifier_for = lambda platform: _Hinting(hinted)
    headers, body = centra_delivery(_events(1001), SECRET, T0)

    first = receive_store_webhook(Platform.CENTRA, "acme-centra", headers, body, deps)
    again = receive_store_webhook(Platform.CENTRA, "acme-centra", headers, body, deps)

    assert (first.accepted_orders, first.duplicate) == (1, False)
    assert (again.accepted_orders, again.duplicate) == (0, True)
    assert len(deps.queue.jobs) == 1  # type: ignore[attr-defined]


def test_a_delivery_that_could_not_be_enqueued_is_taken_when_it_comes_again(deps: WebhookDeps) -> None:
    deps.verifier_for = lambda platform: _Hinting(WebhookHints(order_ids=["1001"], delivery_id="event-8"))
    headers, body = centra_delivery(_events(1001), SECRET, T0)
    queue = deps.queue
    deps.queue = _BrokenQueue()

    with pytest.raises(RuntimeError):
        receive_store_webhook(Platform.CENTRA, "acme-centra", headers, body, deps)
    deps.queue = queue
    retried = receive_store_webhook(Platform.CENTRA, "acme-centra", headers, body, deps)

    assert (retried.accepted_orders, retried.duplicate) == (1, False)


def test_a_platform_without_an_adapter_is_an_unknown_integration(
    deps: WebhookDeps, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(registry._PACKAGES, Platform.WOOCOMMERCE)  # every platform has one now: take one away
    deps.state.put_integration(make_integration("woo-shop", platform=Platform.WOOCOMMERCE))
    headers, body = centra_delivery(_events(1001), SECRET, T0)

    refused = _refusal(deps, "woo-shop", headers, body, Platform.WOOCOMMERCE)

    assert (refused.status, refused.reason) == (404, "unknown_integration")


class _Hinting:
    def __init__(self, hints: WebhookHints) -> None:
        self.hints = hints

    def verify(self, headers: object, body: bytes, secret: str, now: object) -> WebhookHints:
        return self.hints


class _BrokenQueue:
    def send(self, jobs: Sequence[BaseModel]) -> None:
        raise RuntimeError("SQS is down")


# ---- issue 14: one merchant's backlog never queues ahead of the others ------------------------------


def _fair(deps: WebhookDeps, share: int) -> tuple[WebhookDeps, FakeQueue]:
    busy = make_integration("busy-shop", settings=IntegrationSettings(webhook_orders_per_minute=share))
    deps.state.put_integration(busy)
    deps.secrets.by_secret_name["ogosync/busy-shop"] = make_credentials(webhook_secret=SECRET)  # type: ignore[attr-defined]
    poll_queue = FakeQueue()
    return replace(deps, fair_share=FairShare(InMemoryHintCounter(), poll_queue)), poll_queue


def test_a_merchants_backlog_puts_only_its_share_in_the_order_queue_ahead_of_another_merchants_order(
    deps: WebhookDeps,
) -> None:
    fair, poll_queue = _fair(deps, share=20)
    acks = []
    for delivery in range(100):  # a Black-Friday import: 5,000 orders in deliveries of 50
        headers, body = centra_delivery(_events(*range(10_000 + 50 * delivery, 10_050 + 50 * delivery)), SECRET, T0)
        acks.append(receive_store_webhook(Platform.CENTRA, "busy-shop", headers, body, fair))
    headers, body = centra_delivery(_events(1001, 1002), SECRET, T0)
    receive_store_webhook(Platform.CENTRA, "acme-centra", headers, body, fair)

    queued = [job.integration_id for job in deps.queue.jobs]  # type: ignore[attr-defined]
    assert queued.index("acme-centra") == 20  # behind the busy merchant's share, not behind its 5,000
    assert sum(ack.left_to_poll for ack in acks) == 4980 and sum(ack.accepted_orders for ack in acks) == 5000
    assert [(job.integration_id, job.flow) for job in poll_queue.jobs] == [("busy-shop", Flow.ORDERS)]  # type: ignore[attr-defined]


def _at(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def test_each_minute_gives_a_new_share_and_wakes_the_poll_once(deps: WebhookDeps) -> None:
    fair, poll_queue = _fair(deps, share=20)
    for minute in range(3):
        now = T0 + timedelta(minutes=minute)
        for delivery in range(3):
            first = 10_000 + 1000 * minute + 30 * delivery
            headers, body = centra_delivery(_events(*range(first, first + 30)), SECRET, now)
            receive_store_webhook(Platform.CENTRA, "busy-shop", headers, body, replace(fair, clock=_at(now)))

    assert len(deps.queue.jobs) == 3 * 20  # type: ignore[attr-defined]
    assert len(poll_queue.jobs) == 3  # type: ignore[attr-defined]
