"""Centra's records read into ogosync's models: orders (total: anything else is an UnreadableRecordError) and
products. Facts, with their sources, in docs/api/centra.md; the uncertain points are listed in client.py."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from ogosync.errors import (
    UnreadableRecordError,
)
from ogosync.models import (
    Address,
    Hold,
    HoldReason,
    OrderLine,
    StoreOrder,
    StoreOrderState,
    StoreProduct,
)
from ogosync.stores.numbers import AMOUNT_LIMIT, QUANTITY_LIMIT
from ogosync.timeutil import from_local_naive

PLATFORM = "centra"
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
_AMOUNT_DECIMALS = 12

# Order statuses by name and by id (reference §4). "shipped" is the GraphQL name of Completed.
_STATES: dict[str, StoreOrderState] = {
    "incomplete": StoreOrderState.AWAITING_PAYMENT,
    "0": StoreOrderState.AWAITING_PAYMENT,
    "pending": StoreOrderState.PAID,  # payment authorised; Centra confirms before it ships
    "1": StoreOrderState.PAID,
    "confirmed": StoreOrderState.PAID,
    "2": StoreOrderState.PAID,
    "processing": StoreOrderState.PAID,
    "3": StoreOrderState.PAID,
    "completed": StoreOrderState.FULFILLED,
    "shipped": StoreOrderState.FULFILLED,
    "4": StoreOrderState.FULFILLED,
    "archived": StoreOrderState.FULFILLED,
    "5": StoreOrderState.FULFILLED,
    "cancelled": StoreOrderState.CANCELLED,
    "6": StoreOrderState.CANCELLED,
}


def centra_sku(sku: str, variant_sku: str, size_sku: str, ean: str) -> str:
    """The warehouse code of a Centra size: product + variant + size SKU, in that order.

    Where the variant and size SKUs are empty the product SKU does not tell sizes apart, so the EAN is the code
    (reference §1.3, §1.9).
    """
    if variant_sku or size_sku:
        return f"{sku}{variant_sku}{size_sku}"
    return ean or sku


def _field(raw: Mapping[str, Any], key: str) -> str:
    """A text field of an order. None and false (PHP's "no value") are empty; an object or a list is unreadable."""
    value = raw.get(key)
    if value is None or value is False:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and value is not True:
        return str(value)
    raise UnreadableRecordError(PLATFORM, f"{key} is not text: {_shown(value)}")


def _text(raw: Mapping[str, Any], key: str) -> str:
    """A text field of a product or stock row, where a value of another type is shown as text (orders are strict,
    see _field: they ship)."""
    value = raw.get(key)
    return "" if value is None else str(value).strip()


def _loose_decimal(value: Any) -> Decimal | None:
    try:
        amount = Decimal(str(value)) if value not in (None, "") else None
    except InvalidOperation:
        return None
    return amount if amount is not None and amount.is_finite() else None


def _shown(value: Any) -> str:
    return repr(value)[:60]


def _decimal(raw: Mapping[str, Any], key: str) -> Decimal | None:
    """An amount; absent or empty is None, anything that is not a finite number is unreadable."""
    text = _field(raw, key)
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not (value.is_finite() and abs(value) < AMOUNT_LIMIT and value == round(value, _AMOUNT_DECIMALS)):
        raise UnreadableRecordError(PLATFORM, f"{key} is not an amount: {_shown(raw.get(key))}")
    return value


def _quantity(raw: Mapping[str, Any], key: str) -> int:
    """A count of units: a whole number >= 0, also written as "2" or 2.0; anything else is unreadable."""
    amount = _decimal(raw, key)
    if amount is None or not 0 <= amount < QUANTITY_LIMIT or amount != amount.to_integral_value():
        raise UnreadableRecordError(PLATFORM, f"{key} is not a whole number of units: {_shown(raw.get(key))}")
    return int(amount)


def _flag(raw: Mapping[str, Any], key: str) -> bool:
    # Any value but an empty, 0 or false one is taken as set: a garbled flag holds the order rather than frees it.
    return str(raw.get(key) or "0").strip().lower() not in ("0", "false", "")


def _objects(raw: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    """A list of JSON objects. PHP's json_encode makes an object of a list whose keys are not 0..n-1 (a filtered
    array): its values are the list. An element that is not an object makes the whole record unreadable."""
    value = raw.get(key)
    if value is None:
        return []
    elements = list(value.values()) if isinstance(value, dict) else value
    if not isinstance(elements, list):
        raise UnreadableRecordError(PLATFORM, f"{key} is not a list: {_shown(value)}")
    for position, element in enumerate(elements, start=1):
        if not isinstance(element, dict):
            raise UnreadableRecordError(PLATFORM, f"{key} element {position} is not an object: {_shown(element)}")
    return elements


def _date_set(raw: Mapping[str, Any], key: str) -> bool:
    """Whether a Centra date field holds a date. Centra writes "0000-00-00 00:00:00" (MySQL's zero date), "" or
    null for "not set" (docs/api/centra.md, "Zero dates"); every such check in this adapter goes through here."""
    text = _field(raw, key)
    return bool(text) and not set(text) <= set("0-:T ")


def order_id_of(raw: Any) -> str | None:
    """The order id of a GET /orders element; None when it has no usable one (not an object, no id, not text)."""
    if not isinstance(raw, dict):
        return None
    value = raw.get("orderId")
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return str(value).strip() or None


def parse_order(raw: Any, zone: ZoneInfo) -> StoreOrder:
    """A Centra order (GET /orders element) as a StoreOrder; UnreadableRecordError for anything else."""
    order_id = order_id_of(raw)
    if order_id is None:
        raise UnreadableRecordError(PLATFORM, f"not an order with an orderId: {_shown(raw)}")
    try:
        return _parse_order(order_id, raw, zone)
    except ValidationError as exc:  # a model refused a value the checks above let through
        raise UnreadableRecordError(PLATFORM, f"order {order_id}: {exc.error_count()} invalid values") from exc


def _parse_order(order_id: str, raw: Mapping[str, Any], zone: ZoneInfo) -> StoreOrder:
    status = _field(raw, "orderStatus")
    state = _STATES.get(status.lower()) if status else _state_without_status(raw)
    if state is None:
        raise UnreadableRecordError(PLATFORM, f"order {order_id}: unknown orderStatus {status!r}")
    holds: list[Hold] = []
    if _flag(raw, "waitingForPayment"):
        state = StoreOrderState.AWAITING_PAYMENT if state is StoreOrderState.PAID else state
    if state is StoreOrderState.AWAITING_PAYMENT:
        holds.append(Hold(reason=HoldReason.AWAITING_PAYMENT, detail="Centra: waiting for payment"))
    if _flag(raw, "hold"):
        holds.append(Hold(reason=HoldReason.ON_HOLD_IN_STORE, detail="Centra: order is on hold"))
    if _flag(raw, "suspect"):
        holds.append(Hold(reason=HoldReason.SUSPECTED_FRAUD, detail="Centra: order is marked suspect"))
    placed_at = _placed_at(raw, zone)
    if placed_at is None:
        raise UnreadableRecordError(PLATFORM, f"order {order_id}: unreadable orderDate")
    try:
        lines = [_line(line) for line in _objects(raw, "products") if not _flag(line, "isBundle")]
    except UnreadableRecordError as exc:
        raise UnreadableRecordError(PLATFORM, f"order {order_id}: {exc.detail}") from exc
    return StoreOrder(
        order_id=order_id,
        placed_at=placed_at,
        state=state,
        holds=holds,
        currency=_field(raw, "orderCurrency"),
        total=_decimal(raw, "grandTotalValue"),
        shipping_method=_field(raw, "shippingList") or None,
        pickup_point=_field(raw, "shipwallet_pickup") or None,
        customer=_delivery_address(raw),
        lines=lines,
        comment=_field(raw, "otherComment") or None,
    )


def _placed_at(raw: Mapping[str, Any], zone: ZoneInfo) -> datetime | None:
    """orderDate as aware UTC; None when it is no date (whatever its JSON type)."""
    value = raw.get("orderDate")
    text = value.strip() if isinstance(value, str) else ""
    for layout in (DATE_FORMAT, "%Y-%m-%d"):
        try:
            return from_local_naive(datetime.strptime(text, layout), zone)
        except (ValueError, OverflowError):  # year 1 or 9999 can leave the range of datetime in UTC
            continue
    return None


def _state_without_status(raw: Mapping[str, Any]) -> StoreOrderState:
    # The docs' example omits orderStatus. The plugin returns only the statuses the merchant selected, so an order
    # without one is taken as paid unless a shipment of it has already left.
    shipped = any(_date_set(shipment, "shippedDate") for shipment in _objects(raw, "shipments"))
    return StoreOrderState.FULFILLED if shipped else StoreOrderState.PAID


def _delivery_address(raw: Mapping[str, Any]) -> Address:
    name = _field(raw, "deliveryName") or " ".join(
        part for part in (_field(raw, "deliveryFirstName"), _field(raw, "deliveryLastName")) if part
    )
    return Address(
        name=name,
        company=_field(raw, "deliveryCompany") or None,
        address1=_field(raw, "deliveryAddress"),
        address2=_field(raw, "deliveryCoaddress") or None,
        zip=_field(raw, "deliveryZipcode") or None,
        city=_field(raw, "deliveryCity"),
        state=_field(raw, "deliveryState") or None,
        country_code=_field(raw, "deliveryCountry").upper(),
        email=_field(raw, "deliveryEmail") or _field(raw, "billingEmail") or None,
        phone=_field(raw, "deliveryCell") or _field(raw, "deliveryTele") or _field(raw, "billingCell") or None,
    )


def _line(raw: Mapping[str, Any]) -> OrderLine:
    name = " / ".join(part for part in (_field(raw, "name"), _field(raw, "variant"), _field(raw, "size")) if part)
    return OrderLine(
        line_id=_field(raw, "lineId"),
        sku=centra_sku(_field(raw, "sku"), _field(raw, "variantSku"), _field(raw, "sizeSku"), _field(raw, "ean")),
        name=name,
        quantity=_quantity(raw, "qty"),
        unit_price=_decimal(raw, "price") or Decimal(0),
        vat_percentage=_decimal(raw, "taxPercent"),
    )


def parse_product(raw: Mapping[str, Any], pricelist: str | None) -> StoreProduct:
    """A GET /products row (one size) as a StoreProduct, priced from `pricelist` (its name or id; else the first)."""
    sku = centra_sku(_text(raw, "sku"), _text(raw, "variantSku"), _text(raw, "sizeSku"), _text(raw, "ean"))
    price = _price(raw.get("prices"), pricelist)
    images = raw.get("images") or []
    return StoreProduct(
        store_ids={name: _text(raw, name) for name in ("productId", "variantId", "stockItemId") if _text(raw, name)},
        sku=sku or None,
        ean=_text(raw, "ean") or None,
        name=" / ".join(part for part in (_display_name(raw), _text(raw, "variant"), _text(raw, "size")) if part),
        description=_text(raw, "description") or None,
        price=_loose_decimal(price.get("price")) if price else None,
        currency=(_text(price, "currency") or None) if price else None,
        image_url=_image_url(images[0]) if isinstance(images, list) and images else None,
        active=_flag(raw, "active") if "active" in raw else True,
    )


def _display_name(raw: Mapping[str, Any]) -> str:
    return _text(raw, "name") or _text(raw, "product")  # the external name, else the internal one


def _price(prices: Any, pricelist: str | None) -> Mapping[str, Any] | None:
    rows = [row for row in prices or [] if isinstance(row, dict)] if isinstance(prices, list) else []
    if pricelist is None:
        return rows[0] if rows else None
    return next((row for row in rows if pricelist in (_text(row, "pricelist"), _text(row, "id"))), None)


def _image_url(image: Any) -> str | None:
    # The reference shows images as a list of CDN URLs; an object with a url is read too, in case (uncertain).
    url = image.get("url") if isinstance(image, dict) else image
    return str(url) if url else None
