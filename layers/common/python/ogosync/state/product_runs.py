"""The product sync page on the state table: the latest run (PRODUCTRUN) and the latest refresh report.

A report of a 20,000-size catalog is several MB of rows, far over DynamoDB's 400 KB per item, and one item per row
would cost 20,000 writes per "Refresh". So the rows go in chunks (PRODUCTS#<report id>#<n>) of at most
CHUNK_BYTES of JSON each (plain JSON, not compressed: readable and searchable in the table, and a listing reads a
few MB at most); the header (PRODUCTREPORT) is written last and names the chunks, so a
listing never sees a half-written report. The previous report's chunks are deleted after the switch, and every
chunk carries a TTL (expires_at) so that chunks of a report whose run died halfway go away on their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError
from pydantic import TypeAdapter

from ogosync.models import ProductReportHeader, ProductRow, ProductRun, ProductRunStatus
from ogosync.state.table import Expression, Table, encode, epoch, is_condition_failure, key, model_values

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

RUN = "PRODUCTRUN"
REPORT = "PRODUCTREPORT"
CHUNK_PREFIX = "PRODUCTS#"
CHUNK_BYTES = 350_000  # of UTF-8 JSON: a chunk item stays under DynamoDB's 400 KB
REPORT_TTL = timedelta(days=7)
_ROWS = TypeAdapter(list[ProductRow])


def _chunk_sk(report_id: str, index: int) -> str:
    return f"{CHUNK_PREFIX}{report_id}#{index:05d}"


def chunked(rows: Sequence[ProductRow]) -> list[str]:
    """The rows as JSON arrays of at most CHUNK_BYTES each (a row longer than that alone in its chunk)."""
    chunks: list[str] = []
    pending: list[str] = []
    size = 2
    for row in rows:
        text = row.model_dump_json()
        length = len(text.encode()) + 1
        if pending and size + length > CHUNK_BYTES:
            chunks.append(f"[{','.join(pending)}]")
            pending, size = [], 2
        pending.append(text)
        size += length
    if pending:
        chunks.append(f"[{','.join(pending)}]")
    return chunks


class DynamoProductRuns:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._table = Table(client, table_name)

    # ---- runs ---------------------------------------------------------------------------------------

    def get_product_run(self, integration_id: str) -> ProductRun | None:
        item = self._table.get(integration_id, RUN)
        return ProductRun.model_validate(Table.payload(item)) if item else None

    def put_product_run(self, run: ProductRun) -> None:
        item = key(run.integration_id, RUN) | encode(model_values(run))
        self._table.client.put_item(TableName=self._table.name, Item=item)

    def start_product_run(self, integration_id: str, run_id: str, now: datetime, lock_expires_at: datetime) -> bool:
        expression = Expression()
        update = expression.set(
            {
                "status": ProductRunStatus.RUNNING.value,
                "started_at": now.isoformat(),
                "lock_expires_at": lock_expires_at.isoformat(),
            }
        )
        condition = (
            f"{expression.name('run_id')} = {expression.value(run_id)} AND "
            f"{expression.name('status')} = {expression.value(ProductRunStatus.QUEUED.value)}"
        )
        return self._conditional_update(integration_id, update, condition, expression)

    def save_product_run(self, run: ProductRun) -> bool:
        expression = Expression()
        values = model_values(run)
        update = expression.set({name: value for name, value in values.items() if name != "run_id"})
        condition = f"{expression.name('run_id')} = {expression.value(run.run_id)}"
        return self._conditional_update(run.integration_id, update, condition, expression)

    def _conditional_update(self, integration_id: str, update: str, condition: str, expression: Expression) -> bool:
        try:
            self._table.client.update_item(
                TableName=self._table.name,
                Key=key(integration_id, RUN),
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeNames=expression.names,
                ExpressionAttributeValues=expression.values,
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True

    # ---- reports ------------------------------------------------------------------------------------

    def put_product_report(self, header: ProductReportHeader, rows: Sequence[ProductRow]) -> None:
        chunks = chunked(rows)
        expires_at = epoch(header.refreshed_at + REPORT_TTL)
        iid = header.integration_id
        self._table.batch_put(
            [
                key(iid, _chunk_sk(header.report_id, index))
                | {"rows": {"S": chunk}, "expires_at": {"N": str(expires_at)}}
                for index, chunk in enumerate(chunks)
            ]
        )
        previous = self._header(iid)
        stored = header.model_copy(update={"chunks": len(chunks)})
        self._table.client.put_item(
            TableName=self._table.name,
            Item=key(iid, REPORT) | encode(model_values(stored) | {"expires_at": expires_at}),
        )
        if previous is not None and previous.report_id != header.report_id:
            self._table.batch_delete([key(iid, _chunk_sk(previous.report_id, n)) for n in range(previous.chunks)])

    def product_report(self, integration_id: str) -> tuple[ProductReportHeader, list[ProductRow]] | None:
        header = self._header(integration_id)
        if header is None:
            return None
        items = self._table.query_prefix(integration_id, f"{CHUNK_PREFIX}{header.report_id}#")
        rows: list[ProductRow] = []
        for item in sorted(items, key=lambda found: str(found["sk"]["S"])):
            rows += _ROWS.validate_json(str(item["rows"]["S"]))
        return header, rows

    def _header(self, integration_id: str) -> ProductReportHeader | None:
        item = self._table.get(integration_id, REPORT)
        return ProductReportHeader.model_validate(Table.payload(item, helpers=("expires_at",))) if item else None
