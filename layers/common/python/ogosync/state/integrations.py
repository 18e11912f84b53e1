"""An integration's configuration on the state table: the CONFIG item, its shipping mappings (SHIP#) and its claims
on myOGO reference prefixes, written by the operator API. Every write is conditional, so a concurrent delete is never
undone by a late update.

A reference prefix claim (MYOGOREF#<myOGO merchant id> / PREFIX#<prefix, case-folded>) names the one integration that
sends orders to that myOGO merchant under that prefix: two integrations sharing a pair would share references
(design invariant 8). The integration keeps a copy of each of its claims in its own partition (REFCLAIM#...), so
that its delete finds and releases them. Uncertain: whether myOGO compares references case-sensitively; claims
compare prefixes case-insensitively, the stricter reading."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ogosync.errors import ConcurrencyConflictError, ReferencePrefixTakenError, UnknownIntegrationError
from ogosync.models import Integration
from ogosync.state.table import (
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

CONFIG = "CONFIG"
ORDER_PREFIX = "ORDER#"
SHIPPING_PREFIX = "SHIP#"
REFERENCE_CLAIM_PREFIX = "REFCLAIM#"  # the integration's copy of a reference prefix claim


def reference_claim_key(merchant_id: str, prefix: str) -> Item:
    return {"pk": {"S": f"MYOGOREF#{merchant_id}"}, "sk": {"S": f"PREFIX#{prefix.casefold()}"}}


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

    def claim_reference_prefixes(self, integration_id: str, merchant_id: str, prefixes: Sequence[str]) -> None:
        folded = list(dict.fromkeys(prefix.casefold() for prefix in prefixes))
        items: list[dict[str, Any]] = []
        for prefix in folded:
            values = {"integration_id": integration_id, "merchant_id": merchant_id, "prefix": prefix}
            claim = {
                "TableName": self._name,
                "Item": reference_claim_key(merchant_id, prefix) | encode(values),
                "ConditionExpression": "attribute_not_exists(pk) OR #owner = :me",
                "ExpressionAttributeNames": {"#owner": "integration_id"},
                "ExpressionAttributeValues": {":me": {"S": integration_id}},
            }
            copy = key(integration_id, f"{REFERENCE_CLAIM_PREFIX}{merchant_id}#{prefix}") | encode(values)
            items += [{"Put": claim}, {"Put": {"TableName": self._name, "Item": copy}}]
        try:
            self._table.transact(items, conflict=f"the reference prefixes of myOGO merchant {merchant_id!r} changed")
        except ConcurrencyConflictError as exc:
            raise self._taken(integration_id, merchant_id, folded) or exc from None

    def _taken(
        self, integration_id: str, merchant_id: str, prefixes: Sequence[str]
    ) -> ReferencePrefixTakenError | None:
        for prefix in prefixes:
            item = self._table.client.get_item(
                TableName=self._name, Key=reference_claim_key(merchant_id, prefix), ConsistentRead=True
            ).get("Item")
            owner = str(decode(item).get("integration_id", "")) if item else ""
            if owner and owner != integration_id:
                return ReferencePrefixTakenError(merchant_id, prefix, owner)
        return None  # a concurrent transaction, not a claim of another integration: the caller may try again

    def _release_reference_claims(self, integration_id: str, items: Sequence[Item]) -> None:
        for claim in (decode(item) for item in items if item["sk"]["S"].startswith(REFERENCE_CLAIM_PREFIX)):
            try:
                self._db.delete_item(
                    TableName=self._name,
                    Key=reference_claim_key(str(claim["merchant_id"]), str(claim["prefix"])),
                    ConditionExpression="#owner = :me",
                    ExpressionAttributeNames={"#owner": "integration_id"},
                    ExpressionAttributeValues={":me": {"S": integration_id}},
                )
            except ClientError as exc:
                if not is_condition_failure(exc):  # gone already, or never ours: nothing to release
                    raise

    def delete_integration(self, integration_id: str, keep_orders_until: datetime) -> int:
        items = self._table.query_prefix(integration_id, "")
        self._release_reference_claims(integration_id, items)
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
