"""ogosync's work queues on SQS, by name, with the dead-letter queue each one redrives to.

The DLQ is found from the source queue's RedrivePolicy, so every queue the template gives a DLQ is covered with no
extra configuration. A redrive moves messages back one batch at a time: receive from the DLQ, send to the source
queue, delete from the DLQ only what was sent; a message that could not be sent becomes visible again in the DLQ.

SQS cannot peek: the DLQ's messages are listed by receiving them (hidden for a while), batch after batch until the
DLQ answers empty, and then made visible again at once (their receive count grows, nothing else changes). One
message is found the same way and moved or deleted with the receipt handle of that receive; the others are made
visible again. Uncertain: SQS may leave a message out of a receive now and then, so a listing can miss a message
that a later one shows; a DLQ much larger than `limit` shows some of its messages, not necessarily the oldest.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ogosync.errors import OgosyncError
from ogosync.ports import DeadLetter, QueueDepth, RedriveCount

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef, SendMessageBatchRequestEntryTypeDef

_BATCH = 10
_RECEIVE_WAIT_S = 1  # long polling: a short poll of a small queue may answer empty while messages wait
_REDRIVE_VISIBILITY_S = 30  # how long a received dead letter stays hidden while it is moved
_MAX_SCANS = 100  # receive calls of one listing or search: bounds the work on a large DLQ
_BODY_CHARS = 2000


class SqsWorkQueues:
    def __init__(self, client: SQSClient, urls: Mapping[str, str]) -> None:
        self._sqs = client
        self._urls = dict(urls)
        self._dlq_urls: dict[str, str | None] = {}

    def names(self) -> list[str]:
        return list(self._urls)

    def depth(self, name: str) -> QueueDepth:
        counts = self._counts(self._url(name))
        dlq = self._dlq_url(name)
        return QueueDepth(
            queue=name,
            waiting=counts[0],
            in_flight=counts[1],
            dead_letters=None if dlq is None else self._counts(dlq)[0],
        )

    def redrive(self, name: str, max_messages: int) -> RedriveCount:
        source = self._url(name)
        dlq = self._dlq_url(name)
        if dlq is None:
            raise OgosyncError(f"queue {name} has no dead-letter queue")
        moved = failed = 0
        while moved + failed < max_messages:
            messages = self._sqs.receive_message(
                QueueUrl=dlq,
                MaxNumberOfMessages=min(_BATCH, max_messages - moved - failed),
                WaitTimeSeconds=_RECEIVE_WAIT_S,
                VisibilityTimeout=_REDRIVE_VISIBILITY_S,
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not messages:
                break
            sent = self._send_back(source, messages)
            done = [message for message in messages if message["MessageId"] in sent]
            if done:
                self._sqs.delete_message_batch(
                    QueueUrl=dlq,
                    Entries=[
                        {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                        for index, message in enumerate(done)
                    ],
                )
            moved += len(done)
            failed += len(messages) - len(done)
        return RedriveCount(queue=name, moved=moved, failed=failed, dead_letters_left=self._counts(dlq)[0])

    def dead_letters(self, name: str, limit: int) -> list[DeadLetter]:
        dlq = self._dlq_of(name)
        found = self._scan(dlq, limit)
        self._release(dlq, list(found.values()))
        return [_dead_letter(message) for message in found.values()][:limit]

    def redrive_dead_letter(self, name: str, message_id: str) -> bool:
        dlq = self._dlq_of(name)
        found = self._scan(dlq)
        message = found.pop(message_id, None)
        self._release(dlq, list(found.values()))
        if message is None:
            return False
        if message_id not in self._send_back(self._url(name), [message]):
            self._release(dlq, [message])
            return False
        self._sqs.delete_message(QueueUrl=dlq, ReceiptHandle=message["ReceiptHandle"])
        return True

    def discard_dead_letters(self, name: str, message_ids: set[str] | None) -> int:
        dlq = self._dlq_of(name)
        found = self._scan(dlq)
        wanted = [each for key, each in found.items() if message_ids is None or key in message_ids]
        self._release(dlq, [each for key, each in found.items() if message_ids is not None and key not in message_ids])
        for batch in _batches(wanted):
            self._sqs.delete_message_batch(
                QueueUrl=dlq,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": each["ReceiptHandle"]} for index, each in enumerate(batch)
                ],
            )
        return len(wanted)

    def _scan(self, dlq: str, limit: int | None = None) -> dict[str, MessageTypeDef]:
        """The DLQ's messages by id (as far as _MAX_SCANS receives reach), each hidden for _REDRIVE_VISIBILITY_S:
        the caller acts on some and makes the others visible again at once (_release)."""
        found: dict[str, MessageTypeDef] = {}
        if self._counts(dlq)[0] == 0:  # nothing waits: no receive (its long poll would wait a second for nothing)
            return found
        for _ in range(_MAX_SCANS):
            messages = self._sqs.receive_message(
                QueueUrl=dlq,
                MaxNumberOfMessages=_BATCH,
                WaitTimeSeconds=_RECEIVE_WAIT_S if not found else 0,
                VisibilityTimeout=_REDRIVE_VISIBILITY_S,
                MessageAttributeNames=["All"],
                AttributeNames=["SentTimestamp", "ApproximateReceiveCount"],
            ).get("Messages", [])
            found.update((message["MessageId"], message) for message in messages)
            if not messages or (limit is not None and len(found) >= limit):
                break
        return found

    def _release(self, dlq: str, messages: list[MessageTypeDef]) -> None:
        for batch in _batches(messages):
            self._sqs.change_message_visibility_batch(
                QueueUrl=dlq,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": each["ReceiptHandle"], "VisibilityTimeout": 0}
                    for index, each in enumerate(batch)
                ],
            )

    def _dlq_of(self, name: str) -> str:
        dlq = self._dlq_url(name)
        if dlq is None:
            raise OgosyncError(f"queue {name} has no dead-letter queue")
        return dlq

    def _send_back(self, source: str, messages: list[MessageTypeDef]) -> set[str]:
        entries: list[SendMessageBatchRequestEntryTypeDef] = []
        for index, message in enumerate(messages):
            entry: SendMessageBatchRequestEntryTypeDef = {"Id": str(index), "MessageBody": message["Body"]}
            if message.get("MessageAttributes"):
                entry["MessageAttributes"] = message["MessageAttributes"]
            entries.append(entry)
        answer = self._sqs.send_message_batch(QueueUrl=source, Entries=entries)
        return {messages[int(success["Id"])]["MessageId"] for success in answer.get("Successful", [])}

    def _url(self, name: str) -> str:
        if name not in self._urls:
            raise OgosyncError(f"no queue named {name}")
        return self._urls[name]

    def _counts(self, url: str) -> tuple[int, int]:
        attributes = self._sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def _dlq_url(self, name: str) -> str | None:
        if name not in self._dlq_urls:
            attributes = self._sqs.get_queue_attributes(QueueUrl=self._url(name), AttributeNames=["RedrivePolicy"])
            policy = attributes.get("Attributes", {}).get("RedrivePolicy")
            if policy is None:
                self._dlq_urls[name] = None
            else:
                # arn:<partition>:sqs:<region>:<account>:<queue name>
                *_, account, queue_name = json.loads(policy)["deadLetterTargetArn"].split(":")
                url = self._sqs.get_queue_url(QueueName=queue_name, QueueOwnerAWSAccountId=account)["QueueUrl"]
                self._dlq_urls[name] = url
        return self._dlq_urls[name]


def _dead_letter(message: MessageTypeDef) -> DeadLetter:
    attributes = message.get("Attributes", {})
    sent = attributes.get("SentTimestamp")
    return DeadLetter(
        message_id=message["MessageId"],
        body=message.get("Body", "")[:_BODY_CHARS],
        sent_at=None if sent is None else datetime.fromtimestamp(int(sent) / 1000, tz=UTC),
        receive_count=int(attributes.get("ApproximateReceiveCount", "0")),
    )


def _batches(messages: list[MessageTypeDef]) -> list[list[MessageTypeDef]]:
    return [messages[start : start + _BATCH] for start in range(0, len(messages), _BATCH)]
