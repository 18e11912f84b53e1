"""The composition root: builds engines' dependencies from the environment. Handlers call only this and engines.

An integration's store and myOGO adapters are cached per Lambda container (`order_deps`, which the stock and
tracking flows share), so tokens, connections and rate limiters are reused across invocations; the product flow
and the operator's access checks build their own for one run or one call. Each builder imports its adapters when
it first runs, so a function loads only those of its own flow (a cold start pays for no HTTP client in the
scheduler, no operator code in a worker): tests/unit/test_cold_imports.py holds each function to that.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING

from ogosync.aws import clients
from ogosync.errors import ConfigurationError, UnknownIntegrationError
from ogosync.models import Credentials, Flow, Integration, Platform

if TYPE_CHECKING:
    from ogosync.aws.secrets import SecretsManagerStore
    from ogosync.aws.sqs import SqsJobQueue
    from ogosync.http import RetryPolicy
    from ogosync.operator.deps import OperatorDeps
    from ogosync.ports import AccessCheck, JobQueue, StoreAdapter, StoreCatalog, WebhookVerifier
    from ogosync.ratelimit import CallBudget, RateSettings
    from ogosync.state.aftercare import DynamoAftercareRepository
    from ogosync.state.dynamo import DynamoStateRepository
    from ogosync.state.notices import DynamoNotices
    from ogosync.state.order_notes import DynamoOrderNotes
    from ogosync.state.product_refusals import DynamoProductRefusals
    from ogosync.state.product_runs import DynamoProductRuns
    from ogosync.state.rate_limits import DynamoTokenBuckets
    from ogosync.state.skus import DynamoSkuBindings
    from ogosync.state.stock import DynamoStockLedger
    from ogosync.state.tracking import DynamoTrackingRepository
    from ogosync.sync.notify import NotifyDeps
    from ogosync.sync.orders import OrderDeps
    from ogosync.sync.products import ProductDeps
    from ogosync.sync.stock import StockDeps
    from ogosync.sync.tracking import TrackingDeps
    from ogosync.sync.warehouse_webhook import WarehouseWebhookDeps
    from ogosync.sync.webhooks import FairShare, WebhookDeps
    from ogosync.warehouse.myogo import MyOgoWarehouse


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise ConfigurationError(f"environment variable {name} is not set")
    return value


@cache
def state() -> DynamoStateRepository:
    from ogosync.state.dynamo import DynamoStateRepository

    return DynamoStateRepository(clients.dynamodb(), _env("OGOSYNC_TABLE"))


@cache
def secrets() -> SecretsManagerStore:
    from ogosync.aws.secrets import SecretsManagerStore

    return SecretsManagerStore()


@cache
def order_queue() -> SqsJobQueue:
    from ogosync.aws.sqs import SqsJobQueue

    return SqsJobQueue(clients.sqs(), _env("ORDER_QUEUE_URL"))


# Each scheduled flow has its own queue; the scheduler feeds the ones whose URL its environment names.
FLOW_QUEUE_ENV = {
    Flow.ORDERS: "ORDER_POLL_QUEUE_URL",
    Flow.PRODUCTS: "PRODUCT_SYNC_QUEUE_URL",
    Flow.STOCK: "STOCK_SYNC_QUEUE_URL",
    Flow.TRACKING: "TRACKING_SYNC_QUEUE_URL",
}


@cache
def flow_queues() -> dict[Flow, JobQueue]:
    from ogosync.aws.sqs import SqsJobQueue

    return {
        flow: SqsJobQueue(clients.sqs(), os.environ[variable])
        for flow, variable in FLOW_QUEUE_ENV.items()
        if os.environ.get(variable)
    }


def webhook_verifier(platform: Platform) -> WebhookVerifier:
    from ogosync.stores import registry

    return registry.adapter(platform).build_verifier()


@cache
def webhook_deps() -> WebhookDeps:
    from ogosync.sync.webhooks import WebhookDeps

    return WebhookDeps(
        state=state(),
        secrets=secrets(),
        queue=order_queue(),
        verifier_for=webhook_verifier,
        deliveries=state(),
        fair_share=_fair_share(),
    )


def _fair_share() -> FairShare | None:
    """The order queue's fair share per integration, where the order poll's queue is configured (it takes the rest)."""
    from ogosync.state.hints import DynamoHintCounter
    from ogosync.sync.webhooks import FairShare

    poll_queue = flow_queues().get(Flow.ORDERS)
    if poll_queue is None:
        return None
    return FairShare(DynamoHintCounter(clients.dynamodb(), _env("OGOSYNC_TABLE")), poll_queue)


def integration(integration_id: str) -> Integration:
    found = state().get_integration(integration_id)
    if found is None:
        raise UnknownIntegrationError(integration_id)
    return found


def store_for(integration: Integration, credentials: Credentials, *, retry: RetryPolicy | None = None) -> StoreAdapter:
    """The integration's store, built by its platform's adapter (stores/registry.py)."""
    from ogosync.stores import registry

    budget = store_budget(integration.platform.value, integration.id)
    return registry.adapter(integration.platform).build_store(integration, credentials, retry, budget)


def warehouse_for(
    integration: Integration, credentials: Credentials, *, retry: RetryPolicy | None = None
) -> MyOgoWarehouse:
    from ogosync.warehouse.myogo import MyOgoAccount, MyOgoWarehouse

    return MyOgoWarehouse(
        MyOgoAccount(
            base_url=integration.myogo_base_url,
            token_url=integration.myogo_token_url,
            merchant_id=credentials.myogo_merchant_id,
            secret_token=credentials.myogo_secret_token.get_secret_value(),
            client_id=credentials.myogo_client_id,
            client_secret=credentials.myogo_client_secret.get_secret_value(),
        ),
        retry=retry,
        rate_limiter=myogo_budget(credentials.myogo_merchant_id),
    )


# ---- rate limits that hold across containers (ogosync.ratelimit) ------------------------------------


@cache
def rate_buckets() -> DynamoTokenBuckets:
    from ogosync.state.rate_limits import DynamoTokenBuckets

    return DynamoTokenBuckets(clients.dynamodb(), _env("OGOSYNC_TABLE"))


@cache
def rate_settings() -> RateSettings:
    from ogosync.ratelimit import RateSettings

    return RateSettings.from_env(os.environ)


@cache
def myogo_shared_budget() -> CallBudget:
    from ogosync import ratelimit

    return ratelimit.myogo_shared_budget(rate_buckets(), rate_settings())


@cache  # one limiter per container and key, kept across adapter rebuilds (its lease lives in it)
def store_budget(platform: str, integration_id: str) -> CallBudget:
    from ogosync import ratelimit

    return ratelimit.store_budget(rate_buckets(), platform, integration_id, rate_settings())


@cache
def myogo_budget(merchant_id: str) -> CallBudget:
    from ogosync import ratelimit

    return ratelimit.myogo_budget(rate_buckets(), merchant_id, myogo_shared_budget(), rate_settings())


_order_deps: dict[tuple[str, str], OrderDeps] = {}


def _fingerprint(integration: Integration, credentials: Credentials) -> str:
    """A digest that changes when the configuration or a credential changes; the secrets stay in memory only."""
    plain = credentials.revealed()
    return hashlib.sha256(json.dumps([integration.model_dump(mode="json"), plain]).encode()).hexdigest()


def order_deps(integration: Integration) -> OrderDeps:
    """Adapters for one integration, rebuilt when its configuration or credentials change."""
    from ogosync.sync.orders import OrderDeps

    credentials = secrets().credentials(integration)
    key = (integration.id, _fingerprint(integration, credentials))
    if key not in _order_deps:
        for stale in [k for k in _order_deps if k[0] == integration.id]:
            del _order_deps[stale]
        _order_deps[key] = OrderDeps(
            state=state(),
            store=store_for(integration, credentials),
            warehouse=warehouse_for(integration, credentials),
            claim_lease_seconds=int(os.environ.get("ORDER_CLAIM_LEASE_SECONDS", "120")),
            claim_margin_seconds=float(os.environ.get("ORDER_CLAIM_MARGIN_SECONDS", "30")),
            sku_bindings=sku_bindings(),
            aftercare=aftercare_state(),
            notes=order_notes(),
            notices=notices(),
        )
    return _order_deps[key]


@cache
def sku_bindings() -> DynamoSkuBindings:
    from ogosync.state.skus import DynamoSkuBindings

    return DynamoSkuBindings(clients.dynamodb(), _env("OGOSYNC_TABLE"))


# ---- products (store -> myOGO) ------------------------------------------------------------------


@cache
def product_refusals() -> DynamoProductRefusals:
    from ogosync.state.product_refusals import DynamoProductRefusals

    return DynamoProductRefusals(clients.dynamodb(), _env("OGOSYNC_TABLE"))


def catalog_for(integration: Integration, credentials: Credentials) -> StoreCatalog:
    from ogosync.ports import StoreCatalog

    store = store_for(integration, credentials)
    if not isinstance(store, StoreCatalog):
        raise ConfigurationError(f"platform {integration.platform} cannot list its products yet")
    return store


@contextmanager
def product_deps(integration: Integration) -> Iterator[ProductDeps]:
    """Adapters for one product run, closed after it: a run is long and rare, so there is nothing to keep warm
    (myOGO tokens are cached per account anyway)."""
    from ogosync.sync.products import ProductDeps

    credentials = secrets().credentials(integration)
    store = catalog_for(integration, credentials)
    warehouse = warehouse_for(integration, credentials)
    try:
        yield ProductDeps(
            state=state(),
            store=store,
            warehouse=warehouse,
            skus=sku_bindings(),
            refusals=product_refusals(),
            notices=notices(),
        )
    finally:
        warehouse.close()
        store.close()


@cache
def product_runs() -> DynamoProductRuns:
    """The product sync page's runs and reports (the operator API and the product_sync worker)."""
    from ogosync.state.product_runs import DynamoProductRuns

    return DynamoProductRuns(clients.dynamodb(), _env("OGOSYNC_TABLE"))


