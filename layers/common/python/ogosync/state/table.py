"""Plumbing shared by the repositories on ogosync's single DynamoDB table (layout in docs/contracts.md)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError
from pydantic import BaseModel

from ogosync.errors import ConcurrencyConflictError, OgosyncError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

Item = dict[str, "AttributeValueTypeDef"]

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()
BATCH_GET_LIMIT = 100
BATCH_WRITE_LIMIT = 25
_UNPROCESSED_ATTEMPTS = 8


def pk(integration_id: str) -> str:
    return f"INT#{integration_id}"


def key(integration_id: str, sk: str) -> Item:
    return {"pk": {"S": pk(integration_id)}, "sk": {"S": sk}}


def encode(values: Mapping[str, Any]) -> Item:
    return {name: _serializer.serialize(value) for name, value in values.items() if value is not None}


def decode(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def model_values(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", exclude_none=True)


def is_condition_failure(exc: ClientError) -> bool:
    code = exc.response.get("Error", {}).get("Code")
    return code in ("ConditionalCheckFailedException", "TransactionCanceledException")


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


class Expression:
    """Builds update and condition expressions with every attribute name and value as a placeholder
    (DynamoDB reserves many plain words: status, reference, owner...)."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: Item = {}

    def name(self, attribute: str) -> str:
        self.names[f"#{attribute}"] = attribute
        return f"#{attribute}"

    def value(self, value: Any) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = _serializer.serialize(value)
        return placeholder

    def set(
        self,
        values: Mapping[str, Any],
        *,
        keep: Mapping[str, Any] | None = None,
        increment: Sequence[str] = (),
        remove: Sequence[str] = (),
    ) -> str:
        """SET `values`; SET `keep` only where absent; add one to `increment`; REMOVE `remove`."""
        parts = [f"{self.name(attr)} = {self.value(value)}" for attr, value in values.items()]
        parts += [
            f"{self.name(attr)} = if_not_exists({self.name(attr)}, {self.value(value)})"
            for attr, value in (keep or {}).items()
        ]
        parts += [
            f"{self.name(attr)} = if_not_exists({self.name(attr)}, {self.value(0)}) + {self.value(1)}"
            for attr in increment
        ]
        expression = "SET " + ", ".join(parts)
        return expression + (" REMOVE " + ", ".join(map(self.name, remove)) if remove else "")


@dataclass(frozen=True)
class ClaimAttributes:
    """Where one kind of claim (an order's send, a shipment's push) lives on an item: the status attribute and
    its claimed value, the owner's token, and the lease's end as ISO text and as epoch seconds for conditions."""

    status: str | None  # None: the claim lives beside the item's status (aftercare on a SENT binding)
    claimed: str | None
    token: str
    expires: str
    expires_epoch: str

    @property
    def fields(self) -> tuple[str, str, str]:
        """The attributes a claim adds, removed when it is closed."""
        return (self.token, self.expires, self.expires_epoch)


