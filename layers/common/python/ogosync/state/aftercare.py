"""Aftercare state: what happens to an order in the store after ogosync sent it (layout in docs/contracts.md).

- OPEN#<store order id>: a sent order myOGO has not shipped; written with the SENT record (one transaction), dropped
  once its aftercare is over (shipped, fulfilled, cancelled in myOGO, or handed to a person).
- ATTENTION#<store order id>: an order a person must look at, with the reason.
- WAITSTORE#<store order id>: a shipment the store cannot take yet; the tracking poll retries it.
- AFTERCARE: the rotating cursor over OPEN# (the last store order id looked at).
The aftercare claim lives on the order binding (aftercare_* attributes): a cancel or update in myOGO is made only
while its claim is held, like the order's own claim before its POST.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ogosync.errors import ConcurrencyConflictError
from ogosync.models import (
    AftercareStatus,
    AttentionOrder,
    BindingStatus,
    OpenOrder,
    OrderBinding,
    WaitingShipment,
    WarehouseOrderState,
)
from ogosync.state.table import (
    ClaimAttributes,
    Expression,
    Item,
    Table,
    decode,
    encode,
    epoch,
    key,
    pk,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

AFTERCARE_CLAIM = ClaimAttributes(
    None, None, "aftercare_claim_token", "aftercare_claim_expires", "aftercare_claim_expires_epoch"
)
_CLAIM_FIELDS = AFTERCARE_CLAIM.fields
OPEN = "OPEN#"
ATTENTION = "ATTENTION#"
WAITING = "WAITSTORE#"


def open_order_item(integration_id: str, store_order_id: str, state: WarehouseOrderState) -> Item:
    """The OPEN# marker written with an order's SENT record."""
    values = {"integration_id": integration_id, "store_order_id": store_order_id, "reference": state.reference}
    return key(integration_id, f"{OPEN}{store_order_id}") | encode(values)


class _AftercareExpression(Expression):
    def claimable(self, now: datetime) -> str:
        sent = f"{self.name('status')} = {self.value(BindingStatus.SENT.value)}"
        expires = self.name("aftercare_claim_expires_epoch")
        return f"{sent} AND (attribute_not_exists({expires}) OR {expires} < {self.value(epoch(now))})"

    def claimed_by(self, token: str) -> str:
        return f"{self.name('aftercare_claim_token')} = {self.value(token)}"


