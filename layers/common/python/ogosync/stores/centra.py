"""Centra Order API (REST plugin) adapter.

Facts from ../shared/reference/centra-api.md §1. Uncertain points, coded defensively:
- the value format of `orderStatus` (a name or a number) is undocumented: both are accepted;
- the sort order of GET /orders is undocumented: every page up to a short one is read, whatever the order;
- HTTP codes for a bad API key are undocumented: 401 and 403 are both taken as refused credentials;
- application errors arrive as HTTP 200 with {"status": "no", "msg": ...}.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from pydantic import ValidationError

from ogosync.errors import OgosyncError, PlatformError, RejectedByPlatformError
from ogosync.http import HttpClient, RateLimiter, RetryPolicy
from ogosync.models import Address, Hold, HoldReason, OrderLine, StoreOrder, StoreOrderState, UnreadableOrder
from ogosync.timeutil import Clock, from_local_naive, local_lower_bound, utc_now

PLATFORM = "centra"
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
PAGE_SIZE = 100

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


def _text(raw: Mapping[str, Any], key: str) -> str:
    value = raw.get(key)
    return "" if value is None else str(value).strip()


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _flag(raw: Mapping[str, Any], key: str) -> bool:
    return str(raw.get(key) or "0").strip().lower() not in ("0", "false", "")


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    return str(body.get("msg") or body) if isinstance(body, dict) else str(body)[:300]


def parse_order(raw: Mapping[str, Any], zone: ZoneInfo) -> StoreOrder:
    """A Centra order (GET /orders element) as a StoreOrder."""
    status = _text(raw, "orderStatus")
    state = _STATES.get(status.lower()) if status else _state_without_status(raw)
    if state is None:
        raise RejectedByPlatformError(PLATFORM, f"order {raw.get('orderId')}: unknown orderStatus {status!r}")
    holds: list[Hold] = []
    if _flag(raw, "waitingForPayment"):
        state = StoreOrderState.AWAITING_PAYMENT if state is StoreOrderState.PAID else state
    if state is StoreOrderState.AWAITING_PAYMENT:
        holds.append(Hold(reason=HoldReason.AWAITING_PAYMENT, detail="Centra: waiting for payment"))
    if _flag(raw, "hold"):
        holds.append(Hold(reason=HoldReason.ON_HOLD_IN_STORE, detail="Centra: order is on hold"))
    if _flag(raw, "suspect"):
        holds.append(Hold(reason=HoldReason.SUSPECTED_FRAUD, detail="Centra: order is marked suspect"))
    return StoreOrder(
        order_id=_text(raw, "orderId"),
        placed_at=_required_placed_at(raw, zone),
        state=state,
        holds=holds,
        currency=_text(raw, "orderCurrency"),
        total=_decimal(raw.get("grandTotalValue")),
        shipping_method=_text(raw, "shippingList") or None,
        pickup_point=_text(raw, "shipwallet_pickup") or None,
        customer=_delivery_address(raw),
        lines=[_line(line) for line in raw.get("products") or [] if not line.get("isBundle")],
        comment=_text(raw, "otherComment") or None,
    )


def _required_placed_at(raw: Mapping[str, Any], zone: ZoneInfo) -> datetime:
    placed_at = _placed_at(raw, zone)
    if placed_at is None:
        raise RejectedByPlatformError(PLATFORM, f"order {raw.get('orderId')}: unreadable orderDate")
    return placed_at


def _placed_at(raw: Mapping[str, Any], zone: ZoneInfo) -> datetime | None:
    text = _text(raw, "orderDate")
    for layout in (DATE_FORMAT, "%Y-%m-%d"):
        try:
            return from_local_naive(datetime.strptime(text, layout), zone)
        except ValueError:
            continue
    return None


def _state_without_status(raw: Mapping[str, Any]) -> StoreOrderState:
    # The docs' example omits orderStatus. The plugin returns only the statuses the merchant selected, so an order
    # without one is taken as paid unless a shipment of it has already left.
    shipped = any(s.get("shippedDate") for s in raw.get("shipments") or [])
    return StoreOrderState.FULFILLED if shipped else StoreOrderState.PAID


def _delivery_address(raw: Mapping[str, Any]) -> Address:
    name = _text(raw, "deliveryName") or " ".join(
        part for part in (_text(raw, "deliveryFirstName"), _text(raw, "deliveryLastName")) if part
    )
    return Address(
        name=name,
        company=_text(raw, "deliveryCompany") or None,
        address1=_text(raw, "deliveryAddress"),
        address2=_text(raw, "deliveryCoaddress") or None,
        zip=_text(raw, "deliveryZipcode") or None,
        city=_text(raw, "deliveryCity"),
        state=_text(raw, "deliveryState") or None,
        country_code=_text(raw, "deliveryCountry").upper(),
        email=_text(raw, "deliveryEmail") or _text(raw, "billingEmail") or None,
        phone=_text(raw, "deliveryCell") or _text(raw, "deliveryTele") or _text(raw, "billingCell") or None,
    )


def _line(raw: Mapping[str, Any]) -> OrderLine:
    name = " / ".join(part for part in (_text(raw, "name"), _text(raw, "variant"), _text(raw, "size")) if part)
    return OrderLine(
        line_id=_text(raw, "lineId"),
        sku=centra_sku(_text(raw, "sku"), _text(raw, "variantSku"), _text(raw, "sizeSku"), _text(raw, "ean")),
        name=name,
        quantity=int(raw.get("qty") or 0),
        unit_price=_decimal(raw.get("price")) or Decimal(0),
        vat_percentage=_decimal(raw.get("taxPercent")),
    )


class CentraStore:
    """A Centra store reached through its Order API plugin (Base URL + secret API key)."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        zone: ZoneInfo,
        *,
        clock: Clock = utc_now,
        page_size: int = PAGE_SIZE,
        http: HttpClient | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._zone = zone
        self._clock = clock
        self._page_size = page_size
        self._http = http or HttpClient(
            PLATFORM,
            base_url,
            headers={"API-Authorization": api_key, "Accept": "application/json"},
            rate_limiter=RateLimiter(rate_per_s=10, burst=20),
            error_message=_error_message,
            retry=retry,
        )

    def close(self) -> None:
        self._http.close()

    def orders_placed_since(self, since: datetime) -> Iterator[StoreOrder | UnreadableOrder]:
        newer_than = local_lower_bound(since, self._clock(), self._zone).strftime(DATE_FORMAT)
        offset = 0
        while True:
            page = self._get_orders({"newer_than": newer_than, "limit": self._page_size, "offset": offset})
            for raw in page:
                yield self._read(raw)
            if len(page) < self._page_size:
                return
            offset += len(page)

    def check_access(self) -> None:
        """One cheap authenticated read (GET /orders limit=1): raises when the Base URL or the API key is wrong."""
        self._get_orders({"limit": 1})

    def get_order(self, order_id: str) -> StoreOrder | UnreadableOrder | None:
        try:
            page = self._get_orders({"order": order_id})
        except RejectedByPlatformError as exc:
            if "does not exist" in exc.detail:
                return None
            raise
        matching = [raw for raw in page if _text(raw, "orderId") == order_id]
        return self._read(matching[0]) if matching else None

    def _read(self, raw: Mapping[str, Any]) -> StoreOrder | UnreadableOrder:
        """Parse one order; one that cannot be parsed is returned as such, so it cannot stop the others."""
        try:
            return parse_order(raw, self._zone)
        except (OgosyncError, ValidationError, ValueError, TypeError) as exc:
            problem = exc.detail if isinstance(exc, PlatformError) else f"{type(exc).__name__}: {exc}"
            return UnreadableOrder(
                order_id=_text(raw, "orderId") or "?", placed_at=_placed_at(raw, self._zone), problem=problem[:500]
            )

    def _get_orders(self, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        body = self._ok(self._http.request("GET", "orders", params=params))
        orders = body.get("orders")
        if not isinstance(orders, list):
            raise PlatformError(PLATFORM, "GET /orders answered without an orders list")
        return orders

    @staticmethod
    def _ok(response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError as exc:
            raise PlatformError(PLATFORM, f"answer is not JSON (HTTP {response.status_code})") from exc
        if not isinstance(body, dict):
            raise PlatformError(PLATFORM, "answer is not a JSON object")
        if body.get("status") != "ok":
            raise RejectedByPlatformError(PLATFORM, str(body.get("msg") or "request refused"), response.status_code)
        return body
