"""The stock flow's ledger on the state table: what was last published per SKU (items STOCK#<sku>) and the run
state beside the cursor (item STOCKRUN). Runs of one integration never overlap (the flow's lock), so plain puts do."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ogosync.models import PublishedStock, StockRunState
from ogosync.state.table import Item, Table, encode, key, model_values

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PREFIX = "STOCK#"
RUN_STATE = "STOCKRUN"  # not under PREFIX, so a prefix query of the ledger never returns it


class DynamoStockLedger:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._table = Table(client, table_name)

    def published(self, integration_id: str, skus: Sequence[str]) -> dict[str, PublishedStock]:
        keys = [key(integration_id, f"{PREFIX}{sku}") for sku in dict.fromkeys(skus)]
        return _by_sku(self._table.batch_get(keys))

    def all_published(self, integration_id: str) -> dict[str, PublishedStock]:
        return _by_sku(self._table.query_prefix(integration_id, PREFIX))

    def record_published(self, entries: Sequence[PublishedStock]) -> None:
        self._table.batch_put(
            [key(entry.integration_id, f"{PREFIX}{entry.sku}") | encode(model_values(entry)) for entry in entries]
        )

    def run_state(self, integration_id: str) -> StockRunState:
        item = self._table.get(integration_id, RUN_STATE)
        if item is None:
            return StockRunState(integration_id=integration_id)
        return StockRunState.model_validate(Table.payload(item))

    def save_run_state(self, state: StockRunState) -> None:
        item = key(state.integration_id, RUN_STATE) | encode(model_values(state))
        self._table.client.put_item(TableName=self._table.name, Item=item)


def _by_sku(items: Sequence[Item]) -> dict[str, PublishedStock]:
    entries = (PublishedStock.model_validate(Table.payload(item)) for item in items)
    return {entry.sku: entry for entry in entries}
