"""Store webhooks: verify, enqueue the orders they name, answer fast (design invariant 3).

Nothing is trusted before the signature is checked, and nothing is written or enqueued for a refused delivery.
A webhook is only a hint: the worker re-reads the order from the store, and the poll covers lost deliveries.

A fair share of the shared order queue (issue 14, no noisy neighbour): each integration may put
`webhook_orders_per_minute` orders a minute into it, counted in DynamoDB (one conditional-free ADD per delivery,
so every container counts the same minute). The orders beyond it are not enqueued: the delivery that crosses the
share queues one order poll of the integration, which imports them itself, `poll_import_limit` at a time, one run
after another (ogosync.jobs.order_poll). So a Black-Friday import of 50,000 orders puts at most the share a minute
in front of the other merchants' orders, and its own orders go through one poll worker at a time. Nothing is lost:
the poll reads every order since its watermark, with or without hints.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from ogosync.errors import ConfigurationError, WebhookRejectedError
from ogosync.models import (
    INTEGRATION_ID_PATTERN,
    Flow,
    FlowJob,
    Integration,
    IntegrationStatus,
    OrderImportJob,
    Platform,
)
from ogosync.ports import DeliveryLog, HintCounter, JobQueue, SecretStore, StateRepository, WebhookVerifier
from ogosync.timeutil import Clock, utc_now

MAX_BODY_BYTES = 256 * 1024


class WebhookAck(BaseModel):
    model_config = ConfigDict(defer_build=True)

    integration_id: str
    accepted_orders: int
    ignored_events: int
    paused: bool = False
    duplicate: bool = False  # the platform delivered this event before: nothing enqueued again
    left_to_poll: int = 0  # accepted orders beyond the integration's share of the order queue this minute


# Shopify redelivers a failed webhook for up to 4 hours (docs/api/shopify.md, "Webhooks"): a delivery id is kept a day.
DELIVERY_KEEP_SECONDS = 24 * 3600


@dataclass
class FairShare:
    """The order queue's fair share per integration: the count, and the queue of the order poll that takes the rest."""

    hints: HintCounter
    poll_queue: JobQueue


@dataclass
class WebhookDeps:
    state: StateRepository
    secrets: SecretStore
    queue: JobQueue
    verifier_for: Callable[[Platform], WebhookVerifier]  # ConfigurationError for a platform without an adapter
    deliveries: DeliveryLog
    clock: Clock = utc_now
    fair_share: FairShare | None = None  # None: every hinted order goes to the order queue


def receive_store_webhook(
    platform: Platform, integration_id: str, headers: Mapping[str, str], body: bytes, deps: WebhookDeps
) -> WebhookAck:
    if len(body) > MAX_BODY_BYTES:
        raise WebhookRejectedError(413, "body_too_large", f"body is over {MAX_BODY_BYTES} bytes")
    unknown = WebhookRejectedError(404, "unknown_integration", "no such integration for this platform")
    if not re.fullmatch(INTEGRATION_ID_PATTERN, integration_id):
        raise unknown
    integration = deps.state.get_integration(integration_id)
    if integration is None or integration.platform is not platform:
        raise unknown
    try:
        verifier = deps.verifier_for(platform)
    except ConfigurationError:
        raise unknown from None
    secret = deps.secrets.credentials(integration).webhook_secret.get_secret_value()
    if not secret:  # not configured yet: an empty HMAC key would let anyone sign
        raise WebhookRejectedError(401, "no_webhook_secret", "no webhook secret is configured for this integration")
    hints = verifier.verify(headers, body, secret, deps.clock())
    if hints.delivery_id and not deps.deliveries.first_delivery(
        integration_id, hints.delivery_id, deps.clock(), DELIVERY_KEEP_SECONDS
    ):
        return WebhookAck(integration_id=integration_id, accepted_orders=0, ignored_events=0, duplicate=True)
    if integration.status is IntegrationStatus.PAUSED:  # the poll catches up after resume
        return WebhookAck(
            integration_id=integration_id,
            accepted_orders=0,
            ignored_events=hints.ignored_events + len(hints.order_ids),
            paused=True,
        )
    jobs = [
        OrderImportJob(integration_id=integration_id, order_id=order_id, source="webhook")
        for order_id in hints.order_ids
    ]
    try:
        admitted = _within_share(integration, jobs, deps)
        deps.queue.send(admitted)
    except Exception:
        if hints.delivery_id:  # the platform's retry of this delivery must not be taken for a duplicate
            deps.deliveries.forget_delivery(integration_id, hints.delivery_id)
        raise
    return WebhookAck(
        integration_id=integration_id,
        accepted_orders=len(jobs),
        ignored_events=hints.ignored_events,
        left_to_poll=len(jobs) - len(admitted),
    )


def _within_share(integration: Integration, jobs: list[OrderImportJob], deps: WebhookDeps) -> list[OrderImportJob]:
    """The jobs within the integration's share of this minute; the delivery that crosses the share queues one
    order poll, which imports the rest (and every later delivery's rest of this minute: it reads them all)."""
    if deps.fair_share is None or not jobs:
        return jobs
    now = deps.clock()
    minute = now.replace(second=0, microsecond=0)
    share = integration.settings.webhook_orders_per_minute
    before = deps.fair_share.hints.add_hints(integration.id, minute, len(jobs))
    admitted = jobs[: max(0, share - before)]
    if len(admitted) < len(jobs) and before <= share:
        deps.fair_share.poll_queue.send([FlowJob(integration_id=integration.id, flow=Flow.ORDERS, scheduled_for=now)])
    return admitted
