"""Shared rate buckets on the state table (ogosync.ratelimit.TokenBuckets): one item per bucket key.

Item `pk = LIMIT#<key>`, `sk = BUCKET` with `full_at` (the time the bucket is full again, epoch seconds to the
microsecond) and `expires_at` (TTL: a day after the last write; a bucket deleted by TTL reads as absent, which is a
full bucket, as it is after any quiet spell longer than burst / rate). Taking tokens from a bucket that is not full
is one UpdateItem adding to `full_at` (atomic, conditional only on the queue's length); from a full one, one
UpdateItem setting it, conditional on its still being full. A failed condition returns the stored item in the same
call (ReturnValuesOnConditionCheckFailure), so every write costs 1 write unit whether or not it succeeds, and a
container reads a bucket (1 read unit) only at its first lease.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ogosync.ratelimit import BucketChangedError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from ogosync.state.table import Item

BUCKET_SK = "BUCKET"
IDLE_TTL_SECONDS = 24 * 3600
# Every attribute name as a placeholder (DynamoDB reserves many plain words).
_NAMES = {"#full_at": "full_at", "#expires": "expires_at"}


def bucket_key(key: str) -> Item:
    return {"pk": {"S": f"LIMIT#{key}"}, "sk": {"S": BUCKET_SK}}


def _number(value: float) -> dict[str, str]:
    return {"N": str(Decimal(str(value)))}


def _full_at(item: dict[str, Any] | None) -> float | None:
    return float(item["full_at"]["N"]) if item else None


class DynamoTokenBuckets:
    """TokenBuckets on the state table."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def read(self, key: str) -> float | None:
        answer = self._client.get_item(TableName=self._table, Key=bucket_key(key), ConsistentRead=True)
        return _full_at(answer.get("Item"))

    def restart(self, key: str, now: float, full_at: float) -> None:
        self._update(
            key,
            "SET #full_at = :full_at, #expires = :expires",
            "attribute_not_exists(pk) OR #full_at <= :now",
            {":full_at": _number(full_at), ":now": _number(now), ":expires": _expires(now)},
        )

    def extend(self, key: str, now: float, seconds: float, latest: float) -> float:
        answer = self._update(
            key,
            "SET #full_at = #full_at + :seconds, #expires = :expires",
            "#full_at > :now AND #full_at <= :latest",
            {":seconds": _number(seconds), ":now": _number(now), ":latest": _number(latest), ":expires": _expires(now)},
        )
        return float(answer["Attributes"]["full_at"]["N"])

    def _update(self, key: str, update: str, condition: str, values: dict[str, dict[str, str]]) -> Any:
        try:
            return self._client.update_item(
                TableName=self._table,
                Key=bucket_key(key),
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeNames=_NAMES,
                ExpressionAttributeValues=values,
                ReturnValues="UPDATED_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            raise BucketChangedError(key, _full_at(exc.response.get("Item"))) from exc  # type: ignore[arg-type]


def _expires(now: float) -> dict[str, str]:
    return {"N": str(int(now) + IDLE_TTL_SECONDS)}