class Table:
    """One integration-partitioned table: keyed reads, prefix queries, batches and transactions."""

    def __init__(self, client: DynamoDBClient, name: str) -> None:
        self.client = client
        self.name = name

    def get(self, integration_id: str, sk: str) -> Item | None:
        answer = self.client.get_item(TableName=self.name, Key=key(integration_id, sk), ConsistentRead=True)
        return answer.get("Item")

    def query_prefix(self, integration_id: str, prefix: str) -> list[Item]:
        """The integration's items whose sort key starts with `prefix`; an empty prefix reads the whole partition."""
        items: list[Item] = []
        paginator = self.client.get_paginator("query")
        values: Item = {":pk": {"S": pk(integration_id)}}
        condition = "pk = :pk"
        if prefix:  # DynamoDB refuses begins_with on an empty string
            values[":prefix"] = {"S": prefix}
            condition += " AND begins_with(sk, :prefix)"
        for page in paginator.paginate(
            TableName=self.name, KeyConditionExpression=condition, ExpressionAttributeValues=values, ConsistentRead=True
        ):
            items.extend(page.get("Items", []))
        return items

    def batch_get(self, keys: Sequence[Item], *, consistent: bool = True) -> list[Item]:
        """All items of `keys` that exist, in requests of 100, with unprocessed keys retried. An eventually
        consistent read costs half a strongly consistent one."""
        found: list[Item] = []
        for start in range(0, len(keys), BATCH_GET_LIMIT):
            request: dict[str, Any] = {
                self.name: {"Keys": list(keys[start : start + BATCH_GET_LIMIT]), "ConsistentRead": consistent}
            }
            for attempt in range(_UNPROCESSED_ATTEMPTS):
                answer = self.client.batch_get_item(RequestItems=request)
                found.extend(answer.get("Responses", {}).get(self.name, []))
                request = dict(answer.get("UnprocessedKeys") or {})
                if not request:
                    break
                time.sleep(0.05 * 2**attempt)
            else:
                raise OgosyncError("DynamoDB left keys unprocessed after retries")
        return found

    def batch_put(self, items: Sequence[Item]) -> None:
        """Unconditional puts in requests of 25, with unprocessed items retried."""
        self._batch_write([{"PutRequest": {"Item": item}} for item in items])

    def batch_delete(self, keys: Sequence[Item]) -> None:
        """Unconditional deletes in requests of 25, with unprocessed keys retried."""
        self._batch_write([{"DeleteRequest": {"Key": item_key}} for item_key in keys])

    def _batch_write(self, requests: Sequence[Any]) -> None:
        for start in range(0, len(requests), BATCH_WRITE_LIMIT):
            writes = list(requests[start : start + BATCH_WRITE_LIMIT])
            for attempt in range(_UNPROCESSED_ATTEMPTS):
                answer = self.client.batch_write_item(RequestItems={self.name: writes})
                writes = list((answer.get("UnprocessedItems") or {}).get(self.name, []))
                if not writes:
                    break
                time.sleep(0.05 * 2**attempt)
            else:
                raise OgosyncError("DynamoDB left writes unprocessed after retries")

    def renew_claim(
        self, item_key: Item, claim: ClaimAttributes, token: str, now: datetime, lease_seconds: int
    ) -> bool:
        """Extend a claim to now + lease_seconds by its owner: one conditional write (still claimed, still with
        `token`). A claim whose lease ran out is still ours until another worker takes it over (that changes the
        token), so it is renewable until then. False, with nothing written, when the claim is no longer ours. Every
        claim renews through here."""
        expires = now + timedelta(seconds=lease_seconds)
        ex = Expression()
        update = ex.set({claim.expires: expires.isoformat(), claim.expires_epoch: epoch(expires)})
        owned = f"{ex.name(claim.token)} = {ex.value(token)}"
        if claim.status is not None:
            owned += f" AND {ex.name(claim.status)} = {ex.value(claim.claimed)}"
        try:
            self.client.update_item(
                TableName=self.name,
                Key=item_key,
                UpdateExpression=update,
                ConditionExpression=owned,
                ExpressionAttributeNames=ex.names,
                ExpressionAttributeValues=ex.values,
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True

    def update_if(self, item_key: Item, ex: Expression, update: str, condition: str, *, conflict: str) -> Item:
        """One conditional update; returns the item as it was. A failed condition is ConcurrencyConflictError."""
        try:
            answer = self.client.update_item(
                TableName=self.name,
                Key=item_key,
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeNames=ex.names,
                ExpressionAttributeValues=ex.values,
                ReturnValues="ALL_OLD",
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                raise ConcurrencyConflictError(conflict) from exc
            raise
        return dict(answer.get("Attributes") or {})

    def transact(self, items: list[dict[str, Any]], *, conflict: str) -> None:
        """All or nothing; a failed condition becomes ConcurrencyConflictError(conflict)."""
        try:
            self.client.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
        except ClientError as exc:
            if is_condition_failure(exc):
                raise ConcurrencyConflictError(conflict) from exc
            raise

    @staticmethod
    def payload(item: Mapping[str, Any], *, helpers: Sequence[str] = ()) -> dict[str, Any]:
        """The model's fields of an item: keys, helper attributes and empty strings removed."""
        values = decode(item)
        for name in ("pk", "sk", "gsi1pk", "gsi1sk", *helpers):
            values.pop(name, None)
        return {name: value for name, value in values.items() if value != ""}
