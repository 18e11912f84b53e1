"""Notices on the state table: NOTICE#<kind>#<subject> in the integration's partition, and the daily digest's
mark NOTICEDIGEST#<local date> (layout in docs/contracts.md).

A notice is put on condition that its key is absent, so a retried job or a second worker never records an event
twice. While it has something left to send it carries gsi1pk = NOTICE (the sparse index), so the notify function
finds the pending ones across the fleet with one Query; closing it removes those attributes and keeps the item
until its TTL (`RETENTION`, longer than any held order is re-checked), so the same event is not recorded anew.
Each channel's send is claimed with its own conditional attribute `sent_<channel>` (at most once); a release after
a refused send counts a failure and moves the notice behind the others in the index.
Uncertain: the index is eventually consistent, so a notice recorded a moment ago may be missing from `pending`
until the next run; the conditional claims make a stale read harmless.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from ogosync.models import Notice, NoticeChannel
from ogosync.state.table import Item, Table, encode, epoch, is_condition_failure, key, model_values

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PREFIX = "NOTICE#"
DIGEST_PREFIX = "NOTICEDIGEST#"
PENDING = "NOTICE"  # gsi1pk of the notices with something left to send
RETENTION = timedelta(days=120)  # more than IntegrationSettings.held_recheck_days can be (90)
DIGEST_RETENTION = timedelta(days=3)


def notice_sort_key(notice: Notice) -> str:
    return f"{PREFIX}{notice.kind}#{notice.subject}"


def _position(moment: datetime, notice: Notice) -> str:
    """Where the notice stands in the pending index: by when it was recorded, or last refused."""
    return f"{moment.isoformat()}#{notice.notice_id}"


def _sent_attribute(channel: NoticeChannel) -> str:
    return f"sent_{channel}"


class DynamoNotices:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._table = Table(client, table_name)
        self._client = client
        self._name = table_name

    def record(self, notice: Notice) -> bool:
        values = model_values(notice)
        values.pop("sent", None)
        index = {"gsi1pk": PENDING, "gsi1sk": _position(notice.at, notice)}
        item = (
            key(notice.integration_id, notice_sort_key(notice))
            | encode(values | index)
            | encode({"expires_at": epoch(notice.at + RETENTION)})
        )
        return self._put_if_absent(item)

    def pending(self, limit: int) -> list[Notice]:
        notices: list[Notice] = []
        paginator = self._client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._name,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :kind",
            ExpressionAttributeValues={":kind": {"S": PENDING}},
            PaginationConfig={"MaxItems": limit},
        )
        for page in pages:
            notices.extend(_notice(item) for item in page.get("Items", []))
        return notices[:limit]

    def claim_send(self, notice: Notice, channel: NoticeChannel, now: datetime) -> bool:
        try:
            self._client.update_item(
                TableName=self._name,
                Key=key(notice.integration_id, notice_sort_key(notice)),
                UpdateExpression="SET #sent = :now",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(#sent)",
                ExpressionAttributeNames={"#sent": _sent_attribute(channel)},
                ExpressionAttributeValues={":now": {"S": now.isoformat()}},
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True

    def release_send(self, notice: Notice, channel: NoticeChannel, claimed_at: datetime) -> None:
        try:
            self._client.update_item(
                TableName=self._name,
                Key=key(notice.integration_id, notice_sort_key(notice)),
                UpdateExpression="REMOVE #sent SET gsi1pk = :pending, gsi1sk = :behind ADD failures :one",
                ConditionExpression="#sent = :claimed",
                ExpressionAttributeNames={"#sent": _sent_attribute(channel)},
                ExpressionAttributeValues={
                    ":claimed": {"S": claimed_at.isoformat()},
                    ":pending": {"S": PENDING},
                    ":behind": {"S": _position(claimed_at, notice)},
                    ":one": {"N": "1"},
                },
            )
        except ClientError as exc:
            if not is_condition_failure(exc):  # not ours any more: leave it to its owner
                raise

    def close(self, notice: Notice) -> None:
        try:
            self._client.update_item(
                TableName=self._name,
                Key=key(notice.integration_id, notice_sort_key(notice)),
                UpdateExpression="REMOVE gsi1pk, gsi1sk",
                ConditionExpression="attribute_exists(pk)",
            )
        except ClientError as exc:
            if not is_condition_failure(exc):  # gone with its integration: nothing to close
                raise

    def claim_digest(self, integration_id: str, day: str, now: datetime) -> bool:
        item = key(integration_id, f"{DIGEST_PREFIX}{day}") | encode(
            {"day": day, "claimed_at": now.isoformat(), "expires_at": epoch(now + DIGEST_RETENTION)}
        )
        return self._put_if_absent(item)

    def _put_if_absent(self, item: Item) -> bool:
        try:
            self._client.put_item(TableName=self._name, Item=item, ConditionExpression="attribute_not_exists(pk)")
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True


def _notice(item: Item) -> Notice:
    values = Table.payload(item, helpers=("expires_at",))
    sent = {
        channel: values.pop(_sent_attribute(channel)) for channel in NoticeChannel if _sent_attribute(channel) in values
    }
    return Notice.model_validate(values | {"sent": sent})
