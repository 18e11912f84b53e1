"""JSON for the wire with money as exact numbers.

The standard encoder knows no Decimal, and turning one into a float first can add binary noise in the last digits;
pydantic's JSON mode writes a Decimal as a string. myOGO's API examples show amounts as numbers (docs/api/myogo.md,
"Money"), so a Decimal is written here as its own decimal text, digit for digit: Decimal("19.99") -> 19.99.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any


def dumps(value: Any) -> bytes:
    """UTF-8 JSON of dicts, lists, strings, numbers (Decimal included), booleans and None."""
    return _encode(value).encode()


def _encode(value: Any) -> str:
    if isinstance(value, Decimal):
        return _number(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(key))}:{_encode(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_encode(item) for item in value) + "]"
    return json.dumps(value, allow_nan=False)


def _number(value: Decimal) -> str:
    if not value.is_finite():
        raise ValueError(f"{value} has no JSON number")
    return format(value, "f")
