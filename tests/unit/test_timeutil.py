"""Naive local time at the edges: conversions and the daylight-saving rule of the "newer than" bound."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from ogosync.timeutil import from_local_naive, local_lower_bound, utc_now

STOCKHOLM = ZoneInfo("Europe/Stockholm")
HELSINKI = ZoneInfo("Europe/Helsinki")
NEW_YORK = ZoneInfo("America/New_York")


def _naive_local(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


def test_utc_now_is_aware_utc() -> None:
    now = utc_now()
    assert now.tzinfo is not None
    assert now.utcoffset() == timedelta(0)


def test_from_local_naive_in_summer() -> None:
    assert from_local_naive(datetime(2026, 7, 1, 12, 0), STOCKHOLM) == datetime(2026, 7, 1, 10, 0, tzinfo=UTC)


def test_from_local_naive_in_winter() -> None:
    assert from_local_naive(datetime(2026, 1, 15, 12, 0), STOCKHOLM) == datetime(2026, 1, 15, 11, 0, tzinfo=UTC)


def test_from_local_naive_returns_utc() -> None:
    converted = from_local_naive(datetime(2026, 1, 15, 12, 0), HELSINKI)
    assert converted.tzinfo is UTC
    assert converted == datetime(2026, 1, 15, 10, 0, tzinfo=UTC)


def test_from_local_naive_in_the_repeated_hour_takes_the_earlier_instant() -> None:
    # On 2026-10-25 Stockholm's clocks go from 03:00 CEST back to 02:00 CET: 02:30 happens twice,
    # first at 00:30 UTC (CEST), then at 01:30 UTC (CET).
    converted = from_local_naive(datetime(2026, 10, 25, 2, 30), STOCKHOLM)
    assert converted == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_from_local_naive_ignores_a_fold_set_by_the_caller() -> None:
    converted = from_local_naive(datetime(2026, 10, 25, 2, 30, fold=1), STOCKHOLM)
    assert converted == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_local_lower_bound_across_the_fall_back_moves_back_by_the_jump() -> None:
    since = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST, before the clocks fall back at 01:00 UTC
    now = datetime(2026, 10, 25, 2, 30, tzinfo=UTC)  # 03:30 CET

    bound = local_lower_bound(since, now, STOCKHOLM)

    naive = _naive_local(since, STOCKHOLM)
    assert naive == datetime(2026, 10, 25, 2, 30)
    assert bound == naive - timedelta(hours=1)
    assert bound == datetime(2026, 10, 25, 1, 30)
    assert bound.tzinfo is None
    # An order placed at 01:10 UTC shows 02:10 CET on Centra's clock: earlier than `since` on the wall, yet later.
    assert _naive_local(datetime(2026, 10, 25, 1, 10, tzinfo=UTC), STOCKHOLM) > bound


def test_local_lower_bound_without_a_transition_is_the_naive_local_time() -> None:
    since = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
    now = datetime(2026, 6, 1, 16, 0, tzinfo=UTC)

    bound = local_lower_bound(since, now, STOCKHOLM)

    assert bound == datetime(2026, 6, 1, 12, 0)
    assert bound == _naive_local(since, STOCKHOLM)


def test_local_lower_bound_across_the_spring_forward_is_the_naive_local_time() -> None:
    since = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # 01:30 CET; at 01:00 UTC clocks jump to 03:00 CEST
    now = datetime(2026, 3, 29, 2, 0, tzinfo=UTC)

    assert local_lower_bound(since, now, STOCKHOLM) == datetime(2026, 3, 29, 1, 30)


def test_local_lower_bound_accepts_non_utc_aware_inputs() -> None:
    since = datetime(2026, 10, 25, 2, 30, tzinfo=STOCKHOLM)  # fold=0: 00:30 UTC
    now = datetime(2026, 10, 25, 3, 30, tzinfo=STOCKHOLM)

    assert local_lower_bound(since, now, STOCKHOLM) == datetime(2026, 10, 25, 1, 30)


YEAR_2026 = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31, 23, 59, 59), timezones=st.just(UTC)
)
# Random instants in a year rarely land near a clock change: these draw `since` in the hours before one, paired with
# a zone that changes then.
FALL_BACKS_2026 = [
    (datetime(2026, 10, 25, 1, 0, tzinfo=UTC), STOCKHOLM),
    (datetime(2026, 10, 25, 1, 0, tzinfo=UTC), HELSINKI),
    (datetime(2026, 11, 1, 6, 0, tzinfo=UTC), NEW_YORK),
]
SPRING_FORWARDS_2026 = [
    (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), STOCKHOLM),
    (datetime(2026, 3, 8, 7, 0, tzinfo=UTC), NEW_YORK),
]


def _before(changes: list[tuple[datetime, ZoneInfo]]) -> st.SearchStrategy[tuple[datetime, ZoneInfo]]:
    return st.builds(
        lambda change, seconds: (change[0] - timedelta(seconds=seconds), change[1]),
        st.sampled_from(changes),
        st.integers(min_value=0, max_value=3 * 3600),
    )


WITHIN_SIX_HOURS = st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(hours=6))
ZONES = st.sampled_from([STOCKHOLM, HELSINKI, NEW_YORK, ZoneInfo("UTC")])


@settings(max_examples=300, deadline=None)
@given(since=YEAR_2026, after=WITHIN_SIX_HOURS, zone=ZONES)
def test_no_order_placed_after_since_is_filtered_out(since: datetime, after: timedelta, zone: ZoneInfo) -> None:
    placed = since + after
    assert _naive_local(placed, zone) > local_lower_bound(since, placed, zone)


@settings(max_examples=200, deadline=None)
@given(since=YEAR_2026, after=WITHIN_SIX_HOURS, later=WITHIN_SIX_HOURS, zone=ZONES)
def test_no_order_placed_between_since_and_now_is_filtered_out(
    since: datetime, after: timedelta, later: timedelta, zone: ZoneInfo
) -> None:
    placed = since + after
    now = placed + later
    assert _naive_local(placed, zone) > local_lower_bound(since, now, zone)


@settings(max_examples=300, deadline=None)
@given(
    since_and_zone=st.one_of(_before(FALL_BACKS_2026), _before(SPRING_FORWARDS_2026)),
    after_seconds=st.integers(min_value=1, max_value=6 * 3600),
)
def test_no_order_placed_after_since_is_filtered_out_around_clock_changes(
    since_and_zone: tuple[datetime, ZoneInfo], after_seconds: int
) -> None:
    since, zone = since_and_zone
    placed = since + timedelta(seconds=after_seconds)
    assert _naive_local(placed, zone) > local_lower_bound(since, placed, zone)


@settings(max_examples=200, deadline=None)
@given(since=YEAR_2026, zone=ZONES)
def test_the_bound_never_lies_after_the_naive_local_since(since: datetime, zone: ZoneInfo) -> None:
    now = since + timedelta(hours=6)
    bound = local_lower_bound(since, now, zone)
    assert bound <= _naive_local(since, zone)
    assert _naive_local(since, zone) - bound <= timedelta(hours=1)
