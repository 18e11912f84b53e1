"""The embedded local stack: moto (AWS), the Centra and myOGO simulators and a webhook gateway, all on loopback,
with the environment set so that the real handlers run against them unchanged."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from ogosync import runtime
from ogosync.models import Flow, FlowJob, Integration, IntegrationSettings, Platform
from ogosync.state.dynamo import DynamoStateRepository
from ogosync.timeutil import utc_now
from ogosync_local.aws import LocalAws, start_local_aws
from ogosync_local.lambdas import ROOT, DrainReport, OperatorGateway, WebhookGateway, drain_queue, invoke
from ogosync_local.sim import CentraSimulator, MyOgoSimulator

MYOGO_CLIENT_ID = "123456"  # the demo application pair of the reference
MYOGO_CLIENT_SECRET = "abcdef"  # noqa: S105 (public demo pair, simulator only)


@dataclass
class CentraMerchant:
    """A merchant's Centra store simulator and myOGO account, before any integration exists (test equipment)."""

    integration_id: str
    centra: CentraSimulator
    merchant_id: str
    secret_values: dict[str, str]
    time_zone: str


@dataclass
class CentraSetup:
    """One merchant on the local stack: its store simulator, integration and secrets (test equipment only)."""

    integration: Integration
    centra: CentraSimulator
    merchant_id: str
    secret_values: dict[str, str]


