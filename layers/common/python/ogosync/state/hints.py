"""Per-minute counts of the orders each integration's webhooks put in the order queue (the fair share of
ogosync.sync.webhooks): one item per integration and minute, HINTS#<minute>, counted with an atomic ADD, so that
every webhook container counts the same minute; DynamoDB's TTL removes it an hour later (layout: docs/contracts.md).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ogosync.state.table import epoch, key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

HINTS_PREFIX = "HINTS#"
KEPT_FOR = timedelta(hours=1)


class DynamoHintCounter:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._db = client
        self._name = table_name

    def add_hints(self, integration_id: str, minute: datetime, count: int) -> int:
        answer = self._db.update_item(
            TableName=self._name,
            Key=key(integration_id, f"{HINTS_PREFIX}{minute.isoformat()}"),
            UpdateExpression="ADD #count :n SET expires_at = :expires",
            ExpressionAttributeNames={"#count": "count"},
            ExpressionAttributeValues={":n": {"N": str(count)}, ":expires": {"N": str(epoch(minute + KEPT_FOR))}},
            ReturnValues="UPDATED_NEW",
        )
        return int(answer["Attributes"]["count"]["N"]) - count
