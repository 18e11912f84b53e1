"""The embedded local stack: moto (AWS), the Centra, Shopify, WooCommerce and myOGO simulators and a webhook gateway,
all on loopback, with the environment set so that the real handlers run against them unchanged.

By default nothing here depends on how fast the machine is: the queues' visibility timeout and the claims' lease
outlast any invocation, so no message comes back and no claim runs out by the clock. A redelivery happens when a
caller asks for it (`redeliver_failures`, `redeliver`), and then, as after a real visibility timeout (360 s and more
in template.yaml, longer than the 120 s claim lease), the claims our workers took have run out. Callers that want
real time instead (`make chaos`, `serve`) pass short timeouts and accept that a slow machine redelivers early.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from collections import defaultdict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

from ogosync import runtime
from ogosync.models import Flow, FlowJob, Integration, IntegrationSettings, Platform, SkuBinding
from ogosync.state.aftercare import DynamoAftercareRepository
from ogosync.state.dynamo import ORDER_CLAIM, DynamoStateRepository
from ogosync.state.product_runs import DynamoProductRuns
from ogosync.state.skus import DynamoSkuBindings
from ogosync.state.stock import DynamoStockLedger
from ogosync.state.table import ClaimAttributes, epoch
from ogosync.state.tracking import PUSH_CLAIM, DynamoTrackingRepository
from ogosync.stores.centra.mapping import centra_sku
from ogosync.timeutil import utc_now
from ogosync_local.aws import LocalAws, start_local_aws
from ogosync_local.console import LocalConsole
from ogosync_local.dynamodb_local import DynamoDBLocal
from ogosync_local.lambdas import (
    ROOT,
    DrainReport,
    OperatorGateway,
    WebhookGateway,
    drain_queue,
    invoke,
    make_visible,
)
from ogosync_local.sim import CentraSimulator, MyOgoSimulator, ShopifySimulator, WooCommerceSimulator

MYOGO_CLIENT_ID = "123456"  # the demo application pair of the reference
MYOGO_CLIENT_SECRET = "abcdef"  # the public demo pair of the reference
FLOW_QUEUES = {  # template.yaml logical ids
    Flow.ORDERS: "OrderPollQueue",
    Flow.PRODUCTS: "ProductSyncQueue",
    Flow.STOCK: "StockSyncQueue",
    Flow.TRACKING: "TrackingSyncQueue",
}
FLOW_FUNCTIONS = {
    Flow.ORDERS: "order_poll",
    Flow.PRODUCTS: "product_sync",
    Flow.STOCK: "stock_sync",
    Flow.TRACKING: "tracking_sync",
}  # functions/<name>
VISIBILITY_TIMEOUT_S = 3600  # no message is received twice by the clock during a run, however slow the machine
CLAIM_LEASE_S = 120  # as deployed: no claim runs out by the clock during an invocation
CLAIMS = (ORDER_CLAIM, PUSH_CLAIM)  # the claims a redelivery finds run out


@dataclass
class CentraMerchant:
    """A merchant's Centra store simulator and myOGO account, before any integration exists (test equipment)."""

    integration_id: str
    centra: CentraSimulator
    merchant_id: str
    secret_values: dict[str, str]
    time_zone: str


@dataclass
class ShopifyMerchant:
    """A merchant's Shopify shop simulator (with a warehouse location) and myOGO account, before any integration
    exists (test equipment). `secret_values` are the integration's secrets: the app's client id and secret (which
    also signs the webhooks) and the myOGO ones."""

    integration_id: str
    shopify: ShopifySimulator
    merchant_id: str
    secret_values: dict[str, Any]
    location_id: str


@dataclass
class ShopifySetup:
    """One merchant with a Shopify shop on the local stack: the simulator, the integration (its store_options name
    the warehouse location) and the secrets (test equipment only)."""

    integration: Integration
    shopify: ShopifySimulator
    merchant_id: str
    secret_values: dict[str, Any]
    location_id: str


@dataclass
class WooCommerceMerchant:
    """A merchant's WooCommerce site simulator and myOGO account, before any integration exists (test equipment).
    `secret_values` are the integration's secrets: the REST API key pair (read/write), the webhooks' secret and the
    myOGO ones."""

    integration_id: str
    woocommerce: WooCommerceSimulator
    merchant_id: str
    secret_values: dict[str, Any]


