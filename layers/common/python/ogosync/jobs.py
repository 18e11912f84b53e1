"""What each Lambda function does, as one call: load the integration, build its adapters, run the engine.

Handlers stay thin (parse the event, call one of these, shape the answer); the engines stay free of wiring.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from aws_lambda_powertools import Logger

from ogosync import runtime
from ogosync.errors import OgosyncError
from ogosync.models import (
    FlowJob,
    IntegrationStatus,
    OrderImportJob,
    Platform,
    ProductAdminRequest,
    ProductReport,
    ProductRunResult,
)
from ogosync.sync.orders import ImportOutcome, ImportResult, PollResult, import_order_by_id, poll_orders
from ogosync.sync.products import create_products, refresh_products, sync_products
from ogosync.sync.schedule import dispatch_due_jobs
from ogosync.sync.webhooks import WebhookAck, receive_store_webhook

logger = Logger(service="ogosync", child=True)


class RetryLaterError(OgosyncError):
    """The job cannot finish now (another worker holds the order); the queue will redeliver it."""


def store_webhook(platform: Platform, integration_id: str, headers: Mapping[str, str], body: bytes) -> WebhookAck:
    return receive_store_webhook(platform, integration_id, headers, body, runtime.webhook_deps())


def order_import(job: OrderImportJob) -> ImportResult | None:
    """Import one order; None when the integration is paused (the poll catches up after resume)."""
    integration = runtime.integration(job.integration_id)
    if integration.status is IntegrationStatus.PAUSED:
        logger.info("integration paused, order left to the poll", extra={"integration_id": integration.id})
        return None
    result = import_order_by_id(integration, job.order_id, runtime.order_deps(integration))
    if result.outcome is ImportOutcome.BUSY:
        raise RetryLaterError(f"order {job.order_id} of {job.integration_id} is being sent by another worker")
    return result


def order_poll(job: FlowJob, owner: str) -> PollResult | None:
    integration = runtime.integration(job.integration_id)
    if integration.status is IntegrationStatus.PAUSED:
        return None
    return poll_orders(integration, runtime.order_deps(integration), owner)


def schedule(now: datetime) -> list[FlowJob]:
    return dispatch_due_jobs(runtime.state(), runtime.flow_queues(), now)


# ---- products (store -> myOGO) ------------------------------------------------------------------


def product_sync(job: FlowJob, owner: str) -> ProductRunResult | None:
    """The scheduled product run of one integration; None when the integration is paused."""
    integration = runtime.integration(job.integration_id)
    if integration.status is IntegrationStatus.PAUSED:
        return None
    with runtime.product_deps(integration) as deps:
        return sync_products(integration, deps, owner)


def product_admin(request: ProductAdminRequest, owner: str) -> ProductReport | ProductRunResult:
    """The merchant's "Sync webshop products" page: "Refresh" and "Create product" (what the operator API serves)."""
    integration = runtime.integration(request.integration_id)
    with runtime.product_deps(integration) as deps:
        if request.action == "refresh":
            return refresh_products(integration, deps, request.states)
        return create_products(integration, deps, owner, request.skus)


# ---- stock and tracking (myOGO -> store) --------------------------------------------------------
