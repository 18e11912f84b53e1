"""Shopify's records (GraphQL answers, bulk JSONL rows) as ogosync's models. Every parser is total: any JSON gives a
model or an UnreadableRecordError naming what is wrong (tests/unit/test_shopify_mapping.py). Facts and their
sources: docs/api/shopify.md ("Orders and fulfillment orders", "Products").

Uncertain, coded defensively:
- whether a line's `approximateDiscountedUnitPriceSet` includes tax depends on the shop's "prices include tax"
  setting; it is taken as the unit price the customer paid;
- Order.fulfillmentOrders is taken to list CLOSED fulfillment orders too (the root query hides them unless asked):
  an order whose fulfillment orders at our location are all CLOSED is FULFILLED.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from ogosync.errors import UnreadableRecordError
from ogosync.models import (
    Address,
    Hold,
    HoldReason,
    OrderLine,
    StoreOrder,
    StoreOrderState,
    StoreProduct,
)
from ogosync.stores import numbers
from ogosync.stores.text import plain_text

PLATFORM = "shopify"
DEFAULT_VARIANT_TITLE = "Default Title"  # Shopify's title of the only variant of a product without options
_GID = re.compile(r"^gid://shopify/(?P<kind>[A-Za-z]+)/(?P<id>\d+)(\?.*)?$")
_OPEN_FULFILLMENT_ORDER = frozenset({"OPEN", "IN_PROGRESS", "ON_HOLD", "SCHEDULED", "INCOMPLETE"})


class TruncatedOrderError(UnreadableRecordError):
    """A nested page of the order (its fulfillment orders, or an FO's lines) did not fit: read it again alone."""


class OrderContext(NamedTuple):
    location_gid: str  # gid://shopify/Location/N, the warehouse's location
    paid_statuses: frozenset[str]


def gid(kind: str, value: str) -> str:
    """Shopify's global id of a numeric id (or the gid itself when given one of this kind)."""
    match = _GID.match(value.strip())
    if match and match["kind"] == kind:
        return f"gid://shopify/{kind}/{match['id']}"
    if value.strip().isdigit():
        return f"gid://shopify/{kind}/{value.strip()}"
    raise ValueError(f"{value!r} is not a Shopify {kind} id")


def order_id_of(raw: Any) -> str | None:
    """The numeric id of an order record (legacyResourceId, else the number in its gid), or None."""
    if not isinstance(raw, Mapping):
        return None
    legacy = raw.get("legacyResourceId")
    if isinstance(legacy, int) and not isinstance(legacy, bool) and legacy > 0:
        return str(legacy)
    if isinstance(legacy, str) and legacy.isdigit() and legacy.isascii():
        return legacy
    node_id = raw.get("id")
    match = _GID.match(node_id) if isinstance(node_id, str) else None
    return match["id"] if match and match["kind"] == "Order" else None


def is_truncated(raw: Mapping[str, Any]) -> bool:
    """Whether a nested connection of the order has more than the answer holds."""
    orders = _mapping(raw.get("fulfillmentOrders"))
    if _has_next(orders):
        return True
    return any(_has_next(_mapping(fo.get("lineItems"))) for fo in _nodes(orders))


def parse_order(raw: Any, context: OrderContext) -> StoreOrder:
    """An Order node as a StoreOrder; UnreadableRecordError (TruncatedOrderError) when it cannot be read whole."""
    order_id = order_id_of(raw)
    if order_id is None or not isinstance(raw, Mapping):
        raise UnreadableRecordError(PLATFORM, "an order without a usable id")
    if is_truncated(raw):
        raise TruncatedOrderError(PLATFORM, f"order {order_id}: more fulfillment orders or lines than one page")
    placed_at = _datetime(raw.get("createdAt"))
    if placed_at is None:
        raise UnreadableRecordError(PLATFORM, f"order {order_id}: no readable createdAt")
    ours = [fo for fo in _nodes(_mapping(raw.get("fulfillmentOrders"))) if _at(fo, context.location_gid)]
    live = [fo for fo in ours if _text(fo, "status") != "CANCELLED"]
    try:
        return _order(order_id, placed_at, raw, live, context)
    except ValueError as exc:  # pydantic's ValidationError among them
        raise UnreadableRecordError(PLATFORM, f"order {order_id}: {exc}") from None


def _order(
    order_id: str,
    placed_at: datetime,
    raw: Mapping[str, Any],
    live: Sequence[Mapping[str, Any]],
    context: OrderContext,
) -> StoreOrder:
    open_orders = [fo for fo in live if _text(fo, "status") in _OPEN_FULFILLMENT_ORDER]
    return StoreOrder(
        order_id=order_id,
        placed_at=placed_at,
        state=_state(raw, live, context),
        holds=_holds(raw, live),
        currency=_text(raw, "currencyCode"),
        total=_amount(_shop_money(raw.get("totalPriceSet")), f"order {order_id} total", required=False),
        shipping_method=_shipping_method(raw),
        customer=_address(raw),
        lines=[_line(order_id, item) for fo in open_orders for item in _lines(fo)],
        comment=_text(raw, "note") or None,
    )


def _state(raw: Mapping[str, Any], live: Sequence[Mapping[str, Any]], context: OrderContext) -> StoreOrderState:
    if raw.get("cancelledAt"):
        return StoreOrderState.CANCELLED
    if not live:
        return StoreOrderState.NOT_FOR_WAREHOUSE
    if all(_text(fo, "status") == "CLOSED" for fo in live):
        return StoreOrderState.FULFILLED
    if _text(raw, "displayFinancialStatus") in context.paid_statuses:
        return StoreOrderState.PAID
    return StoreOrderState.AWAITING_PAYMENT


def _holds(raw: Mapping[str, Any], live: Sequence[Mapping[str, Any]]) -> list[Hold]:
    holds = [
        Hold(reason=HoldReason.ON_HOLD_IN_STORE, detail=_hold_detail(fo))
        for fo in live
        if _text(fo, "status") == "ON_HOLD"
    ]
    risk = _mapping(raw.get("risk"))
    levels = {_text(assessment, "riskLevel") for assessment in _list(risk.get("assessments"))}
    if "HIGH" in levels or _text(risk, "recommendation") == "CANCEL":
        holds.append(Hold(reason=HoldReason.SUSPECTED_FRAUD, detail="Shopify rates the order's fraud risk HIGH"))
    return holds


def _hold_detail(fulfillment_order: Mapping[str, Any]) -> str:
    reasons = [
        ": ".join(part for part in (_text(hold, "reason"), _text(hold, "reasonNotes")) if part)
        for hold in _list(fulfillment_order.get("fulfillmentHolds"))
    ]
    shown = "; ".join(reason for reason in reasons if reason)
    return f"on hold in Shopify ({shown})" if shown else "on hold in Shopify"


def _line(order_id: str, item: Mapping[str, Any]) -> OrderLine:
    line_id = _text(item, "id")
    if not line_id:
        raise UnreadableRecordError(PLATFORM, f"order {order_id}: a line without an id")
    summaries = _list(item.get("financialSummaries"))
    price = _shop_money(_mapping(summaries[0]).get("approximateDiscountedUnitPriceSet")) if summaries else None
    return OrderLine(
        line_id=line_id,
        sku=_text(item, "sku").strip(),
        name=_line_name(_text(item, "productTitle"), _text(item, "variantTitle")),
        quantity=_quantity(item.get("remainingQuantity"), f"order {order_id} line {line_id}"),
        unit_price=_amount(price, f"order {order_id} line {line_id} price", required=True) or Decimal(0),
    )


def _line_name(product: str, variant: str) -> str:
    return f"{product} - {variant}" if variant and variant != DEFAULT_VARIANT_TITLE else product


def _shipping_method(raw: Mapping[str, Any]) -> str | None:
    lines = _nodes(_mapping(raw.get("shippingLines")))
    return (_text(lines[0], "title") or None) if lines else None


def _address(raw: Mapping[str, Any]) -> Address:
    address = _mapping(raw.get("shippingAddress"))
    name = _text(address, "name") or " ".join(
        part for part in (_text(address, "firstName"), _text(address, "lastName")) if part
    )
    return Address(
        name=name,
        company=_text(address, "company") or None,
        address1=_text(address, "address1"),
        address2=_text(address, "address2") or None,
        zip=_text(address, "zip") or None,
        city=_text(address, "city"),
        state=_text(address, "provinceCode") or _text(address, "province") or None,
        country_code=_text(address, "countryCodeV2"),
        email=_text(raw, "email") or None,
        phone=_text(address, "phone") or _text(raw, "phone") or None,
    )


# ---- products -------------------------------------------------------------------------------------------


def parse_variant(raw: Any, currency: str | None) -> StoreProduct:
    """A bulk row of a product variant (with its product and inventory item) as a StoreProduct."""
    if not isinstance(raw, Mapping) or not _text(raw, "id"):
        raise UnreadableRecordError(PLATFORM, "a product variant without an id")
    try:
        return _product(raw, currency)
    except ValueError as exc:  # pydantic's ValidationError among them
        raise UnreadableRecordError(PLATFORM, f"variant {_text(raw, 'id')}: {exc}") from None


def _product(raw: Mapping[str, Any], currency: str | None) -> StoreProduct:
    product = _mapping(raw.get("product"))
    item = _mapping(raw.get("inventoryItem"))
    ids = {"product": _text(product, "id"), "variant": _text(raw, "id"), "inventory_item": _text(item, "id")}
    price = _amount(raw.get("price"), f"variant {ids['variant']} price", required=False)
    return StoreProduct(
        store_ids={name: value for name, value in ids.items() if value},
        sku=_text(raw, "sku").strip() or None,
        ean=_text(raw, "barcode").strip() or None,
        name=_line_name(_text(product, "title"), _text(raw, "title")) or _text(raw, "title"),
        description=plain_text(_text(product, "descriptionHtml")) or None,
        price=price,
        currency=currency if price is not None else None,
        image_url=_image_url(raw),
        product_url=_text(product, "onlineStoreUrl") or None,
        active=_text(product, "status") == "ACTIVE",
    )


def _image_url(raw: Mapping[str, Any]) -> str | None:
    own = _text(_mapping(raw.get("image")), "url")
    media = _mapping(_mapping(raw.get("product")).get("featuredMedia"))
    return own or _text(_mapping(_mapping(media.get("preview")).get("image")), "url") or None


# ---- total readers of loose JSON --------------------------------------------------------------------------


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _nodes(connection: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    if "nodes" in connection:
        return _list(connection.get("nodes"))
    return [_mapping(edge.get("node")) for edge in _list(connection.get("edges"))]


def _has_next(connection: Mapping[str, Any]) -> bool:
    return _mapping(connection.get("pageInfo")).get("hasNextPage") is True


def _lines(fulfillment_order: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [item for item in _nodes(_mapping(fulfillment_order.get("lineItems"))) if _remaining(item) > 0]


def _remaining(item: Mapping[str, Any]) -> int:
    value = item.get("remainingQuantity")
    return value if isinstance(value, int) and not isinstance(value, bool) else 1  # unreadable: _line reports it


def _at(fulfillment_order: Mapping[str, Any], location_gid: str) -> bool:
    location = _mapping(_mapping(fulfillment_order.get("assignedLocation")).get("location"))
    return _text(location, "id") == location_gid


def _text(raw: Mapping[str, Any], key: str) -> str:
    value = raw.get(key)
    return value if isinstance(value, str) else ""


def _shop_money(bag: Any) -> Any:
    return _mapping(_mapping(bag).get("shopMoney")).get("amount")


def _amount(value: Any, what: str, *, required: bool) -> Decimal | None:
    return numbers.amount(PLATFORM, value, what, required=required)


def _quantity(value: Any, what: str) -> int:
    return numbers.quantity(PLATFORM, value, what)


def _datetime(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None
