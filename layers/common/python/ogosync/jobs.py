"""What each Lambda function does, as one call: load the integration, build its adapters, run the engine.

Handlers stay thin (parse the event, call one of these, shape the answer); the engines stay free of wiring.
Each job imports its engine when it runs, so a function's cold start loads only the engine of its own flow.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from ogosync import runtime
from ogosync.errors import OgosyncError
from ogosync.models import (
    Flow,
    FlowJob,
    Integration,
    IntegrationStatus,
    OrderImportJob,
    Platform,
    ProductActionJob,
    ProductRun,
    ProductRunResult,
    TrackingHintJob,
)
from ogosync.timeutil import utc_now

if TYPE_CHECKING:
    from ogosync.sync.notify import NotifyResult
    from ogosync.sync.orders import ImportResult, PollResult
    from ogosync.sync.schedule import Tick
    from ogosync.sync.stock import StockRunResult
    from ogosync.sync.tracking import TrackingOutcome, TrackingRunResult
    from ogosync.sync.warehouse_webhook import WarehouseWebhookAck
    from ogosync.sync.webhooks import WebhookAck

logger = Logger(service="ogosync", child=True)


class RetryLaterError(OgosyncError):
    """The job cannot finish now (another worker holds the order); the queue will redeliver it."""


def _telling_refused_credentials(integration: Integration) -> AbstractContextManager[None]:
    """Credentials a platform refused in any flow become a notice for the merchant (sync/notices.py)."""
    from ogosync.sync.notices import telling_refused_credentials

    return telling_refused_credentials(integration, runtime.notices(), utc_now)


def store_webhook(platform: Platform, integration_id: str, headers: Mapping[str, str], body: bytes) -> WebhookAck:
    from ogosync.sync.webhooks import receive_store_webhook

    return receive_store_webhook(platform, integration_id, headers, body, runtime.webhook_deps())


def order_import(job: OrderImportJob) -> ImportResult | None:
    """Import one order; None when the integration is paused (the poll catches up after resume)."""
    from ogosync.sync.orders import ImportOutcome, import_order_by_id

    integration = runtime.integration(job.integration_id)
    if integration.status is IntegrationStatus.PAUSED:
        logger.info("integration paused, order left to the poll", extra={"integration_id": integration.id})
        return None
    with _telling_refused_credentials(integration):
        result = import_order_by_id(integration, job.order_id, runtime.order_deps(integration))
    if result.outcome is ImportOutcome.BUSY:
        raise RetryLaterError(f"order {job.order_id} of {job.integration_id} is being sent by another worker")
    return result


def order_poll(job: FlowJob, owner: str) -> PollResult | None:
    from ogosync.sync.orders import poll_orders

    integration = runtime.integration(job.integration_id)
    if integration.status is IntegrationStatus.PAUSED:
        return None
    with _telling_refused_credentials(integration):
        result = poll_orders(integration, runtime.order_deps(integration), owner)
    poll_queue = runtime.flow_queues().get(Flow.ORDERS)
    if result is not None and result.more and poll_queue is not None:  # a backlog beyond poll_import_limit
        poll_queue.send([FlowJob(integration_id=integration.id, flow=Flow.ORDERS, scheduled_for=utc_now())])
    return result


def schedule(now: datetime) -> Tick:
    """The scheduler's minute: the due jobs enqueued, and the overdue flows of this minute's share of the sweep."""
    from ogosync.sync.schedule import tick

    return tick(runtime.state(), runtime.flow_queues(), now)


# ---- products (store -> myOGO) ------------------------------------------------------------------


def product_sync(job: FlowJob | ProductActionJob, owner: str) -> ProductRunResult | ProductRun | None:
    """A job of ProductSyncQueue: the scheduled run (None when the integration is paused), or the merchant's
    "Refresh" / "Create product" queued by the operator API (None when its job came a second time)."""
    from ogosync.sync.product_page import ProductPageDeps, run_product_action
    from ogosync.sync.products import sync_products

    integration = runtime.integration(job.integration_id)
    if isinstance(job, ProductActionJob):
        with _telling_refused_credentials(integration), runtime.product_deps(integration) as deps:
            return run_product_action(integration, job, ProductPageDeps(deps, runtime.product_runs()))
    if integration.status is IntegrationStatus.PAUSED:
        return None
    with _telling_refused_credentials(integration), runtime.product_deps(integration) as deps:
        return sync_products(integration, deps, owner)


# ---- stock and tracking (myOGO -> store) --------------------------------------------------------


def stock_sync(job: FlowJob, owner: str) -> StockRunResult | None:
    """One stock run; None when the integration is paused or another run of it is under way."""
    from ogosync.sync.stock import sync_stock

    integration = runtime.integration(job.integration_id)
    if integration.status is IntegrationStatus.PAUSED:
        return None
    with _telling_refused_credentials(integration):
        return sync_stock(integration, runtime.stock_deps(integration), owner)


def tracking_poll(job: FlowJob, owner: str) -> TrackingRunResult | None:
    from ogosync.sync.tracking import poll_tracking

    integration = runtime.integration(job.integration_id)
    if integration.status is IntegrationStatus.PAUSED:
        return None
    with _telling_refused_credentials(integration):
        return poll_tracking(integration, runtime.tracking_deps(integration), owner)


def tracking_hint(job: TrackingHintJob) -> TrackingOutcome | None:
    """The order a myOGO webhook named; None when the integration is paused (the poll catches up after resume).

    A hint that meets another worker's live claim is acknowledged, not retried: the claim's owner pushes the
    shipment, and if it dies the tracking poll (whose watermark never passes a busy order) pushes it once the lease
    ends. Retrying would only fill the DLQ and trip its alarm with orders that are fine.
    """
    from ogosync.sync.tracking import TrackingOutcome, handle_tracking_hint

    integration = runtime.integration(job.integration_id)
    if integration.status is IntegrationStatus.PAUSED:
        return None
    with _telling_refused_credentials(integration):
        outcome = handle_tracking_hint(integration, job.reference, runtime.tracking_deps(integration))
    if outcome is TrackingOutcome.BUSY:
        logger.info("another worker is pushing this order; hint acknowledged", extra={"reference": job.reference})
    return outcome


def warehouse_webhook(integration_id: str, headers: Mapping[str, str], body: bytes) -> WarehouseWebhookAck:
    from ogosync.sync.warehouse_webhook import receive_warehouse_webhook

    return receive_warehouse_webhook(integration_id, headers, body, runtime.warehouse_webhook_deps())


# ---- notices (the merchant is told) -------------------------------------------------------------


def notify() -> NotifyResult:
    """The notify function's run: pending notices sent once, the digests due this hour."""
    from ogosync.sync.notify import run_notify

    return run_notify(runtime.notify_deps())


# ---- operator API -------------------------------------------------------------------------------


def operator_request(event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
    """One operator API request. The API module is imported here, not above: the other functions never load it."""
    from ogosync.operator import api

    return api.resolve(event, context, runtime.operator_deps(), runtime.product_runs())
