"""Every GraphQL document the Shopify adapter sends parses and validates against schema.graphql (the subset of the
Admin API written from Shopify's reference): no invented field, argument or type reaches Shopify."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import GraphQLSchema, build_schema, parse, validate

from ogosync.stores.shopify import documents
from ogosync.stores.shopify.version import API_VERSION

SCHEMA_FILE = Path(documents.__file__).with_name("schema.graphql")

VALIDATED = [
    "CHECK_ACCESS",
    "SHOP_CURRENCY",
    "ORDERS_UPDATED_SINCE",
    "ORDER_BY_ID",
    "ORDER_FOR_SHIPMENT",
    "ORDER_FULFILLMENTS",
    "PRODUCT_VARIANTS_BULK",
    "BULK_OPERATION_RUN_QUERY",
    "BULK_OPERATIONS_RUNNING",
    "BULK_OPERATION",
    "INVENTORY_LEVELS",
    "INVENTORY_SET_QUANTITIES",
    "FULFILLMENT_CREATE",
]


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return build_schema(SCHEMA_FILE.read_text())


def _public_documents() -> set[str]:
    return {
        name
        for name, value in vars(documents).items()
        if name.isupper() and not name.startswith("_") and isinstance(value, str)
    }


@pytest.mark.parametrize("name", VALIDATED)
def test_document_is_valid_against_the_schema(schema: GraphQLSchema, name: str) -> None:
    errors = validate(schema, parse(getattr(documents, name)))
    assert [error.message for error in errors] == []


def test_every_document_in_the_module_is_validated() -> None:
    assert _public_documents() == set(VALIDATED)


def test_an_invented_field_fails_validation(schema: GraphQLSchema) -> None:
    errors = validate(schema, parse("query { shop { id inventedField } }"))
    assert any("inventedField" in error.message for error in errors)


def test_the_schema_header_names_the_pinned_api_version() -> None:
    header = SCHEMA_FILE.read_text().splitlines()[0]
    assert f"API version {API_VERSION}" in header
