"""ogosync's work queues on SQS, by name, with the dead-letter queue each one redrives to.

The DLQ is found from the source queue's RedrivePolicy, so every queue the template gives a DLQ is covered with no
extra configuration. A redrive moves messages back one batch at a time: receive from the DLQ, send to the source
queue, delete from the DLQ only what was sent; a message that could not be sent becomes visible again in the DLQ.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ogosync.errors import OgosyncError
from ogosync.ports import QueueDepth, RedriveCount

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef, SendMessageBatchRequestEntryTypeDef

_BATCH = 10
_RECEIVE_WAIT_S = 1  # long polling: a short poll of a small queue may answer empty while messages wait
_REDRIVE_VISIBILITY_S = 30  # how long a received dead letter stays hidden while it is moved


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
