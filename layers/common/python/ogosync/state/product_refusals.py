"""Product refusals on the state table: items REFUSED#<sku> in the integration's partition.

They are few (a product myOGO refused), so they are written one at a time and read with one Query.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ogosync.models import ProductRefusal
from ogosync.state.table import Table, encode, key, model_values

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PREFIX = "REFUSED#"


class DynamoProductRefusals:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._table = Table(client, table_name)

    def all_product_refusals(self, integration_id: str) -> list[ProductRefusal]:
        items = self._table.query_prefix(integration_id, PREFIX)
        return [ProductRefusal.model_validate(Table.payload(item)) for item in items]

    def put_product_refusal(self, refusal: ProductRefusal) -> None:
        item = key(refusal.integration_id, f"{PREFIX}{refusal.sku}") | encode(model_values(refusal))
        self._table.client.put_item(TableName=self._table.name, Item=item)

    def delete_product_refusals(self, integration_id: str, skus: Sequence[str]) -> None:
        for sku in dict.fromkeys(skus):
            self._table.client.delete_item(TableName=self._table.name, Key=key(integration_id, f"{PREFIX}{sku}"))