class DynamoAftercareRepository:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._table = Table(client, table_name)

    # ---- open orders ----------------------------------------------------------------------------

    def open_orders(self, integration_id: str, after: str | None, limit: int) -> list[OpenOrder]:
        values: Item = {":pk": {"S": pk(integration_id)}, ":prefix": {"S": OPEN}}
        condition = "pk = :pk AND begins_with(sk, :prefix)"
        start: dict[str, Any] = {}
        if after is not None:
            start = {"ExclusiveStartKey": key(integration_id, f"{OPEN}{after}")}
        answer = self._table.client.query(
            TableName=self._table.name,
            KeyConditionExpression=condition,
            ExpressionAttributeValues=values,
            ConsistentRead=True,
            Limit=limit,
            **start,
        )
        return [OpenOrder.model_validate(Table.payload(item)) for item in answer.get("Items", [])]

    def close_open_order(self, integration_id: str, store_order_id: str) -> None:
        self._table.client.delete_item(TableName=self._table.name, Key=key(integration_id, f"{OPEN}{store_order_id}"))

    def aftercare_cursor(self, integration_id: str) -> str | None:
        item = self._table.get(integration_id, "AFTERCARE")
        after = decode(item).get("after") if item else None
        return str(after) if after else None

    def save_aftercare_cursor(self, integration_id: str, after: str | None) -> None:
        # Written only under the order poll's lock, so no condition is needed.
        self._table.client.put_item(
            TableName=self._table.name, Item=key(integration_id, "AFTERCARE") | encode({"after": after or ""})
        )

    # ---- the aftercare claim ----------------------------------------------------------------------

    def claim_aftercare(
        self, integration_id: str, store_order_id: str, token: str, now: datetime, lease_seconds: int
    ) -> OrderBinding:
        expires = now + timedelta(seconds=lease_seconds)
        ex = _AftercareExpression()
        update = ex.set(
            {
                "aftercare_claim_token": token,
                "aftercare_claim_expires": expires.isoformat(),
                "aftercare_claim_expires_epoch": epoch(expires),
            }
        )
        condition = f"attribute_exists({ex.name('pk')}) AND {ex.claimable(now)}"
        old = self._update(integration_id, store_order_id, ex, update, condition)
        return OrderBinding.model_validate(Table.payload(old))

    def renew_aftercare(
        self, integration_id: str, store_order_id: str, token: str, now: datetime, lease_seconds: int
    ) -> None:
        item_key = key(integration_id, f"ORDER#{store_order_id}")
        if not self._table.renew_claim(item_key, AFTERCARE_CLAIM, token, now, lease_seconds):
            raise ConcurrencyConflictError(f"order {store_order_id}: the aftercare claim was taken over")

    def finish_aftercare(
        self,
        integration_id: str,
        store_order_id: str,
        token: str,
        status: AftercareStatus,
        detail: str,
        now: datetime,
        *,
        close: bool,
        sent_hash: str | None = None,
    ) -> None:
        ex = _AftercareExpression()
        values = {"aftercare_status": status.value, "aftercare_detail": detail[:1000], "aftercare_at": now.isoformat()}
        if sent_hash is not None:
            values["sent_hash"] = sent_hash
        items: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self._table.name,
                    "Key": key(integration_id, f"ORDER#{store_order_id}"),
                    "UpdateExpression": ex.set(values, remove=_CLAIM_FIELDS),
                    "ConditionExpression": ex.claimed_by(token),
                    "ExpressionAttributeNames": ex.names,
                    "ExpressionAttributeValues": ex.values,
                }
            }
        ]
        if status is AftercareStatus.NEEDS_PERSON:
            attention = {"store_order_id": store_order_id, "reason": "aftercare", "detail": detail[:1000]}
            item = key(integration_id, f"{ATTENTION}{store_order_id}") | encode(
                attention | {"integration_id": integration_id, "since": now.isoformat()}
            )
            items.append({"Put": {"TableName": self._table.name, "Item": item}})
        if close:
            open_key = key(integration_id, f"{OPEN}{store_order_id}")
            items.append({"Delete": {"TableName": self._table.name, "Key": open_key}})
        self._table.transact(items, conflict=f"order {store_order_id}: the aftercare claim was taken over")

    def attention_orders(self, integration_id: str) -> list[AttentionOrder]:
        items = self._table.query_prefix(integration_id, ATTENTION)
        return [AttentionOrder.model_validate(Table.payload(item)) for item in items]

    # ---- shipments waiting for the store ----------------------------------------------------------

    def mark_waiting(self, integration_id: str, store_order_id: str, reference: str, now: datetime) -> None:
        ex = Expression()
        update = ex.set(
            {"integration_id": integration_id, "store_order_id": store_order_id, "reference": reference},
            keep={"since": now.isoformat()},
        )
        self._table.client.update_item(
            TableName=self._table.name,
            Key=key(integration_id, f"{WAITING}{store_order_id}"),
            UpdateExpression=update,
            ExpressionAttributeNames=ex.names,
            ExpressionAttributeValues=ex.values,
        )

    def waiting_shipments(self, integration_id: str) -> list[WaitingShipment]:
        items = self._table.query_prefix(integration_id, WAITING)
        waiting = [WaitingShipment.model_validate(Table.payload(item)) for item in items]
        return sorted(waiting, key=lambda shipment: (shipment.since, shipment.store_order_id))

    def clear_waiting(self, integration_id: str, store_order_id: str) -> None:
        self._table.client.delete_item(
            TableName=self._table.name, Key=key(integration_id, f"{WAITING}{store_order_id}")
        )

    def _update(
        self, integration_id: str, store_order_id: str, ex: Expression, update: str, condition: str
    ) -> dict[str, Any]:
        taken = f"order {store_order_id}: not sent, or another worker acts on it"
        return self._table.update_if(
            key(integration_id, f"ORDER#{store_order_id}"), ex, update, condition, conflict=taken
        )
