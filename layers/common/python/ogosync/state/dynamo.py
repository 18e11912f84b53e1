"""The state repository on one DynamoDB table (layout in docs/contracts.md).

Every write that decides who does what is conditional: claims, cursors and locks are compare-and-set, so two
Lambda invocations racing on the same order or flow cannot both win.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ogosync.errors import ConcurrencyConflictError
from ogosync.models import (
    BindingStatus,
    Cursor,
    Flow,
    Hold,
    Integration,
    IntegrationSchedule,
    IntegrationSettings,
    IntegrationStatus,
    OrderBinding,
    WarehouseOrderState,
)
from ogosync.state.aftercare import open_order_item
from ogosync.state.integrations import integration_item
from ogosync.state.table import (
    ClaimAttributes,
    Expression,
    Item,
    Table,
    decode,
    encode,
    epoch,
    is_condition_failure,
    key,
    model_values,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SCHEDULE_SETTINGS = {  # each flow's interval setting, as ogosync.sync.schedule.interval_minutes reads it
    Flow.ORDERS: "order_poll_minutes",
    Flow.PRODUCTS: "product_sync_minutes",
    Flow.STOCK: "stock_sync_minutes",
    Flow.TRACKING: "tracking_poll_minutes",
}
IDLE_SETTING = "idle_order_poll_minutes"


def _schedule(item: Item) -> IntegrationSchedule:
    """A missing interval (an item written before that setting existed) is the setting's default."""
    settings = item.get("settings", {}).get("M", {})

    def interval(field: str) -> int:
        stored = settings.get(field, {}).get("N")
        return int(stored) if stored is not None else int(IntegrationSettings.model_fields[field].default)

    return IntegrationSchedule(
        item["id"]["S"],
        item.get("status", {}).get("S", IntegrationStatus.ACTIVE.value) == IntegrationStatus.ACTIVE.value,
        {flow: interval(field) for flow, field in SCHEDULE_SETTINGS.items()},
        interval(IDLE_SETTING),
    )


ORDER_CLAIM = ClaimAttributes(
    "status", BindingStatus.CLAIMED.value, "claim_token", "claim_expires", "claim_expires_epoch"
)
_CLAIM_FIELDS = ORDER_CLAIM.fields


class _OrderExpression(Expression):
    """Conditions on order bindings."""

    def reopenable(self) -> str:
        """The order is held, skipped or failed: free to claim or to record again."""
        statuses = [
            self.value(status.value) for status in (BindingStatus.HELD, BindingStatus.SKIPPED, BindingStatus.FAILED)
        ]
        return f"{self.name('status')} IN ({', '.join(statuses)})"

    def claim_expired(self, now: datetime) -> str:
        claimed = self.value(BindingStatus.CLAIMED.value)
        return f"({self.name('status')} = {claimed} AND {self.name('claim_expires_epoch')} < {self.value(epoch(now))})"

    def claimed_by(self, token: str) -> str:
        return f"{self.name('claim_token')} = {self.value(token)}"