# ---- stock and tracking (myOGO -> store) --------------------------------------------------------


@cache
def stock_ledger() -> DynamoStockLedger:
    from ogosync.state.stock import DynamoStockLedger

    return DynamoStockLedger(clients.dynamodb(), _env("OGOSYNC_TABLE"))


@cache
def tracking_state() -> DynamoTrackingRepository:
    from ogosync.state.tracking import DynamoTrackingRepository

    return DynamoTrackingRepository(clients.dynamodb(), _env("OGOSYNC_TABLE"))


@cache
def aftercare_state() -> DynamoAftercareRepository:
    from ogosync.state.aftercare import DynamoAftercareRepository

    return DynamoAftercareRepository(clients.dynamodb(), _env("OGOSYNC_TABLE"))


@cache
def order_notes() -> DynamoOrderNotes:
    from ogosync.state.order_notes import DynamoOrderNotes

    return DynamoOrderNotes(clients.dynamodb(), _env("OGOSYNC_TABLE"))


@cache
def notices() -> DynamoNotices:
    """What merchants are told about: recorded by every flow, sent by the notify function."""
    from ogosync.state.notices import DynamoNotices

    return DynamoNotices(clients.dynamodb(), _env("OGOSYNC_TABLE"))


@cache
def notify_deps() -> NotifyDeps:
    from ogosync.aws.ses import SesMailer
    from ogosync.sync.notify import NotifyDeps
    from ogosync.webhook_out import SignedWebhook

    sender = os.environ.get("NOTIFY_SENDER")  # the stack's NotifySender; empty: no e-mail, webhooks only
    return NotifyDeps(
        state=state(),
        notices=notices(),
        secrets=secrets(),
        refusals=product_refusals(),
        aftercare=aftercare_state(),
        mailer=SesMailer(clients.ses(), sender) if sender else None,
        webhook=SignedWebhook(),
    )


