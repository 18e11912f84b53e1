"""Product refusals: one contract for the DynamoDB adapter (over HTTP to moto) and the in-memory fake."""

from __future__ import annotations

import uuid

import pytest

from ogosync.models import ProductRefusal
from ogosync.ports import ProductRefusalRepository
from ogosync.state.product_refusals import DynamoProductRefusals
from ogosync_local.aws import LocalAws
from tests.factories import T0
from tests.fakes_products import InMemoryProductRefusals

pytestmark = pytest.mark.integration


@pytest.fixture(params=["dynamodb", "memory"])
def refusals(request: pytest.FixtureRequest, local_aws: LocalAws) -> ProductRefusalRepository:
    if request.param == "memory":
        return InMemoryProductRefusals()
    return DynamoProductRefusals(local_aws.client("dynamodb"), local_aws.table_name)


def _refusal(integration_id: str, sku: str, message: str = "Product name is required") -> ProductRefusal:
    return ProductRefusal(
        integration_id=integration_id, sku=sku, message=message, content_hash=f"hash-{sku}", refused_at=T0
    )


def test_refusals_are_kept_per_integration_replaced_and_deleted(refusals: ProductRefusalRepository) -> None:
    iid = f"shop-{uuid.uuid4().hex[:10]}"
    refusals.put_product_refusal(_refusal(iid, "A1"))
    refusals.put_product_refusal(_refusal(iid, "A/2 x"))
    refusals.put_product_refusal(_refusal(iid, "A1", "Product languageCode is required"))
    refusals.put_product_refusal(_refusal(iid + "-other", "A1"))

    assert sorted((r.sku, r.message) for r in refusals.all_product_refusals(iid)) == [
        ("A/2 x", "Product name is required"),
        ("A1", "Product languageCode is required"),
    ]
    refusals.delete_product_refusals(iid, ["A1", "never-refused"])
    assert [r.sku for r in refusals.all_product_refusals(iid)] == ["A/2 x"]
    assert refusals.all_product_refusals(iid)[0] == _refusal(iid, "A/2 x")
    assert [r.sku for r in refusals.all_product_refusals(iid + "-other")] == ["A1"]