class LocalStack:
    def __init__(self, *, visibility_timeout_s: int = 1, claim_lease_seconds: int = 2, quiet: bool = False) -> None:
        self._quiet = quiet  # no metrics (EMF) on stdout, for a terminal reader
        self._visibility_timeout_s = visibility_timeout_s
        self._claim_lease_seconds = claim_lease_seconds
        self.stores: dict[str, CentraSetup] = {}
        self.merchants: dict[str, CentraMerchant] = {}
        self._saved_env: dict[str, str] = {}

    # ---- lifecycle ----------------------------------------------------------------------------------

    def __enter__(self) -> LocalStack:
        self.aws: LocalAws = start_local_aws(ROOT / "template.yaml", visibility_timeout_s=self._visibility_timeout_s)
        self.myogo = MyOgoSimulator(clients={MYOGO_CLIENT_ID: MYOGO_CLIENT_SECRET}).start()
        self.gateway = WebhookGateway()
        self.gateway.start()
        self.operator = OperatorGateway()
        self.operator.start()
        self._saved_env = dict(os.environ)
        os.environ.update(self.environment())
        runtime.reset()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        for merchant in self.merchants.values():
            merchant.centra.stop()
        self.myogo.stop()
        self.gateway.stop()
        self.operator.stop()
        self.aws.stop()
        os.environ.clear()
        os.environ.update(self._saved_env)
        runtime.reset()

    def environment(self) -> dict[str, str]:
        """What the deployed functions get from template.yaml, pointed at loopback."""
        return {
            "AWS_ENDPOINT_URL": self.aws.endpoint,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": "eu-north-1",
            "AWS_REGION": "eu-north-1",
            "OGOSYNC_TABLE": self.aws.table_name,
            "ORDER_QUEUE_URL": self.aws.queue_urls["OrderQueue"],
            "ORDER_POLL_QUEUE_URL": self.aws.queue_urls["OrderPollQueue"],
            "ORDER_CLAIM_LEASE_SECONDS": str(self._claim_lease_seconds),
            "WEBHOOK_BASE_URL": self.gateway.base_url,
            "INTEGRATION_SECRET_PREFIX": self.aws.secret_prefix,
            "POWERTOOLS_SERVICE_NAME": "ogosync",
            "POWERTOOLS_METRICS_NAMESPACE": "ogosync",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "INFO"),
            "POWERTOOLS_METRICS_DISABLED": "true" if self._quiet else "false",
        }

    # ---- set-up -------------------------------------------------------------------------------------

    def add_centra_merchant(
        self, integration_id: str, *, shipping_codes: set[str], time_zone: str = "Europe/Stockholm"
    ) -> CentraMerchant:
        """A Centra store (its webhooks go to this integration id) and a myOGO account with these shipping codes."""
        secret_values = {
            "store_api_key": secrets.token_urlsafe(24),
            "webhook_secret": secrets.token_urlsafe(24),
            "myogo_merchant_id": f"M-{integration_id}",
            "myogo_secret_token": secrets.token_urlsafe(24),
            "myogo_client_id": MYOGO_CLIENT_ID,
            "myogo_client_secret": MYOGO_CLIENT_SECRET,
        }
        centra = CentraSimulator(
            api_key=secret_values["store_api_key"],
            endpoint_secret=secret_values["webhook_secret"],
            time_zone=time_zone,
            webhook_url=f"{self.gateway.base_url}/webhooks/centra/{integration_id}",
        ).start()
        merchant_id = secret_values["myogo_merchant_id"]
        self.myogo.add_merchant(merchant_id, secret_values["myogo_secret_token"], shipping_codes)
        merchant = CentraMerchant(integration_id, centra, merchant_id, secret_values, time_zone)
        self.merchants[integration_id] = merchant
        return merchant

    def add_centra_store(
        self,
        integration_id: str,
        *,
        shipping_map: Mapping[str, str],
        products: Mapping[str, int] | None = None,
        time_zone: str = "Europe/Stockholm",
        settings: IntegrationSettings | None = None,
    ) -> CentraSetup:
        """A merchant with a Centra store and a myOGO account, and the integration between them, written directly
        (the operator API does the same with checks: see ogosync integrations create).

        `products` are myOGO product codes with their stock; `shipping_map` maps store methods to myOGO codes.
        """
        merchant = self.add_centra_merchant(
            integration_id, shipping_codes=set(shipping_map.values()), time_zone=time_zone
        )
        for code, stock in (products or {}).items():
            self.myogo.add_product(merchant.merchant_id, code, stock=stock)
        secret_name = self.aws.secret_name(integration_id)
        self.aws.client("secretsmanager").create_secret(
            Name=secret_name, SecretString=json.dumps(merchant.secret_values)
        )
        integration = Integration(
            id=integration_id,
            platform=Platform.CENTRA,
            merchant_name=f"Merchant {integration_id}",
            store_base_url=merchant.centra.base_url,
            myogo_base_url=self.myogo.root_url,
            myogo_token_url=self.myogo_token_url,
            warehouse="TLL",
            time_zone=time_zone,
            secret_name=secret_name,
            settings=settings or IntegrationSettings(order_poll_minutes=1),
        )
        repo = self.state()
        repo.put_integration(integration)
        for method, code in shipping_map.items():
            repo.put_shipping_mapping(integration_id, method, code)
        setup = CentraSetup(integration, merchant.centra, merchant.merchant_id, merchant.secret_values)
        self.stores[integration_id] = setup
        return setup

    @property
    def myogo_token_url(self) -> str:
        return f"{self.myogo.root_url}/OAuth/Token"

    def state(self) -> DynamoStateRepository:
        return DynamoStateRepository(self.aws.client("dynamodb"), self.aws.table_name)

    # ---- running the functions --------------------------------------------------------------------

    def run_order_workers(self, *, wait_for_retries_s: float = 0.0) -> DrainReport:
        """The order import function over everything in the order queue (and its redeliveries, if waited for)."""
        return drain_queue(
            self._sqs(), self.aws.queue_urls["OrderQueue"], "order_import", wait_for_retries_s=wait_for_retries_s
        )

    def run_scheduler(self) -> dict[str, Any]:
        answer: dict[str, Any] = invoke("scheduler", {})
        return answer

    def enqueue_poll(self, integration_id: str) -> None:
        job = FlowJob(integration_id=integration_id, flow=Flow.ORDERS, scheduled_for=utc_now())
        self._sqs().send_message(QueueUrl=self.aws.queue_urls["OrderPollQueue"], MessageBody=job.model_dump_json())

    def run_polls(self, *, wait_for_retries_s: float = 0.0) -> DrainReport:
        """The order poll function over every queued poll job (one integration per invocation, as deployed)."""
        return drain_queue(
            self._sqs(),
            self.aws.queue_urls["OrderPollQueue"],
            "order_poll",
            batch_size=1,
            wait_for_retries_s=wait_for_retries_s,
        )

    # ---- products (store -> myOGO) --------------------------------------------------------------

    # ---- stock and tracking (myOGO -> store) ------------------------------------------------------

    def queue_depth(self, logical_id: str) -> int:
        attributes = self._sqs().get_queue_attributes(
            QueueUrl=self.aws.queue_urls[logical_id],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def _sqs(self) -> Any:
        return self.aws.client("sqs")
