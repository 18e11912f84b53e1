"""Orders' timeline notes on the state table: items EVENT#<store order id>#<time>#<random> in the integration's
partition, one per note, only ever added (a note is never rewritten, so no condition is needed).

An order id has no '#' (the operator API's pattern), so the prefix EVENT#<id># matches that order's notes only.
The notes go with the integration's other items when it is deleted (the order bindings stay 90 days; their notes
do not)."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from ogosync.models import OrderNote
from ogosync.state.table import Table, encode, key, model_values

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PREFIX = "EVENT#"


class DynamoOrderNotes:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._name = table_name
        self._table = Table(client, table_name)

    def add_note(self, note: OrderNote) -> None:
        sort_key = f"{PREFIX}{note.store_order_id}#{note.at.isoformat()}#{secrets.token_hex(4)}"
        self._client.put_item(
            TableName=self._name, Item=key(note.integration_id, sort_key) | encode(model_values(note))
        )

    def notes(self, integration_id: str, store_order_id: str) -> list[OrderNote]:
        items = self._table.query_prefix(integration_id, f"{PREFIX}{store_order_id}#")
        return sorted((OrderNote.model_validate(Table.payload(item)) for item in items), key=lambda note: note.at)