class DynamoStateRepository:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._table = Table(client, table_name)
        self._db = client
        self._name = table_name

    # ---- integrations -----------------------------------------------------------------------------

    def get_integration(self, integration_id: str) -> Integration | None:
        item = self._table.get(integration_id, "CONFIG")
        return Integration.model_validate(self._table.payload(item)) if item else None

    def list_integrations(self) -> list[Integration]:
        integrations: list[Integration] = []
        paginator = self._db.get_paginator("query")
        for page in paginator.paginate(
            TableName=self._name,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :kind",
            ExpressionAttributeValues={":kind": {"S": "INTEGRATION"}},
        ):
            integrations.extend(Integration.model_validate(self._table.payload(item)) for item in page.get("Items", []))
        return integrations

    def integration_schedules(self, segment: int, segments: int) -> list[IntegrationSchedule]:
        """One segment of a parallel Scan of gsi1, projected on what the scheduler needs, read without building the
        integration's model (docs/contracts.md, "gsi1"). The index also holds the notices still to send
        (state/notices.py): the filter keeps the integrations. DynamoDB bills the items' whole size however little
        is projected; what the projection saves is transfer and parsing."""
        ex = Expression()
        integrations = f"{ex.name('gsi1pk')} = {ex.value('INTEGRATION')}"
        settings = ex.name("settings")
        projection = [ex.name("id"), ex.name("status")]
        projection += [f"{settings}.{ex.name(field)}" for field in [*SCHEDULE_SETTINGS.values(), IDLE_SETTING]]
        schedules: list[IntegrationSchedule] = []
        paginator = self._db.get_paginator("scan")
        for page in paginator.paginate(
            TableName=self._name,
            IndexName="gsi1",
            Segment=segment,
            TotalSegments=segments,
            ProjectionExpression=", ".join(projection),
            FilterExpression=integrations,
            ExpressionAttributeNames=ex.names,
            ExpressionAttributeValues=ex.values,
        ):
            schedules.extend(_schedule(item) for item in page.get("Items", []))
        return schedules

    def put_integration(self, integration: Integration) -> None:
        self._db.put_item(TableName=self._name, Item=integration_item(integration))

    # ---- cursors and locks --------------------------------------------------------------------------

    def get_cursor(self, integration_id: str, flow: Flow) -> Cursor:
        item = self._table.get(integration_id, f"CURSOR#{flow}")
        if item is None:
            return Cursor(integration_id=integration_id, flow=flow)
        return Cursor.model_validate(self._table.payload(item))

    def get_cursors(self, keys: Sequence[tuple[str, Flow]], *, consistent: bool = True) -> list[Cursor]:
        unique = list(dict.fromkeys(keys))  # BatchGetItem refuses a request that names a key twice
        cursor_keys = [key(integration_id, f"CURSOR#{flow}") for integration_id, flow in unique]
        items = self._table.batch_get(cursor_keys, consistent=consistent)
        cursors = (Cursor.model_validate(self._table.payload(item)) for item in items)
        found = {(cursor.integration_id, cursor.flow): cursor for cursor in cursors}
        return [found.get(pair) or Cursor(integration_id=pair[0], flow=pair[1]) for pair in keys]

    def save_cursor(self, cursor: Cursor) -> Cursor:
        saved = cursor.model_copy(update={"version": cursor.version + 1})
        try:
            self._db.put_item(
                TableName=self._name,
                Item=key(cursor.integration_id, f"CURSOR#{cursor.flow}") | encode(model_values(saved)),
                ConditionExpression="attribute_not_exists(pk) OR version = :expected",
                ExpressionAttributeValues={":expected": {"N": str(cursor.version)}},
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                moved = f"cursor {cursor.flow} of {cursor.integration_id} moved meanwhile"
                raise ConcurrencyConflictError(moved) from exc
            raise
        return saved

    def acquire_lock(self, integration_id: str, flow: Flow, owner: str, now: datetime, ttl_seconds: int) -> bool:
        # The owner may take its own lock again (and extend it): the operator API takes the product lock for a
        # queued "Create product", and the worker that runs it takes it over.
        item = key(integration_id, f"LOCK#{flow}") | encode({"owner": owner, "expires_at": epoch(now) + ttl_seconds})
        return self._put_unless_live(item, now, owner)

    def first_delivery(self, integration_id: str, delivery_id: str, now: datetime, keep_seconds: int) -> bool:
        """Record a store webhook's delivery id until now + keep_seconds; False when it is recorded already (a
        redelivery). The item expires by TTL."""
        item = key(integration_id, f"DELIVERY#{delivery_id}") | encode({"expires_at": epoch(now) + keep_seconds})
        return self._put_unless_live(item, now, None)

    def forget_delivery(self, integration_id: str, delivery_id: str) -> None:
        self._db.delete_item(TableName=self._name, Key=key(integration_id, f"DELIVERY#{delivery_id}"))

    def _put_unless_live(self, item: Item, now: datetime, owner: str | None) -> bool:
        """Write the item unless one with its key lives (its expires_at not passed) for someone other than `owner`."""
        live = Expression()
        condition = f"attribute_not_exists(pk) OR expires_at < {live.value(epoch(now))}"
        if owner is not None:
            condition += f" OR {live.name('owner')} = {live.value(owner)}"
        request: dict[str, Any] = {"ExpressionAttributeNames": live.names} if live.names else {}
        try:
            self._db.put_item(
                TableName=self._name,
                Item=item,
                ConditionExpression=condition,
                ExpressionAttributeValues=live.values,
                **request,
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True

    def release_lock(self, integration_id: str, flow: Flow, owner: str) -> None:
        try:
            self._db.delete_item(
                TableName=self._name,
                Key=key(integration_id, f"LOCK#{flow}"),
                ConditionExpression="#owner = :owner",
                ExpressionAttributeNames={"#owner": "owner"},
                ExpressionAttributeValues={":owner": {"S": owner}},
            )
        except ClientError as exc:
            if not is_condition_failure(exc):  # someone else's lock now (ours expired): leave it
                raise

    # ---- shipping methods -------------------------------------------------------------------------

    def shipping_map(self, integration_id: str) -> dict[str, str]:
        items = self._table.query_prefix(integration_id, "SHIP#")
        return {str(item["store_method"]): str(item["myogo_code"]) for item in map(decode, items)}

    def put_shipping_mapping(self, integration_id: str, store_method: str, myogo_code: str) -> None:
        values = {"store_method": store_method, "myogo_code": myogo_code}
        self._db.put_item(TableName=self._name, Item=key(integration_id, f"SHIP#{store_method}") | encode(values))

    # ---- order bindings ---------------------------------------------------------------------------

    def get_order_binding(self, integration_id: str, store_order_id: str) -> OrderBinding | None:
        item = self._table.get(integration_id, f"ORDER#{store_order_id}")
        return _binding(item) if item else None

    def get_order_bindings(self, integration_id: str, store_order_ids: Sequence[str]) -> dict[str, OrderBinding]:
        keys = [key(integration_id, f"ORDER#{order_id}") for order_id in dict.fromkeys(store_order_ids)]
        bindings = (_binding(item) for item in self._table.batch_get(keys))
        return {binding.store_order_id: binding for binding in bindings}

    def claim_order(
        self, integration_id: str, store_order_id: str, reference: str, token: str, now: datetime, lease_seconds: int
    ) -> OrderBinding | None:
        expires = now + timedelta(seconds=lease_seconds)
        ex = _OrderExpression()
        update = ex.set(
            {
                "status": BindingStatus.CLAIMED.value,
                "claim_token": token,
                "claim_expires": expires.isoformat(),
                "claim_expires_epoch": epoch(expires),
                "integration_id": integration_id,
                "store_order_id": store_order_id,
                "updated_at": now.isoformat(),
            },
            keep={"first_seen_at": now.isoformat(), "reference": reference},  # decided once (design invariant 8)
            increment=("attempts",),
        )
        try:
            answer = self._db.update_item(
                TableName=self._name,
                Key=key(integration_id, f"ORDER#{store_order_id}"),
                UpdateExpression=update,
                ConditionExpression=f"attribute_not_exists(pk) OR {ex.reopenable()} OR {ex.claim_expired(now)}",
                ExpressionAttributeNames=ex.names,
                ExpressionAttributeValues=ex.values,
                ReturnValues="ALL_OLD",
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                taken = f"order {store_order_id} is sent or being sent by another worker"
                raise ConcurrencyConflictError(taken) from exc
            raise
        old = answer.get("Attributes")
        return _binding(old) if old else None

    def renew_order_claim(
        self, integration_id: str, store_order_id: str, token: str, now: datetime, lease_seconds: int
    ) -> bool:
        item_key = key(integration_id, f"ORDER#{store_order_id}")
        return self._table.renew_claim(item_key, ORDER_CLAIM, token, now, lease_seconds)

    def mark_order_sent(
        self,
        integration_id: str,
        store_order_id: str,
        token: str,
        state: WarehouseOrderState,
        now: datetime,
        *,
        was_held: bool,
        sent_hash: str | None = None,
    ) -> None:
        ex = _OrderExpression()
        update = ex.set(
            {
                "status": BindingStatus.SENT.value,
                "myogo_id": state.id or "",
                "myogo_status": state.status,
                "sent_at": now.isoformat(),
                "updated_at": now.isoformat(),
                "holds": [],
                "sent_hash": sent_hash or "",
            },
            remove=(*_CLAIM_FIELDS, "last_error"),
        )
        items: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self._name,
                    "Key": key(integration_id, f"ORDER#{store_order_id}"),
                    "UpdateExpression": update,
                    "ConditionExpression": ex.claimed_by(token),
                    "ExpressionAttributeNames": ex.names,
                    "ExpressionAttributeValues": ex.values,
                }
            }
        ]
        if was_held:
            items.append(self._delete_held_marker(integration_id, store_order_id))
        items.append({"Put": {"TableName": self._name, "Item": open_order_item(integration_id, store_order_id, state)}})
        self._table.transact(items, conflict=f"order {store_order_id}: our claim was taken over before it was recorded")

    def mark_order_failed(
        self, integration_id: str, store_order_id: str, token: str, error: str, now: datetime
    ) -> None:
        ex = _OrderExpression()
        update = ex.set(
            {"status": BindingStatus.FAILED.value, "last_error": error[:1000], "updated_at": now.isoformat()},
            remove=_CLAIM_FIELDS,
        )
        try:
            self._db.update_item(
                TableName=self._name,
                Key=key(integration_id, f"ORDER#{store_order_id}"),
                UpdateExpression=update,
                ConditionExpression=ex.claimed_by(token),
                ExpressionAttributeNames=ex.names,
                ExpressionAttributeValues=ex.values,
            )
        except ClientError as exc:
            if not is_condition_failure(exc):  # no longer ours: whoever has it now decides
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
        units: Mapping[str, int] | None = None,
    ) -> bool:
        marker = key(integration_id, f"HELD#{store_order_id}") | encode(
            {
                "store_order_id": store_order_id,
                "store_placed_at": placed_at.isoformat() if placed_at else None,
                "units": dict(units) if units is not None else None,
            }
        )
        closing = self._closing_update(
            integration_id,
            store_order_id,
            reference,
            BindingStatus.HELD,
            now,
            placed_at,
            token,
            holds=[model_values(hold) for hold in holds],
            skip_reason=None,
        )
        return self._transact_or_false([{"Update": closing}, {"Put": {"TableName": self._name, "Item": marker}}])

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
        return [str(marker["store_order_id"]) for marker in self._held_markers(integration_id, placed_after)]

    def held_in_transit(self, integration_id: str, placed_after: datetime) -> dict[str, dict[str, int] | None]:
        return {
            str(marker["store_order_id"]): (
                {str(sku): int(units) for sku, units in marker["units"].items()} if "units" in marker else None
            )
            for marker in self._held_markers(integration_id, placed_after)
        }

    def _held_markers(self, integration_id: str, placed_after: datetime) -> list[dict[str, Any]]:
        markers = map(decode, self._table.query_prefix(integration_id, "HELD#"))
        return [
            marker
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
        ex = _OrderExpression()
        update = ex.set(
            {
                "status": status.value,
                "integration_id": integration_id,
                "store_order_id": store_order_id,
                "holds": holds,
                "skip_reason": skip_reason or "",
                "updated_at": now.isoformat(),
            },
            keep={
                "reference": reference,  # decided at the first record, never changed (design invariant 8)
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
            "TableName": self._name,
            "Key": key(integration_id, f"ORDER#{store_order_id}"),
            "UpdateExpression": update,
            "ConditionExpression": " OR ".join(allowed),
            "ExpressionAttributeNames": ex.names,
            "ExpressionAttributeValues": ex.values,
        }

    def _delete_held_marker(self, integration_id: str, store_order_id: str) -> dict[str, Any]:
        return {"Delete": {"TableName": self._name, "Key": key(integration_id, f"HELD#{store_order_id}")}}

    def _transact_or_false(self, items: list[dict[str, Any]]) -> bool:
        try:
            self._table.transact(items, conflict="")
        except ConcurrencyConflictError:
            return False
        return True


def _binding(item: Item) -> OrderBinding:
    return OrderBinding.model_validate(Table.payload(item, helpers=("claim_expires_epoch",)))
