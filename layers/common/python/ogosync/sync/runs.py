"""What every scheduled flow records of a run in its cursor."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from ogosync.models import Cursor
from ogosync.ports import StateRepository


def record_run(
    state: StateRepository,
    cursor: Cursor,
    *,
    started: datetime,
    ended: datetime,
    counts: Mapping[str, int],
    watermark: datetime | None,
    error: str | None,
) -> Cursor:
    """Save the run's start, end, counts and error, and the watermark (the caller moves it only past success)."""
    return state.save_cursor(
        cursor.model_copy(
            update={
                "watermark": watermark,
                "last_run_started": started,
                "last_run_ended": ended,
                "last_counts": dict(counts),
                "last_error": error,
            }
        )
    )
