"""One run of a scheduled flow for one integration: under the flow's lock, from the cursor, recorded in the cursor.

The cursor records every run, a failed one included (its error, the watermark unmoved), so the state of each
merchant's flows is visible; only the run itself decides how far the watermark may move.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from aws_lambda_powertools import Logger

from ogosync.models import Cursor, Flow
from ogosync.ports import StateRepository
from ogosync.timeutil import Clock

T = TypeVar("T")
logger = Logger(service="ogosync", child=True)


@dataclass(frozen=True)
class RunRecord:
    """What a run leaves in its cursor."""

    watermark: datetime | None
    counts: Mapping[str, int] = field(default_factory=dict)
    error: str | None = None
    cursor_fields: Mapping[str, Any] = field(default_factory=dict)  # other Cursor fields the run moves


def save_run(state: StateRepository, cursor: Cursor, started: datetime, ended: datetime, record: RunRecord) -> Cursor:
    return state.save_cursor(
        cursor.model_copy(
            update={
                "watermark": record.watermark,
                "last_run_started": started,
                "last_run_ended": ended,
                "last_counts": dict(record.counts),
                "last_error": record.error,
                **record.cursor_fields,
            }
        )
    )


def failure_record(cursor: Cursor, error: Exception) -> RunRecord:
    """A failed run: the watermark stays, the error is recorded."""
    return RunRecord(cursor.watermark, error=f"{type(error).__name__}: {error}")


def locked_run(
    state: StateRepository,
    clock: Clock,
    lock: tuple[str, Flow, str, int],
    run: Callable[[Cursor, datetime], T],
    record: Callable[[T], RunRecord],
    record_failure: Callable[[Cursor, Exception], RunRecord] = failure_record,
) -> T | None:
    """Run `run(cursor, started)` under the lock (integration id, flow, owner, TTL seconds) and record it.

    None when another run of the same flow and integration holds the lock. An exception from `run` is recorded
    (by `record_failure`) as the run's error and raised again, so the queue retries the job.
    """
    integration_id, flow, owner, ttl_seconds = lock
    started = clock()
    if not state.acquire_lock(integration_id, flow, owner, started, ttl_seconds):
        logger.info("another run of this flow holds its lock; this one is skipped", extra={"flow": flow})
        return None
    try:
        cursor = state.get_cursor(integration_id, flow)
        try:
            result = run(cursor, started)
        except Exception as exc:
            save_run(state, cursor, started, clock(), record_failure(cursor, exc))
            raise
        save_run(state, cursor, started, clock(), record(result))
        return result
    finally:
        state.release_lock(integration_id, flow, owner)
