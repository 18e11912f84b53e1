"""The console's signed-in sessions on the state table (item CONSOLESESSION#<hash of the session id> / SESSION), so
that signing out ends a session for good: a cookie copied before the sign-out opens nothing after it. The item holds
no secret: the hash of the session's random id (the cookie, signed with the console's key, carries the id), the user
name and when the session ends; DynamoDB's TTL (expires_at) removes it after that."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from ogosync.state.table import Item, decode, encode, epoch

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PREFIX = "CONSOLESESSION#"
SORT_KEY = "SESSION"


def session_key(session_hash: str) -> Item:
    return {"pk": {"S": f"{PREFIX}{session_hash}"}, "sk": {"S": SORT_KEY}}


class DynamoConsoleSessions:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._name = table_name

    def start_session(self, session_hash: str, username: str, expires: datetime) -> None:
        values = {"username": username, "expires": expires.isoformat(), "expires_at": epoch(expires)}
        self._client.put_item(TableName=self._name, Item=session_key(session_hash) | encode(values))

    def session_active(self, session_hash: str, now: datetime) -> bool:
        answer = self._client.get_item(TableName=self._name, Key=session_key(session_hash), ConsistentRead=True)
        item = answer.get("Item")
        if item is None:
            return False
        values = decode(item)
        return "ended" not in values and datetime.fromisoformat(str(values["expires"])) > now

    def end_session(self, session_hash: str, now: datetime) -> None:
        """Ended for good (an update, not a delete: the console's role deletes nothing); a session unknown stays so."""
        try:
            self._client.update_item(
                TableName=self._name,
                Key=session_key(session_hash),
                UpdateExpression="SET ended = :now",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":now": {"S": now.isoformat()}},
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return
