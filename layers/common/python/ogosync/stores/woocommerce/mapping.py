"""WooCommerce's wc/v3 records as ogosync's models. Every parser is total: any JSON gives a model or an
UnreadableRecordError naming what is wrong (tests/unit/test_woocommerce_mapping.py). Facts and their sources:
docs/api/woocommerce.md ("Orders", "Products").

Uncertain, coded defensively:
- a line's `price` excludes tax; the unit price sent on is (total + total_tax) / quantity, `price` only when
  those are missing;
- a status the shop adds itself (a plugin's) that the merchant did not name as paid waits as unpaid;
- a variation inherits the parent's `_nettivarasto_*` meta when its own is empty (OGOship's plugin does so), but
  not the parent's `global_unique_id` (a GTIN names one item; a parent's would be shared by every variation).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from ogosync.errors import UnreadableRecordError
from ogosync.models import Address, Hold, HoldReason, OrderLine, StoreOrder, StoreOrderState, StoreProduct
from ogosync.stores import numbers
from ogosync.stores.text import plain_text

PLATFORM = "woocommerce"
EAN_META = "_nettivarasto_eancode"
NO_EXPORT_META = "_nettivarasto_no_export"
CANCELLED_STATUSES = frozenset({"cancelled", "refunded", "failed", "trash"})
# Unpaid and not yet taken from the shop's stock (it is taken on processing, on-hold or completed): not in transit.
# docs/api/woocommerce.md ("Orders")
UNPAID_STATUSES = frozenset({"pending", "checkout-draft"})
_CENT = Decimal("0.01")
_ID = re.compile(r"^[1-9][0-9]{0,19}$")


class OrderContext(NamedTuple):
    paid_statuses: frozenset[str]


def record_id(raw: Any) -> str | None:
    """The positive integer id of a record, as text, or None."""
    found = raw.get("id") if isinstance(raw, Mapping) else None
    if isinstance(found, int) and not isinstance(found, bool) and 0 < found < 10**20:
        return str(found)
    return found if isinstance(found, str) and _ID.match(found) else None


def meta_value(raw: Mapping[str, Any], key: str) -> str:
    """The text value of a record's meta_data entry `key` ("" when absent or not text/number)."""
    for entry in _list(raw.get("meta_data")):
        if entry.get("key") == key:
            value = entry.get("value")
            if isinstance(value, str):
                return value.strip()
            if isinstance(value, int | float) and not isinstance(value, bool):
                return str(value)
            return ""
    return ""


# ---- orders -----------------------------------------------------------------------------------------------


def parse_order(raw: Any, context: OrderContext) -> StoreOrder:
    """An order record as a StoreOrder; UnreadableRecordError when it cannot be read whole."""
    order_id = record_id(raw)
    if order_id is None or not isinstance(raw, Mapping):
        raise UnreadableRecordError(PLATFORM, "an order without a usable id")
    placed_at = gmt_datetime(raw.get("date_created_gmt"))
    if placed_at is None:
        raise UnreadableRecordError(PLATFORM, f"order {order_id}: no readable date_created_gmt")
    try:
        status = _text(raw, "status").strip().lower()
        return StoreOrder(
            order_id=order_id,
            placed_at=placed_at,
            state=order_state(status, context.paid_statuses),
            holds=_holds(status),
            currency=_text(raw, "currency"),
            total=_amount(raw.get("total"), f"order {order_id} total", required=False),
            shipping_method=_shipping_method(raw),
            customer=_address(raw),
            lines=[_line(order_id, item) for item in _list(raw.get("line_items"))],
            comment=_text(raw, "customer_note").strip() or None,
            holds_stock=status in context.paid_statuses or status not in UNPAID_STATUSES,
        )
    except ValueError as exc:  # pydantic's ValidationError among them
        raise UnreadableRecordError(PLATFORM, f"order {order_id}: {exc}") from None


