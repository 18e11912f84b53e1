"""What myOGO shipped, matched to a store order's lines by SKU: shared by the store adapters' shipment pushes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

from ogosync.errors import ShipmentMismatchError
from ogosync.models import ShippedLine


class StoreLine(NamedTuple):
    line_id: str
    sku: str
    quantity: int  # units of the line still free to ship


def match_lines(order_id: str, lines: Sequence[StoreLine], shipped: Sequence[ShippedLine]) -> dict[str, int]:
    """The store's lines (line id -> quantity) of what myOGO shipped; ShipmentMismatchError when myOGO shipped
    something the lines do not have, or listed nothing."""
    if not shipped:
        raise ShipmentMismatchError(f"order {order_id}: myOGO lists no shipped lines")
    free = {line.line_id: line.quantity for line in lines}
    taken: Counter[str] = Counter()
    missing = []
    for item in shipped:
        left = item.quantity
        for line in lines:
            take = min(left, free[line.line_id]) if line.sku == item.code else 0
            free[line.line_id] -= take
            taken[line.line_id] += take
            left -= take
        if left:
            missing.append(f"{left} x {item.code}")
    if missing:
        raise ShipmentMismatchError(f"order {order_id}: myOGO shipped {', '.join(missing)} not in the store order")
    return {line_id: quantity for line_id, quantity in taken.items() if quantity}
