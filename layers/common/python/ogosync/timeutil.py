"""Time at the edges: some platforms (Centra's Order API) speak naive local time; inside ogosync all is aware UTC."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def from_local_naive(value: datetime, zone: ZoneInfo) -> datetime:
    """A naive wall-clock time in `zone` as aware UTC. In a repeated hour the earlier instant is taken (fold=0),
    which errs towards re-reading rather than skipping."""
    return value.replace(tzinfo=zone, fold=0).astimezone(UTC)


def local_lower_bound(since: datetime, now: datetime, zone: ZoneInfo) -> datetime:
    """The naive local time to filter "newer than" on, so that every instant after `since` is included.

    Wall-clock time runs backwards when clocks fall back (a local hour repeats). If that happened between `since`
    and `now`, an order placed after `since` can carry an earlier wall time: move the bound back by the jump.
    """
    local_since = since.astimezone(zone)
    offset_then = local_since.utcoffset() or timedelta(0)
    offset_now = now.astimezone(zone).utcoffset() or timedelta(0)
    jump_back = max(timedelta(0), offset_then - offset_now)
    return local_since.replace(tzinfo=None) - jump_back