@cache
def tracking_queue() -> SqsJobQueue:
    from ogosync.aws.sqs import SqsJobQueue

    return SqsJobQueue(clients.sqs(), _env(FLOW_QUEUE_ENV[Flow.TRACKING]))


def stock_deps(integration: Integration) -> StockDeps:
    from ogosync.ports import StockStore, StockWarehouse
    from ogosync.sync.stock import StockDeps

    adapters = order_deps(integration)  # the integration's store and myOGO clients, built and cached once
    store, warehouse = adapters.store, adapters.warehouse
    if not isinstance(store, StockStore) or not isinstance(warehouse, StockWarehouse):
        raise ConfigurationError(f"platform {integration.platform} does not take stock yet")
    return StockDeps(state=state(), skus=sku_bindings(), ledger=stock_ledger(), store=store, warehouse=warehouse)


def tracking_deps(integration: Integration) -> TrackingDeps:
    from ogosync.ports import ShipmentStore, TrackingWarehouse
    from ogosync.sync.tracking import TrackingDeps

    adapters = order_deps(integration)
    store, warehouse = adapters.store, adapters.warehouse
    if not isinstance(store, ShipmentStore) or not isinstance(warehouse, TrackingWarehouse):
        raise ConfigurationError(f"platform {integration.platform} does not take shipments yet")
    return TrackingDeps(
        state=state(),
        tracking=tracking_state(),
        store=store,
        warehouse=warehouse,
        claim_lease_seconds=int(os.environ.get("TRACKING_CLAIM_LEASE_SECONDS", "120")),
        claim_margin_seconds=float(os.environ.get("TRACKING_CLAIM_MARGIN_SECONDS", "30")),
        aftercare=aftercare_state(),
        notices=notices(),
    )


