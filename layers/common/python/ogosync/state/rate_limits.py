"""Shared rate buckets on the state table (ogosync.ratelimit.TokenBuckets): one item per bucket key.

Item `pk = LIMIT#<key>`, `sk = BUCKET` with `tokens` and `updated` (numbers, 6 decimals), `version` and `expires_at`
(TTL: a day after the last write; a bucket deleted by TTL reads as absent, which is a full bucket, as it would be
after any quiet spell longer than burst / rate). A write is one UpdateItem conditional on the version read (or on
no item); a lost race returns the stored item in the same call (ReturnValuesOnConditionCheckFailure), so a write
costs 1 write unit whether it wins or not, and a container reads a bucket (1 read unit) only at its first lease.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ogosync.ratelimit import BucketChangedError, BucketState

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from ogosync.state.table import Item

BUCKET_SK = "BUCKET"
IDLE_TTL_SECONDS = 24 * 3600
# Every attribute name as a placeholder (DynamoDB reserves many plain words).
_NAMES = {"#tokens": "tokens", "#updated": "updated", "#version": "version", "#expires": "expires_at"}


def bucket_key(key: str) -> Item:
    return {"pk": {"S": f"LIMIT#{key}"}, "sk": {"S": BUCKET_SK}}


def _number(value: float | int) -> dict[str, str]:
    return {"N": str(Decimal(str(value)))}


def _state(item: dict[str, Any] | None) -> BucketState | None:
    if not item:
        return None
    return BucketState(
        tokens=float(item["tokens"]["N"]), updated=float(item["updated"]["N"]), version=int(item["version"]["N"])
    )


class DynamoTokenBuckets:
    """TokenBuckets on the state table."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def read(self, key: str) -> BucketState | None:
        answer = self._client.get_item(TableName=self._table, Key=bucket_key(key), ConsistentRead=True)
        return _state(answer.get("Item"))

    def replace(self, key: str, expected: BucketState | None, new: BucketState) -> None:
        values = {
            ":tokens": _number(new.tokens),
            ":updated": _number(new.updated),
            ":version": _number(new.version),
            ":expires": _number(int(new.updated) + IDLE_TTL_SECONDS),
        }
        if expected is None:
            condition = "attribute_not_exists(pk)"
        else:
            condition = "#version = :expected"
            values[":expected"] = _number(expected.version)
        try:
            self._client.update_item(
                TableName=self._table,
                Key=bucket_key(key),
                UpdateExpression="SET #tokens = :tokens, #updated = :updated, #version = :version, #expires = :expires",
                ConditionExpression=condition,
                ExpressionAttributeNames=_NAMES,
                ExpressionAttributeValues=values,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            raise BucketChangedError(key, _state(exc.response.get("Item"))) from exc  # type: ignore[arg-type]