def order_state(status: str, paid_statuses: frozenset[str]) -> StoreOrderState:
    if status in CANCELLED_STATUSES:
        return StoreOrderState.CANCELLED
    if status in paid_statuses:
        return StoreOrderState.PAID
    if status == "completed":
        return StoreOrderState.FULFILLED
    return StoreOrderState.AWAITING_PAYMENT  # pending, on-hold, a draft, or a status nobody named as paid


def _holds(status: str) -> list[Hold]:
    if status != "on-hold":
        return []
    detail = "on hold in WooCommerce (a payment to confirm, or held by the merchant)"
    return [Hold(reason=HoldReason.ON_HOLD_IN_STORE, detail=detail)]


def _line(order_id: str, item: Mapping[str, Any]) -> OrderLine:
    line_id = record_id(item)
    if line_id is None:
        raise UnreadableRecordError(PLATFORM, f"order {order_id}: a line without an id")
    what = f"order {order_id} line {line_id}"
    quantity = _quantity(item.get("quantity"), what)
    return OrderLine(
        line_id=line_id,
        sku=_text(item, "sku").strip(),
        name=_text(item, "name"),
        quantity=quantity,
        unit_price=_unit_price(item, quantity, what),
    )


def _unit_price(item: Mapping[str, Any], quantity: int, what: str) -> Decimal:
    """The unit price with tax: (total + total_tax) / quantity, else `price` (without tax)."""
    total = _amount(item.get("total"), f"{what} total", required=False)
    tax = _amount(item.get("total_tax"), f"{what} total_tax", required=False)
    if total is not None and quantity > 0:
        return ((total + (tax or Decimal(0))) / quantity).quantize(_CENT)
    return _amount(item.get("price"), f"{what} price", required=True) or Decimal(0)


def _shipping_method(raw: Mapping[str, Any]) -> str | None:
    lines = _list(raw.get("shipping_lines"))
    if not lines:
        return None
    return (_text(lines[0], "method_title").strip() or _text(lines[0], "method_id").strip()) or None


def _address(raw: Mapping[str, Any]) -> Address:
    """The shipping address (the billing one when the order has none), with the billing e-mail."""
    billing = _mapping(raw.get("billing"))
    shipping = _mapping(raw.get("shipping"))
    where = shipping if _text(shipping, "address_1").strip() else billing
    name = " ".join(part for part in (_text(where, "first_name"), _text(where, "last_name")) if part.strip())
    return Address(
        name=name.strip(),
        company=_text(where, "company").strip() or None,
        address1=_text(where, "address_1").strip(),
        address2=_text(where, "address_2").strip() or None,
        zip=_text(where, "postcode").strip() or None,
        city=_text(where, "city").strip(),
        state=_text(where, "state").strip() or None,
        country_code=_text(where, "country").strip().upper(),
        email=_text(billing, "email").strip() or None,
        phone=_text(shipping, "phone").strip() or _text(billing, "phone").strip() or None,
    )


def order_line_items(raw: Mapping[str, Any]) -> list[tuple[str, str, int]]:
    """The order's lines as (line id, SKU, quantity), the unreadable ones left out (for a shipment's check)."""
    found = []
    for item in _list(raw.get("line_items")):
        line_id = record_id(item)
        quantity = item.get("quantity")
        if line_id and isinstance(quantity, int) and not isinstance(quantity, bool) and quantity > 0:
            found.append((line_id, _text(item, "sku").strip(), quantity))
    return found


# ---- products -----------------------------------------------------------------------------------------------


def is_variable(raw: Any) -> bool:
    return isinstance(raw, Mapping) and raw.get("type") == "variable"


def parse_product(raw: Any, currency: str | None) -> StoreProduct | None:
    """A simple product as a StoreProduct; None when it is excluded (`_nettivarasto_no_export` = yes) or is not
    a product a warehouse ships by itself (variable: its variations are; grouped, external)."""
    product_id = record_id(raw)
    if product_id is None or not isinstance(raw, Mapping):
        raise UnreadableRecordError(PLATFORM, "a product without a usable id")
    if raw.get("type") not in ("simple", None) or _excluded(raw, None):
        return None
    try:
        return _product({"product": product_id}, raw, None, currency)
    except ValueError as exc:  # pydantic's ValidationError among them
        raise UnreadableRecordError(PLATFORM, f"product {product_id}: {exc}") from None


