"""Jobs onto SQS, in batches of ten; a partial failure is retried and then raised, never dropped."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pydantic import BaseModel

from ogosync.errors import OgosyncError

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef

_BATCH = 10
_ATTEMPTS = 3


class SqsJobQueue:
    def __init__(self, client: SQSClient, queue_url: str) -> None:
        self._sqs = client
        self._url = queue_url

    def send(self, jobs: Sequence[BaseModel]) -> None:
        for start in range(0, len(jobs), _BATCH):
            entries: list[SendMessageBatchRequestEntryTypeDef] = [
                {"Id": str(index), "MessageBody": job.model_dump_json()}
                for index, job in enumerate(jobs[start : start + _BATCH])
            ]
            self._send_batch(entries)

    def _send_batch(self, entries: list[SendMessageBatchRequestEntryTypeDef]) -> None:
        for _ in range(_ATTEMPTS):
            answer = self._sqs.send_message_batch(QueueUrl=self._url, Entries=entries)
            failed_ids = {failure["Id"] for failure in answer.get("Failed", [])}
            entries = [entry for entry in entries if entry["Id"] in failed_ids]
            if not entries:
                return
        raise OgosyncError(f"{len(entries)} job(s) could not be enqueued")
