"""The state repository on one DynamoDB table (layout in docs/contracts.md).

Every write that decides who does what is conditional: claims, cursors and locks are compare-and-set, so two
Lambda invocations racing on the same order or flow cannot both win.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError
from pydantic import BaseModel

from ogosync.errors import ConcurrencyConflictError
from ogosync.models import (
    BindingStatus,
    Cursor,
    Flow,
    Hold,
    Integration,
    OrderBinding,
    WarehouseOrderState,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

Item = dict[str, "AttributeValueTypeDef"]

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()
_CLAIM_FIELDS = ("claim_token", "claim_expires", "claim_expires_epoch")
_BATCH_GET_LIMIT = 100


def _pk(integration_id: str) -> str:
    return f"INT#{integration_id}"


def _key(integration_id: str, sk: str) -> Item:
    return {"pk": {"S": _pk(integration_id)}, "sk": {"S": sk}}


def _encode(values: Mapping[str, Any]) -> Item:
    return {name: _serializer.serialize(value) for name, value in values.items() if value is not None}


def _decode(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def _model_values(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", exclude_none=True)


def _is_condition_failure(exc: ClientError) -> bool:
    code = exc.response.get("Error", {}).get("Code")
    return code in ("ConditionalCheckFailedException", "TransactionCanceledException")


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


class _Expression:
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

    def reopenable(self) -> str:
        """The order is held, skipped or failed: free to claim or to record again."""
        statuses = [
            self.value(status.value) for status in (BindingStatus.HELD, BindingStatus.SKIPPED, BindingStatus.FAILED)
        ]
        return f"{self.name('status')} IN ({', '.join(statuses)})"

    def claim_expired(self, now: datetime) -> str:
        claimed = self.value(BindingStatus.CLAIMED.value)
        return f"({self.name('status')} = {claimed} AND {self.name('claim_expires_epoch')} < {self.value(_epoch(now))})"

    def claimed_by(self, token: str) -> str:
        return f"{self.name('claim_token')} = {self.value(token)}"


class DynamoStateRepository:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._db = client
        self._table = table_name

    # ---- integrations -----------------------------------------------------------------------------

    def get_integration(self, integration_id: str) -> Integration | None:
        item = self._get(integration_id, "CONFIG")
        return Integration.model_validate(self._payload(item)) if item else None

    def list_integrations(self) -> list[Integration]:
        integrations: list[Integration] = []
        paginator = self._db.get_paginator("query")
        for page in paginator.paginate(
            TableName=self._table,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :kind",
            ExpressionAttributeValues={":kind": {"S": "INTEGRATION"}},
        ):
            integrations.extend(Integration.model_validate(self._payload(item)) for item in page.get("Items", []))
        return integrations

    def put_integration(self, integration: Integration) -> None:
        values = _model_values(integration) | {"gsi1pk": "INTEGRATION", "gsi1sk": integration.id}
        self._db.put_item(TableName=self._table, Item=_key(integration.id, "CONFIG") | _encode(values))

    # ---- cursors and locks --------------------------------------------------------------------------

    def get_cursor(self, integration_id: str, flow: Flow) -> Cursor:
        item = self._get(integration_id, f"CURSOR#{flow}")
        if item is None:
            return Cursor(integration_id=integration_id, flow=flow)
        return Cursor.model_validate(self._payload(item))

    def save_cursor(self, cursor: Cursor) -> Cursor:
        saved = cursor.model_copy(update={"version": cursor.version + 1})
        try:
            self._db.put_item(
                TableName=self._table,
                Item=_key(cursor.integration_id, f"CURSOR#{cursor.flow}") | _encode(_model_values(saved)),
                ConditionExpression="attribute_not_exists(pk) OR version = :expected",
                ExpressionAttributeValues={":expected": {"N": str(cursor.version)}},
            )
        except ClientError as exc:
            if _is_condition_failure(exc):
                moved = f"cursor {cursor.flow} of {cursor.integration_id} moved meanwhile"
                raise ConcurrencyConflictError(moved) from exc
            raise
        return saved

    def acquire_lock(self, integration_id: str, flow: Flow, owner: str, now: datetime, ttl_seconds: int) -> bool:
        try:
            self._db.put_item(
                TableName=self._table,
                Item=_key(integration_id, f"LOCK#{flow}")
                | _encode({"owner": owner, "expires_at": _epoch(now) + ttl_seconds}),
                ConditionExpression="attribute_not_exists(pk) OR expires_at < :now",
                ExpressionAttributeValues={":now": {"N": str(_epoch(now))}},
            )
        except ClientError as exc:
            if _is_condition_failure(exc):
                return False
            raise
        return True

    def release_lock(self, integration_id: str, flow: Flow, owner: str) -> None:
        try:
            self._db.delete_item(
                TableName=self._table,
                Key=_key(integration_id, f"LOCK#{flow}"),
                ConditionExpression="#owner = :owner",
                ExpressionAttributeNames={"#owner": "owner"},
                ExpressionAttributeValues={":owner": {"S": owner}},
            )
        except ClientError as exc:
            if not _is_condition_failure(exc):  # someone else's lock now (ours expired): leave it
                raise

    # ---- shipping methods -------------------------------------------------------------------------

    def shipping_map(self, integration_id: str) -> dict[str, str]:
        items = self._query_prefix(integration_id, "SHIP#")
        return {str(item["store_method"]): str(item["myogo_code"]) for item in map(_decode, items)}

    def put_shipping_mapping(self, integration_id: str, store_method: str, myogo_code: str) -> None:
        values = {"store_method": store_method, "myogo_code": myogo_code}
        self._db.put_item(TableName=self._table, Item=_key(integration_id, f"SHIP#{store_method}") | _encode(values))

    # ---- order bindings ---------------------------------------------------------------------------

    def get_order_binding(self, integration_id: str, store_order_id: str) -> OrderBinding | None:
        item = self._get(integration_id, f"ORDER#{store_order_id}")
        return OrderBinding.model_validate(self._payload(item)) if item else None

    def get_order_bindings(self, integration_id: str, store_order_ids: Sequence[str]) -> dict[str, OrderBinding]:
        unique = list(dict.fromkeys(store_order_ids))
        bindings: dict[str, OrderBinding] = {}
        for start in range(0, len(unique), _BATCH_GET_LIMIT):
            keys = [_key(integration_id, f"ORDER#{order_id}") for order_id in unique[start : start + _BATCH_GET_LIMIT]]
            for item in self._batch_get(keys):
                binding = OrderBinding.model_validate(self._payload(item))
                bindings[binding.store_order_id] = binding
        return bindings

    def claim_order(
        self, integration_id: str, store_order_id: str, reference: str, token: str, now: datetime, lease_seconds: int
    ) -> OrderBinding | None:
        expires = now + timedelta(seconds=lease_seconds)
        ex = _Expression()
        update = ex.set(
            {
                "status": BindingStatus.CLAIMED.value,
                "claim_token": token,
                "claim_expires": expires.isoformat(),
                "claim_expires_epoch": _epoch(expires),
                "integration_id": integration_id,
                "store_order_id": store_order_id,
                "reference": reference,
                "updated_at": now.isoformat(),
            },
            keep={"first_seen_at": now.isoformat()},
            increment=("attempts",),
        )
        try:
            answer = self._db.update_item(
                TableName=self._table,
                Key=_key(integration_id, f"ORDER#{store_order_id}"),
                UpdateExpression=update,
                ConditionExpression=f"attribute_not_exists(pk) OR {ex.reopenable()} OR {ex.claim_expired(now)}",
                ExpressionAttributeNames=ex.names,
                ExpressionAttributeValues=ex.values,
                ReturnValues="ALL_OLD",
            )
        except ClientError as exc:
            if _is_condition_failure(exc):
                taken = f"order {store_order_id} is sent or being sent by another worker"
                raise ConcurrencyConflictError(taken) from exc
            raise
        old = answer.get("Attributes")
        return OrderBinding.model_validate(self._payload(old)) if old else None

    def mark_order_sent(
        self,
        integration_id: str,
        store_order_id: str,
        token: str,
        state: WarehouseOrderState,
        now: datetime,
        *,
        was_held: bool,
    ) -> None:
        ex = _Expression()
        update = ex.set(
            {
                "status": BindingStatus.SENT.value,
                "myogo_id": state.id or "",
                "myogo_status": state.status,
                "sent_at": now.isoformat(),
                "updated_at": now.isoformat(),
                "holds": [],
            },
            remove=(*_CLAIM_FIELDS, "last_error"),
        )
        items: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": _key(integration_id, f"ORDER#{store_order_id}"),
                    "UpdateExpression": update,
                    "ConditionExpression": ex.claimed_by(token),
                    "ExpressionAttributeNames": ex.names,
                    "ExpressionAttributeValues": ex.values,
                }
            }
        ]
        if was_held:
            items.append(self._delete_held_marker(integration_id, store_order_id))
        self._transact(items, conflict=f"order {store_order_id}: our claim was taken over before it was recorded")

    def mark_order_failed(
        self, integration_id: str, store_order_id: str, token: str, error: str, now: datetime
    ) -> None:
        ex = _Expression()
        update = ex.set(
            {"status": BindingStatus.FAILED.value, "last_error": error[:1000], "updated_at": now.isoformat()},
            remove=_CLAIM_FIELDS,
        )
        try:
            self._db.update_item(
                TableName=self._table,
                Key=_key(integration_id, f"ORDER#{store_order_id}"),
                UpdateExpression=update,
                ConditionExpression=ex.claimed_by(token),
                ExpressionAttributeNames=ex.names,
                ExpressionAttributeValues=ex.values,
            )
        except ClientError as exc:
            if not _is_condition_failure(exc):  # no longer ours: whoever has it now decides
                raise

    def mark_order_held(
        self,
        integration_id: str,
        store_order_id: str,
        reference: str,
        holds: Sequence[Hold],
        now: datetime,
        placed_at: datetime | None,
        token: str | None = None,
    ) -> bool:
        marker = _key(integration_id, f"HELD#{store_order_id}") | _encode(
            {"store_order_id": store_order_id, "store_placed_at": placed_at.isoformat() if placed_at else None}
        )
        closing = self._closing_update(
            integration_id,
            store_order_id,
            reference,
            BindingStatus.HELD,
            now,
            placed_at,
            token,
            holds=[_model_values(hold) for hold in holds],
            skip_reason=None,
        )
        return self._transact_or_false([{"Update": closing}, {"Put": {"TableName": self._table, "Item": marker}}])

    def mark_order_skipped(
        self,
        integration_id: str,
        store_order_id: str,
        reference: str,
        reason: str,
        now: datetime,
        placed_at: datetime | None,
        token: str | None = None,
    ) -> bool:
        closing = self._closing_update(
            integration_id,
            store_order_id,
            reference,
            BindingStatus.SKIPPED,
            now,
            placed_at,
            token,
            holds=[],
            skip_reason=reason,
        )
        return self._transact_or_false([{"Update": closing}, self._delete_held_marker(integration_id, store_order_id)])

    def held_order_ids(self, integration_id: str, placed_after: datetime) -> list[str]:
        markers = map(_decode, self._query_prefix(integration_id, "HELD#"))
        return [
            str(marker["store_order_id"])
            for marker in markers
            if "store_placed_at" not in marker or datetime.fromisoformat(marker["store_placed_at"]) > placed_after
        ]

    # ---- plumbing ---------------------------------------------------------------------------------

    def _closing_update(
        self,
        integration_id: str,
        store_order_id: str,
        reference: str,
        status: BindingStatus,
        now: datetime,
        placed_at: datetime | None,
        token: str | None,
        *,
        holds: list[dict[str, Any]],
        skip_reason: str | None,
    ) -> dict[str, Any]:
        """An update that records a final non-sent outcome, unless the order is sent or claimed by someone else."""
        ex = _Expression()
        update = ex.set(
            {
                "status": status.value,
                "reference": reference,
                "integration_id": integration_id,
                "store_order_id": store_order_id,
                "holds": holds,
                "skip_reason": skip_reason or "",
                "updated_at": now.isoformat(),
            },
            keep={
                "first_seen_at": now.isoformat(),
                "store_placed_at": placed_at.isoformat() if placed_at else "",
                "attempts": 0,
            },
            remove=_CLAIM_FIELDS,
        )
        allowed = ["attribute_not_exists(pk)", ex.reopenable(), ex.claim_expired(now)]
        if token:
            allowed.append(ex.claimed_by(token))
        return {
            "TableName": self._table,
            "Key": _key(integration_id, f"ORDER#{store_order_id}"),
            "UpdateExpression": update,
            "ConditionExpression": " OR ".join(allowed),
            "ExpressionAttributeNames": ex.names,
            "ExpressionAttributeValues": ex.values,
        }

    def _delete_held_marker(self, integration_id: str, store_order_id: str) -> dict[str, Any]:
        return {"Delete": {"TableName": self._table, "Key": _key(integration_id, f"HELD#{store_order_id}")}}

    def _transact(self, items: list[dict[str, Any]], *, conflict: str) -> None:
        try:
            self._db.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
        except ClientError as exc:
            if _is_condition_failure(exc):
                raise ConcurrencyConflictError(conflict) from exc
            raise

    def _transact_or_false(self, items: list[dict[str, Any]]) -> bool:
        try:
            self._transact(items, conflict="")
        except ConcurrencyConflictError:
            return False
        return True

    def _get(self, integration_id: str, sk: str) -> Item | None:
        answer = self._db.get_item(TableName=self._table, Key=_key(integration_id, sk), ConsistentRead=True)
        return answer.get("Item")

    def _batch_get(self, keys: list[Item]) -> list[Item]:
        found: list[Item] = []
        request: dict[str, Any] = {self._table: {"Keys": keys, "ConsistentRead": True}}
        while request:
            answer = self._db.batch_get_item(RequestItems=request)
            found.extend(answer.get("Responses", {}).get(self._table, []))
            request = dict(answer.get("UnprocessedKeys") or {})
        return found

    def _query_prefix(self, integration_id: str, prefix: str) -> list[Item]:
        items: list[Item] = []
        paginator = self._db.get_paginator("query")
        for page in paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": {"S": _pk(integration_id)}, ":prefix": {"S": prefix}},
            ConsistentRead=True,
        ):
            items.extend(page.get("Items", []))
        return items

    @staticmethod
    def _payload(item: Mapping[str, Any]) -> dict[str, Any]:
        """The model's fields of an item: keys and helper attributes removed."""
        values = _decode(item)
        for name in ("pk", "sk", "gsi1pk", "gsi1sk", "claim_expires_epoch"):
            values.pop(name, None)
        return {name: value for name, value in values.items() if value != ""}