@cache
def warehouse_webhook_deps() -> WarehouseWebhookDeps:
    from ogosync.sync.warehouse_webhook import WarehouseWebhookDeps
    from ogosync.warehouse.myogo_webhook import MyOgoWebhookVerifier

    return WarehouseWebhookDeps(
        state=state(), secrets=secrets(), queue=tracking_queue(), verifier=MyOgoWebhookVerifier()
    )


# ---- operator API --------------------------------------------------------------------------------

# The work queues the operator shows and redrives: the order import queue and each flow's queue.
WORK_QUEUE_ENV = {"order-import": "ORDER_QUEUE_URL"} | {f"{flow}-flow": env for flow, env in FLOW_QUEUE_ENV.items()}


def access_checks(integration: Integration, credentials: Credentials) -> dict[str, AccessCheck]:
    from ogosync.http import RetryPolicy

    once = RetryPolicy(attempts=1)  # a set-up check answers at once; the person can try again
    return {
        "store": store_for(integration, credentials, retry=once),
        "myogo": warehouse_for(integration, credentials, retry=once),
    }


@cache
def operator_deps() -> OperatorDeps:
    from ogosync.aws.secret_writer import SecretsManagerWriter
    from ogosync.aws.secrets import SecretsManagerStore
    from ogosync.aws.work_queues import SqsWorkQueues
    from ogosync.operator.deps import OperatorDeps
    from ogosync.state.integrations import DynamoIntegrationConfig

    return OperatorDeps(
        state=state(),
        config=DynamoIntegrationConfig(clients.dynamodb(), _env("OGOSYNC_TABLE")),
        secrets=SecretsManagerStore(max_age=0),
        secret_writer=SecretsManagerWriter(clients.secretsmanager()),
        access_checks=access_checks,
        store=lambda integration: order_deps(integration).store,
        warehouse=lambda integration: order_deps(integration).warehouse,
        order_queue=order_queue(),
        flow_queues=flow_queues(),
        work_queues=SqsWorkQueues(
            clients.sqs(), {name: os.environ[env] for name, env in WORK_QUEUE_ENV.items() if os.environ.get(env)}
        ),
        webhook_base_url=_env("WEBHOOK_BASE_URL"),
        secret_prefix=os.environ.get("INTEGRATION_SECRET_PREFIX", "ogosync/"),
        aftercare=aftercare_state(),
        tracking=tracking_state(),
        notes=order_notes(),
    )


def reset() -> None:
    """Forget cached clients and adapters, after the environment changed (a new local stack, other endpoints)."""
    for cached in (
        state,
        secrets,
        order_queue,
        flow_queues,
        webhook_deps,
        sku_bindings,
        product_refusals,
        product_runs,
        stock_ledger,
        tracking_state,
        aftercare_state,
        order_notes,
        notices,
        notify_deps,
        tracking_queue,
        warehouse_webhook_deps,
        operator_deps,
        rate_buckets,
        rate_settings,
        myogo_shared_budget,
        store_budget,
        myogo_budget,
    ):
        cached.cache_clear()
    for client in (clients.dynamodb, clients.sqs, clients.secretsmanager, clients.ses):
        client.cache_clear()
    _order_deps.clear()
