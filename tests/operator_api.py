"""Helpers for tests of the operator API on the local stack: a client that records which routes it called, a
snapshot of everything the API could write, and a Centra merchant's create-integration body."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from ogosync_local.stack import CentraMerchant, LocalStack


@dataclass
class RecordingClient:
    """Calls routes by their OpenAPI template ("/integrations/{integration_id}") and remembers which were called."""

    http: httpx.Client
    called: set[tuple[str, str]] = field(default_factory=set)

    def call(
        self, method: str, template: str, *, params: dict[str, Any] | None = None, **values: Any
    ) -> httpx.Response:
        path_values = {k: v for k, v in values.items() if k not in ("json", "content")}
        response = self.http.request(
            method,
            template.format(**path_values),
            params=params,
            json=values.get("json"),
            content=values.get("content"),
        )
        self.called.add((method.lower(), template))
        return response


def create_body(stack: LocalStack, merchant: CentraMerchant, **changes: Any) -> dict[str, Any]:
    return {
        "id": merchant.integration_id,
        "platform": "centra",
        "merchant_name": "Acme Apparel",
        "store_base_url": merchant.centra.base_url,
        "myogo_base_url": stack.myogo.root_url,
        "myogo_token_url": stack.myogo_token_url,
        "warehouse": "TLL",
        "time_zone": merchant.time_zone,
        "settings": {"order_poll_minutes": 1},
        "credentials": dict(merchant.secret_values),
    } | changes


class Snapshots:
    """Everything the operator API could write, read in one go: every table item, every secret (name and versions)
    and every queue's messages. Equal snapshots before and after a request: the request wrote nothing. The shared
    rate limits' buckets (LIMIT#) are left out: they count the calls a request makes to a store or to myOGO, not
    data (ogosync.ratelimit)."""

    def __init__(self, stack: LocalStack) -> None:
        self._stack = stack
        self._dynamodb = stack.aws.client("dynamodb")
        self._secrets = stack.aws.client("secretsmanager")
        self._sqs = stack.aws.client("sqs")

    def take(self) -> dict[str, Any]:
        scanned = self._dynamodb.scan(TableName=self._stack.aws.table_name, ConsistentRead=True)["Items"]
        items = [item for item in scanned if not item["pk"]["S"].startswith("LIMIT#")]
        secrets = self._secrets.list_secrets(IncludePlannedDeletion=True)["SecretList"]
        return {
            "items": sorted(json.dumps(item, sort_keys=True) for item in items),
            "secrets": sorted(
                (s["Name"], json.dumps(s.get("SecretVersionsToStages"), sort_keys=True)) for s in secrets
            ),
            "queues": {name: self._depth(url) for name, url in self._stack.aws.queue_urls.items()},
        }

    def _depth(self, url: str) -> tuple[str, str]:
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        attributes = self._sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
        return attributes["ApproximateNumberOfMessages"], attributes["ApproximateNumberOfMessagesNotVisible"]


def openapi_routes(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method, path) for path, operations in document["paths"].items() for method in operations}
