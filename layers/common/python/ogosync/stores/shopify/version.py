"""The Shopify GraphQL Admin API version ogosync speaks: the one place it is pinned (schema.graphql's header names
it too). 2026-04 is the first version where `changeFromQuantity` and `@idempotent` are required on
inventorySetQuantities, which the stock flow relies on (docs/api/shopify.md, "API version")."""

from __future__ import annotations

API_VERSION = "2026-04"
