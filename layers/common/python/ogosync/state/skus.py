"""SKU bindings on the state table: items SKU#<sku> in the integration's partition."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ogosync.models import SkuBinding
from ogosync.state.table import Table, encode, key, model_values

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PREFIX = "SKU#"


class DynamoSkuBindings:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._table = Table(client, table_name)

    def get_sku_bindings(self, integration_id: str, skus: Sequence[str]) -> dict[str, SkuBinding]:
        keys = [key(integration_id, f"{PREFIX}{sku}") for sku in dict.fromkeys(skus)]
        bindings = (SkuBinding.model_validate(Table.payload(item)) for item in self._table.batch_get(keys))
        return {binding.sku: binding for binding in bindings}

    def all_sku_bindings(self, integration_id: str) -> list[SkuBinding]:
        items = self._table.query_prefix(integration_id, PREFIX)
        return [SkuBinding.model_validate(Table.payload(item)) for item in items]

    def put_sku_bindings(self, bindings: Sequence[SkuBinding]) -> None:
        self._table.batch_put(
            [
                key(binding.integration_id, f"{PREFIX}{binding.sku}") | encode(model_values(binding))
                for binding in bindings
            ]
        )
