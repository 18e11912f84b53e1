"""Amounts and quantities in a store's JSON, read the one way every adapter reads them: an amount is a finite
decimal under 10^12 (a string or a JSON number), a quantity an integer from 0 to under a million; anything else is
our own UnreadableRecordError naming the platform and the field, so the order is held, never guessed."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from ogosync.errors import UnreadableRecordError

AMOUNT_LIMIT = Decimal(10) ** 12  # an amount (or a count) beyond these is garbage, not an order to ship
QUANTITY_LIMIT = 1_000_000


def amount(platform: str, value: Any, what: str, *, required: bool, blank_is_missing: bool = False) -> Decimal | None:
    """The amount; None when it is missing and not `required` (missing: None, or "" with `blank_is_missing`)."""
    missing = value is None or (blank_is_missing and value == "")
    if missing and not required:
        return None
    try:
        found = Decimal(str(value)) if isinstance(value, str | int | float) and not isinstance(value, bool) else None
    except InvalidOperation:
        found = None
    if found is None or not found.is_finite() or abs(found) >= AMOUNT_LIMIT:
        raise UnreadableRecordError(platform, f"{what}: {value!r} is not an amount")
    return found


def quantity(platform: str, value: Any, what: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < QUANTITY_LIMIT:
        return value
    raise UnreadableRecordError(platform, f"{what}: {value!r} is not a quantity")
