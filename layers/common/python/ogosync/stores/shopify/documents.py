"""Every GraphQL document the Shopify adapter sends, as module constants (tests/unit/test_shopify_documents.py
validates each against schema.graphql, so none can use a field Shopify does not have).

Nested connections take their page sizes as variables: the store sizes the order pages by what the previous page
cost (docs/api/shopify.md, "Cost and throttling"), and reads an order again alone, with larger nested pages,
when one of its nested connections did not fit.
"""

from __future__ import annotations

_ORDER_FIELDS = """
fragment OrderFields on Order {
  id
  legacyResourceId
  name
  createdAt
  updatedAt
  cancelledAt
  email
  phone
  note
  currencyCode
  displayFinancialStatus
  totalPriceSet { shopMoney { amount currencyCode } }
  shippingAddress {
    name firstName lastName company address1 address2 city province provinceCode zip countryCodeV2 phone
  }
  shippingLines(first: 1) { nodes { title code } }
  risk { recommendation assessments { riskLevel } }
  fulfillmentOrders(first: $fulfillmentOrders) {
    pageInfo { hasNextPage }
    nodes {
      id
      status
      assignedLocation { location { id } }
      fulfillmentHolds { reason reasonNotes }
      lineItems(first: $lineItems) {
        pageInfo { hasNextPage }
        nodes {
          id
          sku
          productTitle
          variantTitle
          totalQuantity
          remainingQuantity
          financialSummaries { quantity approximateDiscountedUnitPriceSet { shopMoney { amount } } }
        }
      }
    }
  }
}
"""

CHECK_ACCESS = """
query CheckAccess($locationId: ID!) {
  shop { id name myshopifyDomain }
  location(id: $locationId) { id name isActive }
}
"""

SHOP_CURRENCY = """
query ShopCurrency {
  shop { currencyCode }
}
"""

ORDERS_UPDATED_SINCE = (
    """
query OrdersUpdatedSince($first: Int!, $after: String, $query: String!, $fulfillmentOrders: Int!, $lineItems: Int!) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes { ...OrderFields }
  }
}
"""
    + _ORDER_FIELDS
)

ORDER_BY_ID = (
    """
query OrderById($id: ID!, $fulfillmentOrders: Int!, $lineItems: Int!) {
  order(id: $id) { ...OrderFields }
}
"""
    + _ORDER_FIELDS
)

ORDER_FOR_SHIPMENT = (
    """
query OrderForShipment($id: ID!, $fulfillmentOrders: Int!, $lineItems: Int!) {
  order(id: $id) {
    ...OrderFields
    fulfillments(first: 50) {
      id
      status
      location { id }
      trackingInfo(first: 20) { company number url }
    }
  }
}
"""
    + _ORDER_FIELDS
)

ORDER_FULFILLMENTS = """
query OrderFulfillments($id: ID!) {
  order(id: $id) {
    id
    cancelledAt
    fulfillments(first: 50) {
      id
      status
      location { id }
      trackingInfo(first: 20) { company number url }
    }
  }
}
"""

# The inner query of the bulk operation: every variant with its product and inventory item. Bulk queries need
# `edges { node }` on connections (docs/api/shopify.md, "Bulk operations").
PRODUCT_VARIANTS_BULK = """
{
  productVariants {
    edges {
      node {
        id
        title
        sku
        barcode
        price
        image { url }
        product {
          id
          title
          status
          descriptionHtml
          onlineStoreUrl
          featuredMedia { preview { image { url } } }
        }
        inventoryItem { id }
      }
    }
  }
}
"""

BULK_OPERATION_RUN_QUERY = """
mutation BulkOperationRunQuery($query: String!) {
  bulkOperationRunQuery(query: $query) {
    bulkOperation { id status }
    userErrors { code field message }
  }
}
"""

BULK_OPERATIONS_RUNNING = """
query BulkOperationsRunning {
  bulkOperations(first: 10, query: "operation_type:query AND (status:created OR status:running)") {
    nodes { id status query }
  }
}
"""

BULK_OPERATION = """
query BulkOperation($id: ID!) {
  bulkOperation(id: $id) { id status errorCode objectCount url partialDataUrl }
}
"""

INVENTORY_LEVELS = """
query InventoryLevels($ids: [ID!]!, $locationId: ID!) {
  nodes(ids: $ids) {
    ... on InventoryItem {
      id
      inventoryLevel(locationId: $locationId) { quantities(names: ["available"]) { name quantity } }
    }
  }
}
"""

INVENTORY_SET_QUANTITIES = """
mutation InventorySetQuantities($input: InventorySetQuantitiesInput!, $idempotencyKey: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $idempotencyKey) {
    inventoryAdjustmentGroup { id }
    userErrors { code field message }
  }
}
"""

FULFILLMENT_CREATE = """
mutation FulfillmentCreate($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status trackingInfo(first: 20) { company number url } }
    userErrors { field message }
  }
}
"""
