"""The events a merchant hears about, as the flows record them: a held order, a product myOGO refused, a payment
the store could not capture, credentials a platform refused. Each is keyed by (integration, kind, subject), so
`Notices.record` keeps it once however often a flow meets it (docs/contracts.md, "Notices").

A summary is ogosync's own words plus the reason a platform gave, cut short and with anything that looks like an
e-mail address, a URL or a token taken out (`redact`): the reasons come from outside and could carry anything.
Uncertain: what a platform puts in its messages; the redaction is a net, the texts are chosen not to need one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from ogosync.errors import AuthenticationError
from ogosync.models import Hold, Integration, Notice, NoticeKind
from ogosync.ports import Notices
from ogosync.timeutil import Clock

DETAIL_LIMIT = 240
NAME_LIMIT = 80  # an order id or a SKU as a message shows it
SUBJECT_LIMIT = 200  # the key part of an event (the item's sort key holds at most 1,024 bytes)
REDACTED = "[…]"
_EMAIL = re.compile(r"\S+@\S+")
_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)
_TOKEN = re.compile(r"[A-Za-z0-9_+/=.-]{24,}")  # keys, tokens, hashes: nothing a merchant reads is this long


REDACTED_PATTERNS = (_EMAIL, _URL, _TOKEN)


def redact(text: str, limit: int = DETAIL_LIMIT) -> str:
    cleaned = _TOKEN.sub(REDACTED, _URL.sub(REDACTED, _EMAIL.sub(REDACTED, " ".join(text.split()))))
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def subject(*parts: str) -> str:
    """The event's key: its parts as they are when short, else a head of them and a digest of the whole, so that
    any order id or SKU a store sends gives one stable key."""
    text = "#".join(parts)
    if len(text) <= SUBJECT_LIMIT:
        return text
    return f"{text[: SUBJECT_LIMIT - 17]}#{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def order_held(integration: Integration, order_id: str, holds: Sequence[Hold], at: datetime) -> Notice:
    reasons = "; ".join(f"{hold.reason}: {hold.detail}" for hold in holds)
    return Notice(
        integration_id=integration.id,
        kind=NoticeKind.ORDER_HELD,
        subject=subject(order_id),
        summary=f"Order {redact(order_id, NAME_LIMIT)} is held and not sent to the warehouse: {redact(reasons)}",
        at=at,
    )


def product_refused(integration: Integration, sku: str, content_hash: str, message: str, at: datetime) -> Notice:
    """Keyed by the refused content too: the same product refused again after a change is a new event."""
    return Notice(
        integration_id=integration.id,
        kind=NoticeKind.PRODUCT_REFUSED,
        subject=subject(sku, content_hash[:16]),
        summary=f"Product {redact(sku, NAME_LIMIT)} was refused by myOGO: {redact(message)}",
        at=at,
    )


def capture_failed(integration: Integration, order_id: str, at: datetime) -> Notice:
    return Notice(
        integration_id=integration.id,
        kind=NoticeKind.CAPTURE_FAILED,
        subject=subject(order_id),
        summary=(
            f"Order {redact(order_id, NAME_LIMIT)} was shipped by the warehouse, but the store could not capture "
            "its payment, so the store has no shipment for it (a possible fraud): please look at it in the store."
        ),
        at=at,
    )


def credentials_refused(integration: Integration, party: str, status: int | None, at: datetime) -> Notice:
    """Once per side and local day while they stay refused (a fix and a new failure the next day is told again).
    The platform's message is left out: a refused log-in's answer may name the account."""
    day = at.astimezone(integration.zone).date().isoformat()
    side = "myOGO" if party == "myogo" else f"the store ({party})"
    answer = f" (HTTP {status})" if status else ""
    return Notice(
        integration_id=integration.id,
        kind=NoticeKind.CREDENTIALS_REFUSED,
        subject=subject(party, day),
        summary=f"The credentials for {side} were refused{answer}: no work for this side is done until they are "
        "renewed in ogosync.",
        at=at,
    )


@contextmanager
def telling_refused_credentials(integration: Integration, notices: Notices, clock: Clock) -> Iterator[None]:
    """Around any run or job of an integration: a platform refusing its credentials (a 401/403, a refused log-in)
    is recorded for the merchant, then raised on as before."""
    try:
        yield
    except AuthenticationError as exc:
        notices.record(credentials_refused(integration, exc.platform, exc.status, clock()))
        raise