def parse_variation(raw: Any, parent: Mapping[str, Any], currency: str | None) -> StoreProduct | None:
    """A variation of the variable product `parent` as a StoreProduct; None when it is excluded."""
    variation_id = record_id(raw)
    parent_id = record_id(parent)
    if variation_id is None or parent_id is None or not isinstance(raw, Mapping):
        raise UnreadableRecordError(PLATFORM, f"a variation of product {parent_id} without a usable id")
    if _excluded(raw, parent):
        return None
    try:
        return _product({"product": parent_id, "variation": variation_id}, raw, parent, currency)
    except ValueError as exc:  # pydantic's ValidationError among them
        raise UnreadableRecordError(PLATFORM, f"variation {variation_id}: {exc}") from None


def _excluded(raw: Mapping[str, Any], parent: Mapping[str, Any] | None) -> bool:
    return _inherited_meta(raw, parent, NO_EXPORT_META).lower() == "yes"


def _inherited_meta(raw: Mapping[str, Any], parent: Mapping[str, Any] | None, key: str) -> str:
    return meta_value(raw, key) or (meta_value(parent, key) if parent is not None else "")


def _product(
    ids: dict[str, str], raw: Mapping[str, Any], parent: Mapping[str, Any] | None, currency: str | None
) -> StoreProduct:
    what = f"variation {ids['variation']}" if "variation" in ids else f"product {ids['product']}"
    price = _amount(raw.get("price") or None, f"{what} price", required=False)
    return StoreProduct(
        store_ids=ids,
        sku=_text(raw, "sku").strip() or None,
        ean=_text(raw, "global_unique_id").strip() or _inherited_meta(raw, parent, EAN_META) or None,
        name=_name(raw, parent),
        description=_description(raw, parent),
        price=price,
        currency=currency if price is not None else None,
        image_url=_image(raw, parent),
        product_url=_text(raw, "permalink").strip() or (_text(parent, "permalink").strip() if parent else "") or None,
        active=_text(raw, "status") == "publish" and (parent is None or _text(parent, "status") == "publish"),
    )


def _name(raw: Mapping[str, Any], parent: Mapping[str, Any] | None) -> str:
    if parent is None:
        return _text(raw, "name").strip()
    options = [_text(attribute, "option").strip() for attribute in _list(raw.get("attributes"))]
    shown = ", ".join(option for option in options if option)
    base = _text(parent, "name").strip() or _text(raw, "name").strip()
    return f"{base} - {shown}" if shown else base


def _description(raw: Mapping[str, Any], parent: Mapping[str, Any] | None) -> str | None:
    for record in (raw, parent) if parent is not None else (raw,):
        for key in ("description", "short_description"):
            text = plain_text(_text(record, key))
            if text:
                return text
    return None


def _image(raw: Mapping[str, Any], parent: Mapping[str, Any] | None) -> str | None:
    own = _text(_mapping(raw.get("image")), "src") or _first_image(raw)
    return own or (_first_image(parent) if parent is not None else "") or None


def _first_image(raw: Mapping[str, Any]) -> str:
    images = _list(raw.get("images"))
    return _text(images[0], "src").strip() if images else ""


# ---- total readers of loose JSON --------------------------------------------------------------------------


def gmt_datetime(value: Any) -> datetime | None:
    """A `date_*_gmt` field (ISO 8601 without an offset, in UTC) as an aware datetime."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _text(raw: Mapping[str, Any] | None, key: str) -> str:
    value = raw.get(key) if raw is not None else None
    return value if isinstance(value, str) else ""


def _amount(value: Any, what: str, *, required: bool) -> Decimal | None:
    return numbers.amount(PLATFORM, value, what, required=required, blank_is_missing=True)


def _quantity(value: Any, what: str) -> int:
    return numbers.quantity(PLATFORM, value, what)
