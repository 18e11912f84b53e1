"""An integration's configuration on the state table: the CONFIG item and its shipping mappings (SHIP#), written
by the operator API. Every write is conditional, so a concurrent delete is never undone by a late update."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ogosync.errors import ConcurrencyConflictError, UnknownIntegrationError
from ogosync.models import Integration
from ogosync.state.table import Expression, Item, Table, encode, epoch, is_condition_failure, key, model_values

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

CONFIG = "CONFIG"
ORDER_PREFIX = "ORDER#"
SHIPPING_PREFIX = "SHIP#"


def integration_item(integration: Integration) -> Item:
    """The CONFIG item, indexed on gsi1 so that every integration can be listed."""
    values = model_values(integration) | {"gsi1pk": "INTEGRATION", "gsi1sk": integration.id}
    return key(integration.id, CONFIG) | encode(values)


def changed_paths(before: Integration, after: Integration) -> dict[tuple[str, ...], Any]:
    """Attribute paths whose value differs, settings field by field; a value of None means remove."""
    old, new = before.model_dump(mode="json"), after.model_dump(mode="json")
    changes: dict[tuple[str, ...], Any] = {}
    for name, value in new.items():
        if name == "settings":
            changes |= {("settings", field): v for field, v in value.items() if old["settings"].get(field) != v}
        elif old.get(name) != value:
            changes[(name,)] = value
    return changes


class DynamoIntegrationConfig:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._table = Table(client, table_name)
        self._db = client
        self._name = table_name

    def create_integration(self, integration: Integration) -> None:
        try:
            self._db.put_item(
                TableName=self._name, Item=integration_item(integration), ConditionExpression="attribute_not_exists(pk)"
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                raise ConcurrencyConflictError(f"integration {integration.id!r} exists already") from exc
            raise

    def update_integration(self, before: Integration, after: Integration) -> None:
        changes = changed_paths(before, after)
        if not changes:
            return
        ex = Expression()
        sets, removes = [], []
        for path, value in changes.items():
            attribute = ".".join(ex.name(part) for part in path)
            if value is None:
                removes.append(attribute)
            else:
                sets.append(f"{attribute} = {ex.value(value)}")
        clauses = [f"SET {', '.join(sets)}"] if sets else []
        clauses += [f"REMOVE {', '.join(removes)}"] if removes else []
        request: dict[str, Any] = {
            "TableName": self._name,
            "Key": key(after.id, CONFIG),
            "UpdateExpression": " ".join(clauses),
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeNames": ex.names,
        }
        if ex.values:  # DynamoDB refuses an empty ExpressionAttributeValues (a change that only removes)
            request["ExpressionAttributeValues"] = ex.values
        try:
            self._db.update_item(**request)
        except ClientError as exc:
            if is_condition_failure(exc):
                raise UnknownIntegrationError(after.id) from exc
            raise

    def delete_integration(self, integration_id: str, keep_orders_until: datetime) -> int:
        items = self._table.query_prefix(integration_id, "")
        orders = [item for item in items if item["sk"]["S"].startswith(ORDER_PREFIX)]
        removed = [item for item in items if not item["sk"]["S"].startswith(ORDER_PREFIX) and item["sk"]["S"] != CONFIG]
        for order in orders:
            self._db.update_item(
                TableName=self._name,
                Key={"pk": order["pk"], "sk": order["sk"]},
                UpdateExpression="SET expires_at = :until",
                ExpressionAttributeValues={":until": {"N": str(epoch(keep_orders_until))}},
            )
        self._table.batch_delete([{"pk": item["pk"], "sk": item["sk"]} for item in removed])
        # The CONFIG item goes last: until then, a delete that failed half-way can be run again.
        self._db.delete_item(TableName=self._name, Key=key(integration_id, CONFIG))
        return len(removed) + 1

    def delete_shipping_mapping(self, integration_id: str, store_method: str) -> bool:
        answer = self._db.delete_item(
            TableName=self._name, Key=key(integration_id, f"{SHIPPING_PREFIX}{store_method}"), ReturnValues="ALL_OLD"
        )
        return "Attributes" in answer