@dataclass
class WooCommerceSetup:
    """One merchant with a WooCommerce site on the local stack: the simulator, the integration and the secrets
    (test equipment only)."""

    integration: Integration
    woocommerce: WooCommerceSimulator
    merchant_id: str
    secret_values: dict[str, Any]


@dataclass
class CentraSetup:
    """One merchant on the local stack: its store simulator, integration and secrets (test equipment only)."""

    integration: Integration
    centra: CentraSimulator
    merchant_id: str
    secret_values: dict[str, str]


class LocalStack:
    def __init__(
        self,
        *,
        visibility_timeout_s: int = VISIBILITY_TIMEOUT_S,
        claim_lease_seconds: int = CLAIM_LEASE_S,
        quiet: bool = False,
        moto_process: bool = False,
        dynamodb_local: bool = False,
    ) -> None:
        self._quiet = quiet  # no metrics (EMF) on stdout, for a terminal reader
        self._moto_process = moto_process  # moto in its own interpreter (see aws.start_local_aws)
        self._dynamodb_local = DynamoDBLocal() if dynamodb_local else None  # the table there instead of in moto
        self._visibility_timeout_s = visibility_timeout_s
        self._claim_lease_seconds = claim_lease_seconds
        self.stores: dict[str, CentraSetup] = {}
        self.merchants: dict[str, CentraMerchant] = {}
        self.shopify_merchants: dict[str, ShopifyMerchant] = {}
        self.shopify_stores: dict[str, ShopifySetup] = {}
        self.woocommerce_merchants: dict[str, WooCommerceMerchant] = {}
        self.woocommerce_stores: dict[str, WooCommerceSetup] = {}
        self._saved_env: dict[str, str] = {}
        self.console: LocalConsole | None = None
        self._awaiting_redelivery: defaultdict[str, list[str]] = defaultdict(list)  # failed receipts, by queue URL

    # ---- lifecycle ----------------------------------------------------------------------------------

    def __enter__(self) -> LocalStack:
        dynamodb_endpoint = self._dynamodb_local.__enter__().endpoint if self._dynamodb_local else None
        self.aws: LocalAws = start_local_aws(
            ROOT / "template.yaml",
            visibility_timeout_s=self._visibility_timeout_s,
            own_process=self._moto_process,
            dynamodb_endpoint=dynamodb_endpoint,
        )
        self.myogo = MyOgoSimulator(clients={MYOGO_CLIENT_ID: MYOGO_CLIENT_SECRET}).start()
        self.gateway = WebhookGateway()
        self.gateway.start()
        self.operator = OperatorGateway()
        self.operator.start()
        self._saved_env = dict(os.environ)
        os.environ.update(self.environment())
        runtime.reset()
        return self

    def start_console(self) -> LocalConsole:
        """The web console on loopback (its Cognito pool, session key and handler), once per stack."""
        if self.console is None:
            self.console = LocalConsole(self.aws)
            os.environ.update(self.console.environment())
            self.console.start()
        return self.console

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if self.console is not None:
            self.console.stop()
        for merchant in self.merchants.values():
            merchant.centra.stop()
        for shop in self.shopify_merchants.values():
            shop.shopify.stop()
        for site in self.woocommerce_merchants.values():
            site.woocommerce.stop()
        self.myogo.stop()
        self.gateway.stop()
        self.operator.stop()
        self.aws.stop()
        if self._dynamodb_local:
            self._dynamodb_local.__exit__(None, None, None)
        os.environ.clear()
        os.environ.update(self._saved_env)
        runtime.reset()

    def environment(self) -> dict[str, str]:
        """What the deployed functions get from template.yaml, pointed at loopback."""
        dynamodb = {"AWS_ENDPOINT_URL_DYNAMODB": self.aws.dynamodb_endpoint} if self.aws.dynamodb_endpoint else {}
        return {
            **dynamodb,
            "AWS_ENDPOINT_URL": self.aws.endpoint,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": "eu-north-1",
            "AWS_REGION": "eu-north-1",
            "OGOSYNC_TABLE": self.aws.table_name,
            "ORDER_QUEUE_URL": self.aws.queue_urls["OrderQueue"],
            "ORDER_POLL_QUEUE_URL": self.aws.queue_urls[FLOW_QUEUES[Flow.ORDERS]],
            "PRODUCT_SYNC_QUEUE_URL": self.aws.queue_urls[FLOW_QUEUES[Flow.PRODUCTS]],
            "STOCK_SYNC_QUEUE_URL": self.aws.queue_urls[FLOW_QUEUES[Flow.STOCK]],
            "TRACKING_SYNC_QUEUE_URL": self.aws.queue_urls[FLOW_QUEUES[Flow.TRACKING]],
            "TRACKING_CLAIM_LEASE_SECONDS": str(self._claim_lease_seconds),
            "ORDER_CLAIM_LEASE_SECONDS": str(self._claim_lease_seconds),
            # each claim's margin: a quarter of its lease, as deployed (30 of 120 s)
            "TRACKING_CLAIM_MARGIN_SECONDS": str(self._claim_lease_seconds / 4),
            "ORDER_CLAIM_MARGIN_SECONDS": str(self._claim_lease_seconds / 4),
            "WEBHOOK_BASE_URL": self.gateway.base_url,
            # The shared rate limits (ogosync.ratelimit) run here as deployed, in the state table, at rates far above
            # the deployed ones: the local stack measures ogosync, not the limiter's waits (the fleet test,
            # tests/integration/test_fleet_rate_limit.py, holds a shared bucket to its rate).
            "CENTRA_RATE_PER_S": "1000",
            "MYOGO_MERCHANT_RATE_PER_S": "1000",
            "MYOGO_SHARED_RATE_PER_S": "10000",
            "INTEGRATION_SECRET_PREFIX": self.aws.secret_prefix,
            "NOTIFY_SENDER": self.aws.notify_sender,
            "POWERTOOLS_SERVICE_NAME": "ogosync",
            "POWERTOOLS_METRICS_NAMESPACE": "ogosync",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "INFO"),
            "POWERTOOLS_METRICS_DISABLED": "true" if self._quiet else "false",
        }

    # ---- set-up -------------------------------------------------------------------------------------

    def add_centra_merchant(
        self,
        integration_id: str,
        *,
        shipping_codes: set[str],
        time_zone: str = "Europe/Stockholm",
        myogo_account_of: str | None = None,
    ) -> CentraMerchant:
        """A Centra store (its webhooks go to this integration id) and a myOGO account with these shipping codes,
        or the myOGO account of the merchant of integration `myogo_account_of` (two stores on one account)."""
        secret_values = {
            "store_api_key": secrets.token_urlsafe(24),
            "webhook_secret": secrets.token_urlsafe(24),
            **self._myogo_account(integration_id, myogo_account_of, shipping_codes),
        }
        centra = CentraSimulator(
            api_key=secret_values["store_api_key"],
            endpoint_secret=secret_values["webhook_secret"],
            time_zone=time_zone,
            webhook_url=f"{self.gateway.base_url}/webhooks/centra/{integration_id}",
        ).start()
        merchant_id = secret_values["myogo_merchant_id"]
        merchant = CentraMerchant(integration_id, centra, merchant_id, secret_values, time_zone)
        self.merchants[integration_id] = merchant
        return merchant

    def add_shopify_merchant(
        self, integration_id: str, *, shipping_codes: set[str], myogo_account_of: str | None = None
    ) -> ShopifyMerchant:
        """A Shopify shop (an app with client-credentials, webhooks to this integration id, a location for the
        warehouse) and a myOGO account with these shipping codes, or the myOGO account of the merchant of
        integration `myogo_account_of`."""
        client_id, client_secret = secrets.token_hex(16), secrets.token_urlsafe(24)
        secret_values: dict[str, Any] = {
            "store": {"platform": "shopify", "client_id": client_id, "client_secret": client_secret},
            "webhook_secret": client_secret,
            **self._myogo_account(integration_id, myogo_account_of, shipping_codes),
        }
        shopify = ShopifySimulator(
            client_id=client_id,
            client_secret=client_secret,
            shop=f"ogosync-{integration_id}",
            webhook_url=f"{self.gateway.base_url}/webhooks/shopify/{integration_id}",
            # A Shopify Plus store's restore rate (1,000 points a second, docs/api/shopify.md "Cost and throttling"):
            # the simulator charges each query's requested cost, where Shopify refunds down to the actual one, so at
            # a smaller plan's rate it would throttle far earlier than Shopify and the local stack would measure
            # waits. Throttling itself is exercised by the chaos run's THROTTLED bursts and the client's tests.
            restore_rate=1000.0,
            bucket_size=2000.0,
        ).start()
        location = shopify.add_location("OGOship warehouse")
        merchant_id = secret_values["myogo_merchant_id"]
        merchant = ShopifyMerchant(integration_id, shopify, merchant_id, secret_values, location["id"])
        self.shopify_merchants[integration_id] = merchant
        return merchant

    def add_woocommerce_merchant(
        self, integration_id: str, *, shipping_codes: set[str], myogo_account_of: str | None = None
    ) -> WooCommerceMerchant:
        """A WooCommerce site (a read/write REST API key, order.created and order.updated webhooks to this
        integration id, signed with their own secret) and a myOGO account with these shipping codes, or the myOGO
        account of the merchant of integration `myogo_account_of`."""
        consumer_key, consumer_secret = f"ck_{secrets.token_hex(20)}", f"cs_{secrets.token_hex(20)}"
        secret_values: dict[str, Any] = {
            "store": {"platform": "woocommerce", "consumer_key": consumer_key, "consumer_secret": consumer_secret},
            "webhook_secret": secrets.token_urlsafe(24),
            **self._myogo_account(integration_id, myogo_account_of, shipping_codes),
        }
        woocommerce = WooCommerceSimulator(
            consumer_key=consumer_key,
            consumer_secret=consumer_secret,
            webhook_url=f"{self.gateway.base_url}/webhooks/woocommerce/{integration_id}",
            webhook_secret=secret_values["webhook_secret"],
            site=f"ogosync-{integration_id}",
        ).start()
        merchant = WooCommerceMerchant(integration_id, woocommerce, secret_values["myogo_merchant_id"], secret_values)
        self.woocommerce_merchants[integration_id] = merchant
        return merchant

    def _myogo_account(
        self, integration_id: str, myogo_account_of: str | None, shipping_codes: set[str]
    ) -> dict[str, str]:
        """A new store's myOGO credentials: a new myOGO account with these shipping codes, or the account of the
        merchant (of any platform) of integration `myogo_account_of` (two stores on one account)."""
        shared = self._merchant_sharing(myogo_account_of)
        if shared is not None:
            merchant_id, token = shared.merchant_id, shared.secret_values["myogo_secret_token"]
        else:
            merchant_id, token = f"M-{integration_id}", secrets.token_urlsafe(24)
            self.myogo.add_merchant(merchant_id, token, shipping_codes)
        return {
            "myogo_merchant_id": merchant_id,
            "myogo_secret_token": token,
            "myogo_client_id": MYOGO_CLIENT_ID,
            "myogo_client_secret": MYOGO_CLIENT_SECRET,
        }

    def _merchant_sharing(
        self, integration_id: str | None
    ) -> CentraMerchant | ShopifyMerchant | WooCommerceMerchant | None:
        """The merchant (of any platform) whose myOGO account a new store shares, if any."""
        if not integration_id:
            return None
        found = self.merchants.get(integration_id) or self.shopify_merchants.get(integration_id)
        return found or self.woocommerce_merchants[integration_id]

    def add_centra_store(
        self,
        integration_id: str,
        *,
        shipping_map: Mapping[str, str],
        products: Mapping[str, int] | None = None,
        time_zone: str = "Europe/Stockholm",
        settings: IntegrationSettings | None = None,
        myogo_account_of: str | None = None,
    ) -> CentraSetup:
        """A merchant with a Centra store and a myOGO account, and the integration between them, written directly
        (the operator API does the same with checks: see ogosync integrations create).

        `products` are myOGO product codes with their stock; `shipping_map` maps store methods to myOGO codes.
        """
        merchant = self.add_centra_merchant(
            integration_id,
            shipping_codes=set(shipping_map.values()),
            time_zone=time_zone,
            myogo_account_of=myogo_account_of,
        )
        integration = self._connect(
            merchant,
            Platform.CENTRA,
            merchant.centra.base_url,
            shipping_map=shipping_map,
            products=products,
            settings=settings,
            time_zone=time_zone,
        )
        setup = CentraSetup(integration, merchant.centra, merchant.merchant_id, merchant.secret_values)
        self.stores[integration_id] = setup
        return setup

    def add_shopify_store(
        self,
        integration_id: str,
        *,
        shipping_map: Mapping[str, str],
        products: Mapping[str, int] | None = None,
        settings: IntegrationSettings | None = None,
        myogo_account_of: str | None = None,
    ) -> ShopifySetup:
        """A merchant with a Shopify shop and a myOGO account, and the integration between them, written directly
        (as add_centra_store): the warehouse is the shop's location "OGOship warehouse".

        `products` are myOGO product codes with their stock; `shipping_map` maps shipping line titles to myOGO codes.
        """
        merchant = self.add_shopify_merchant(
            integration_id, shipping_codes=set(shipping_map.values()), myogo_account_of=myogo_account_of
        )
        integration = self._connect(
            merchant,
            Platform.SHOPIFY,
            merchant.shopify.base_url,
            shipping_map=shipping_map,
            products=products,
            settings=settings,
            time_zone="Europe/Helsinki",
            store_options={"location_id": merchant.location_id},
        )
        setup = ShopifySetup(
            integration, merchant.shopify, merchant.merchant_id, merchant.secret_values, merchant.location_id
        )
        self.shopify_stores[integration_id] = setup
        return setup

    def add_woocommerce_store(
        self,
        integration_id: str,
        *,
        shipping_map: Mapping[str, str],
        products: Mapping[str, int] | None = None,
        settings: IntegrationSettings | None = None,
        myogo_account_of: str | None = None,
    ) -> WooCommerceSetup:
        """A merchant with a WooCommerce site and a myOGO account, and the integration between them, written
        directly (as add_centra_store); the store URL is the site's root (the REST API is under /wp-json/).

        `products` are myOGO product codes with their stock; `shipping_map` maps shipping method titles to myOGO
        codes.
        """
        merchant = self.add_woocommerce_merchant(
            integration_id, shipping_codes=set(shipping_map.values()), myogo_account_of=myogo_account_of
        )
        integration = self._connect(
            merchant,
            Platform.WOOCOMMERCE,
            merchant.woocommerce.root_url,
            shipping_map=shipping_map,
            products=products,
            settings=settings,
            time_zone="Europe/Helsinki",
        )
        setup = WooCommerceSetup(integration, merchant.woocommerce, merchant.merchant_id, merchant.secret_values)
        self.woocommerce_stores[integration_id] = setup
        return setup

    def _connect(
        self,
        merchant: CentraMerchant | ShopifyMerchant | WooCommerceMerchant,
        platform: Platform,
        store_base_url: str,
        *,
        shipping_map: Mapping[str, str],
        products: Mapping[str, int] | None,
        settings: IntegrationSettings | None,
        time_zone: str,
        store_options: dict[str, Any] | None = None,
    ) -> Integration:
        """The merchant's myOGO products (code -> stock), its secret, the integration and its shipping mappings,
        written directly (the operator API does the same with checks)."""
        for code, stock in (products or {}).items():
            self.myogo.add_product(merchant.merchant_id, code, stock=stock)
        integration = Integration(
            id=merchant.integration_id,
            platform=platform,
            merchant_name=f"Merchant {merchant.integration_id}",
            store_base_url=store_base_url,
            store_options=store_options or {},
            myogo_base_url=self.myogo.root_url,
            myogo_token_url=self.myogo_token_url,
            warehouse="TLL",
            time_zone=time_zone,
            secret_name=self.aws.secret_name(merchant.integration_id),
            settings=settings or IntegrationSettings(order_poll_minutes=1),
        )
        self.aws.client("secretsmanager").create_secret(
            Name=integration.secret_name, SecretString=json.dumps(merchant.secret_values)
        )
        repo = self.state()
        repo.put_integration(integration)
        for method, code in shipping_map.items():
            repo.put_shipping_mapping(integration.id, method, code)
        return integration

    @property
    def myogo_token_url(self) -> str:
        return f"{self.myogo.root_url}/OAuth/Token"

    def state(self) -> DynamoStateRepository:
        return DynamoStateRepository(self.aws.client("dynamodb"), self.aws.table_name)

    def aftercare_state(self) -> DynamoAftercareRepository:
        return DynamoAftercareRepository(self.aws.client("dynamodb"), self.aws.table_name)

    def product_runs(self) -> DynamoProductRuns:
        return DynamoProductRuns(self.aws.client("dynamodb"), self.aws.table_name)

    # ---- running the functions --------------------------------------------------------------------

    def run_order_workers(self, *, redeliver_failures: bool = False) -> DrainReport:
        """The order import function over everything visible in the order queue; with `redeliver_failures`, also
        over what failed before and each failure again (see redeliver) until it succeeds or goes to the DLQ."""
        return self._drain(self.aws.queue_urls["OrderQueue"], "order_import", 10, redeliver_failures)

    def enqueue_flow(self, integration_id: str, flow: Flow) -> None:
        """One scheduled job of `flow` for the integration now, as the scheduler would enqueue it."""
        job = FlowJob(integration_id=integration_id, flow=flow, scheduled_for=utc_now())
        self._sqs().send_message(QueueUrl=self.aws.queue_urls[FLOW_QUEUES[flow]], MessageBody=job.model_dump_json())

    def run_flow(self, flow: Flow, *, redeliver_failures: bool = False) -> DrainReport:
        """The flow's worker function over every visible job (one integration per invocation, as deployed); with
        `redeliver_failures`, also over the jobs that failed before and each failure again (see redeliver)."""
        return self._drain(self.aws.queue_urls[FLOW_QUEUES[flow]], FLOW_FUNCTIONS[flow], 1, redeliver_failures)

    def _drain(self, queue_url: str, function: str, batch_size: int, redeliver_failures: bool) -> DrainReport:
        if redeliver_failures:
            self.redeliver(queue_url, self._awaiting_redelivery.pop(queue_url, []))
        report = drain_queue(
            self._sqs(),
            queue_url,
            function,
            batch_size=batch_size,
            redeliver=(lambda handles: self.redeliver(queue_url, handles)) if redeliver_failures else None,
        )
        self._awaiting_redelivery[queue_url] += report.left_failed
        return report

    def redeliver(self, queue_url: str, receipt_handles: list[str]) -> None:
        """What the visibility timeout running out does, at once: these failed messages are visible again, and the
        claims our workers took have run out (each queue's visibility timeout in template.yaml is longer than the
        claim lease). A claim that outlasts the lease (another worker's, set by a test) is left alone."""
        self.let_claims_run_out()
        make_visible(self._sqs(), queue_url, receipt_handles)

    def let_claims_run_out(self) -> None:
        """End every order and push claim that ends within one claim lease from now (the only ones our workers can
        have taken), as the lease's passing would."""
        dynamodb, now = self.aws.client("dynamodb"), utc_now()
        horizon = epoch(now) + self._claim_lease_seconds
        for page in dynamodb.get_paginator("scan").paginate(TableName=self.aws.table_name):
            for item in page["Items"]:
                for claim in CLAIMS:
                    if claim.expires_epoch in item and int(item[claim.expires_epoch]["N"]) <= horizon:
                        self._end_claim(item, claim, now)

    def _end_claim(self, item: dict[str, Any], claim: ClaimAttributes, now: datetime) -> None:
        ended = now - timedelta(seconds=1)
        self.aws.client("dynamodb").update_item(
            TableName=self.aws.table_name,
            Key={"pk": item["pk"], "sk": item["sk"]},
            UpdateExpression="SET #iso = :iso, #epoch = :epoch",
            ExpressionAttributeNames={"#iso": claim.expires, "#epoch": claim.expires_epoch},
            ExpressionAttributeValues={":iso": {"S": ended.isoformat()}, ":epoch": {"N": str(epoch(ended))}},
        )

    def run_scheduler(self) -> dict[str, Any]:
        answer: dict[str, Any] = invoke("scheduler", {})
        return answer

    def run_notify(self) -> dict[str, int]:
        """One run of the notify function (its schedule's tick): new notices sent, the digests due this hour."""
        answer: dict[str, int] = invoke("notify", {})
        return answer

    @contextmanager
    def background_workers(self, *flows: Flow, every_s: float = 0.2) -> Iterator[None]:
        """The flows' workers drain their queues in a thread, as Lambda would, while the caller waits for a run
        (e.g. the CLI's --wait in-process)."""
        stop = threading.Event()

        def drain() -> None:
            while not stop.wait(every_s):
                for flow in flows:
                    self.run_flow(flow)

        worker = threading.Thread(target=drain, daemon=True)
        worker.start()
        try:
            yield
        finally:
            stop.set()
            worker.join()

    # ---- stock and tracking (myOGO -> store) ------------------------------------------------------

    def seed_sku_bindings(self, integration_id: str) -> list[SkuBinding]:
        """Test set-up: bind every Centra size that myOGO has a product for, as the product flow would, without
        running it (for tests and measurements of the flows that read bindings)."""
        setup = self.stores[integration_id]
        in_myogo = set(self.myogo.products(setup.merchant_id))
        bindings = []
        for row in setup.centra.products:
            code = centra_sku(row["sku"], row["variantSku"], row["sizeSku"], row["ean"])
            if code in in_myogo:
                store_ids = {name: str(row[name]) for name in ("productId", "variantId", "stockItemId")}
                bindings.append(
                    SkuBinding(integration_id=integration_id, sku=code, store_ids=store_ids, ean=row["ean"] or None)
                )
        DynamoSkuBindings(self.aws.client("dynamodb"), self.aws.table_name).put_sku_bindings(bindings)
        return bindings

    def seed_shopify_bindings(self, integration_id: str, made: list[dict[str, Any]]) -> list[SkuBinding]:
        """Test set-up: bind the variants of these products (ShopifySimulator.add_product's answers) by SKU, as the
        product flow would, without running it."""
        bindings = [
            SkuBinding(
                integration_id=integration_id,
                sku=variant["sku"],
                store_ids={
                    "product": product["id"],
                    "variant": variant["id"],
                    "inventory_item": variant["inventoryItemId"],
                },
            )
            for product in made
            for variant in product["variants"]
            if variant["sku"]
        ]
        DynamoSkuBindings(self.aws.client("dynamodb"), self.aws.table_name).put_sku_bindings(bindings)
        return bindings

    def seed_woocommerce_bindings(self, integration_id: str, made: list[dict[str, Any]]) -> list[SkuBinding]:
        """Test set-up: bind these products (WooCommerceSimulator.add_product's answers) by SKU, as the product flow
        would, without running it: a simple product as {"product"}, each variation as {"product", "variation"}
        (the WooCommerce adapter's store ids)."""
        bindings = []
        for product in made:
            rows = product["variation_details"] or [product]
            for row in rows:
                if not row["sku"]:
                    continue
                ids = {"product": str(product["id"])}
                if row is not product:
                    ids["variation"] = str(row["id"])
                ean = row["global_unique_id"] or None
                bindings.append(SkuBinding(integration_id=integration_id, sku=row["sku"], store_ids=ids, ean=ean))
        DynamoSkuBindings(self.aws.client("dynamodb"), self.aws.table_name).put_sku_bindings(bindings)
        return bindings

    def myogo_webhook_key(self, merchant: CentraMerchant | CentraSetup | ShopifySetup | WooCommerceSetup) -> str:
        """The merchant registers myOGO's OrderShipped webhook to ogosync (in myOGO); returns its key."""
        key = secrets.token_urlsafe(24)
        integration_id = merchant.integration_id if isinstance(merchant, CentraMerchant) else merchant.integration.id
        self.myogo.add_webhook(merchant.merchant_id, f"{self.gateway.base_url}/webhooks/myogo/{integration_id}", key)
        return key

    def register_myogo_webhook(self, integration_id: str) -> str:
        """myogo_webhook_key, with the key written straight into the integration's secret (test set-up)."""
        setups: dict[str, CentraSetup | ShopifySetup | WooCommerceSetup] = {
            **self.stores,
            **self.shopify_stores,
            **self.woocommerce_stores,
        }
        setup = setups[integration_id]
        key = self.myogo_webhook_key(setup)
        setup.secret_values["myogo_webhook_key"] = key
        self.aws.client("secretsmanager").put_secret_value(
            SecretId=setup.integration.secret_name, SecretString=json.dumps(setup.secret_values)
        )
        self.expire_cached_credentials()
        return key

    def expire_cached_credentials(self) -> None:
        """What the functions' credential cache does within five minutes: read the secrets afresh."""
        runtime.reset()

    def stock_ledger(self) -> DynamoStockLedger:
        return DynamoStockLedger(self.aws.client("dynamodb"), self.aws.table_name)

    def tracking_state(self) -> DynamoTrackingRepository:
        return DynamoTrackingRepository(self.aws.client("dynamodb"), self.aws.table_name)

    def queue_depth(self, logical_id: str) -> int:
        attributes = self._sqs().get_queue_attributes(
            QueueUrl=self.aws.queue_urls[logical_id],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def _sqs(self) -> Any:
        return self.aws.client("sqs")
