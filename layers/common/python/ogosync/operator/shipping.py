"""Shipping methods: the store's methods seen in recent orders, joined with their myOGO shipping codes (SHIP#)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from itertools import islice

from ogosync.errors import PlatformError
from ogosync.models import DEFAULT_SHIPPING_KEY, Integration, StoreOrder
from ogosync.operator.deps import OperatorDeps
from ogosync.operator.errors import OperatorError, not_found
from ogosync.operator.schemas import ShippingMapping, ShippingMappingIn, ShippingMethod, ShippingMethods
from ogosync.ports import WarehouseChoices

LOOKBACK_DAYS = 30
MAX_ORDERS_READ = 500  # enough to see every method a store uses, few enough to answer in seconds


def shipping_methods(integration_id: str, deps: OperatorDeps) -> ShippingMethods:
    integration = deps.integration(integration_id)
    mapping = deps.state.shipping_map(integration.id)
    seen: Counter[str] = Counter()
    read, store_error = 0, None
    try:
        since = deps.clock() - timedelta(days=LOOKBACK_DAYS)
        for order in islice(deps.store(integration).orders_placed_since(since), MAX_ORDERS_READ):
            read += 1
            if isinstance(order, StoreOrder) and order.shipping_method:
                seen[order.shipping_method] += 1
    except PlatformError as exc:
        store_error = str(exc)
    codes, codes_error = _listed_codes(integration, deps)
    default = mapping.get(DEFAULT_SHIPPING_KEY)
    names = sorted(set(seen) | set(mapping) - {DEFAULT_SHIPPING_KEY}, key=lambda name: (-seen[name], name))
    return ShippingMethods(
        integration_id=integration.id,
        default_code=default,
        methods=[
            ShippingMethod(
                store_method=name,
                myogo_code=mapping.get(name, default),
                by_default=name not in mapping and default is not None,
                orders_seen=seen[name],
            )
            for name in names
        ],
        orders_read=read,
        store_error=store_error,
        myogo_codes=None if codes is None else sorted(codes),
        myogo_codes_error=codes_error,
    )


def _listed_codes(integration: Integration, deps: OperatorDeps) -> tuple[frozenset[str] | None, str | None]:
    """myOGO's shipping codes to choose from, or why there are none: a myOGO outage leaves the store's methods
    readable (saving a mapping then waits for myOGO, which must check the code)."""
    try:
        return _shipping_codes(integration, deps), None
    except OperatorError as exc:
        return None, exc.message


def set_shipping_mapping(integration_id: str, request: ShippingMappingIn, deps: OperatorDeps) -> ShippingMapping:
    """Store the mapping once myOGO's list of the merchant's shipping codes has the code (422 naming the codes it
    has). An account that lists no codes cannot be checked: the mapping is stored and said to be unchecked."""
    integration = deps.integration(integration_id)
    codes = _shipping_codes(integration, deps)
    if codes is not None and request.myogo_code not in codes:
        raise OperatorError(
            422,
            "unknown_shipping_code",
            f"myogo_code: myOGO has no shipping method {request.myogo_code!r} enabled for this merchant: "
            f"the codes are {', '.join(sorted(codes))}",
            "myogo_code",
        )
    deps.state.put_shipping_mapping(integration.id, request.store_method, request.myogo_code)
    return ShippingMapping(
        integration_id=integration.id,
        store_method=request.store_method,
        myogo_code=request.myogo_code,
        checked=codes is not None,
    )


def _shipping_codes(integration: Integration, deps: OperatorDeps) -> frozenset[str] | None:
    warehouse = deps.warehouse(integration)
    if not isinstance(warehouse, WarehouseChoices):
        return None
    try:
        return warehouse.shipping_codes()
    except PlatformError as exc:
        raise OperatorError(
            503, "myogo_unavailable", f"the shipping code could not be checked with myOGO ({exc}): try again"
        ) from None


def delete_shipping_mapping(integration_id: str, store_method: str, deps: OperatorDeps) -> None:
    integration = deps.integration(integration_id)
    if not deps.config.delete_shipping_mapping(integration.id, store_method):
        raise not_found("unknown_shipping_mapping", f"no mapping for store method {store_method!r}")
