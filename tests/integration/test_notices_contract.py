"""Notices: one contract for the DynamoDB adapter (moto and Amazon's DynamoDB Local) and the in-memory fake.

Recording an event and claiming a channel's send are conditional writes: a retried job, a second worker or a
repeated notify run never records or sends one twice.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from ogosync.models import Notice, NoticeChannel, NoticeKind
from ogosync.ports import Notices
from ogosync.state.notices import DynamoNotices
from tests.factories import T0
from tests.fakes_notices import InMemoryNotices
from tests.integration.tables import state_table

pytestmark = pytest.mark.integration


@pytest.fixture(params=["moto", "dynamodb-local", "memory"])
def notices(request: pytest.FixtureRequest) -> Notices:
    if request.param == "memory":
        return InMemoryNotices()
    table = state_table(request, request.param)
    return DynamoNotices(table.client, table.name)


@pytest.fixture
def iid() -> str:
    return f"shop-{uuid.uuid4().hex[:10]}"


def _notice(iid: str, subject: str, minutes: int = 0, kind: NoticeKind = NoticeKind.ORDER_HELD) -> Notice:
    return Notice(
        integration_id=iid, kind=kind, subject=subject, summary=f"about {subject}", at=T0 + timedelta(minutes=minutes)
    )


def _mine(notices: Notices, iid: str) -> list[Notice]:
    return [notice for notice in notices.pending(10_000) if notice.integration_id == iid]


def test_an_event_is_recorded_once_however_often_it_is_met(notices: Notices, iid: str) -> None:
    assert notices.record(_notice(iid, "1001"))
    assert not notices.record(_notice(iid, "1001", minutes=5))  # a retry, a second worker, a re-check
    assert notices.record(_notice(iid, "1001", kind=NoticeKind.CAPTURE_FAILED))  # another kind: another event
    assert notices.record(_notice(iid, "A/1 x#abc", minutes=1, kind=NoticeKind.PRODUCT_REFUSED))

    pending = _mine(notices, iid)
    assert [(n.kind, n.subject, n.at) for n in pending] == [  # oldest first, then by kind
        (NoticeKind.CAPTURE_FAILED, "1001", T0),
        (NoticeKind.ORDER_HELD, "1001", T0),
        (NoticeKind.PRODUCT_REFUSED, "A/1 x#abc", T0 + timedelta(minutes=1)),
    ]
    assert pending[1] == _notice(iid, "1001")  # the first record stands


def test_a_channel_is_claimed_once_released_only_by_its_claimer_and_closed_for_good(notices: Notices, iid: str) -> None:
    notice = _notice(iid, "1001")
    notices.record(notice)

    assert notices.claim_send(notice, NoticeChannel.EMAIL, T0)
    assert not notices.claim_send(notice, NoticeChannel.EMAIL, T0 + timedelta(seconds=1))
    assert notices.claim_send(notice, NoticeChannel.WEBHOOK, T0)
    notices.release_send(notice, NoticeChannel.WEBHOOK, T0 + timedelta(seconds=9))  # not this claim: kept
    (stored,) = _mine(notices, iid)
    assert stored.sent == {NoticeChannel.EMAIL: T0, NoticeChannel.WEBHOOK: T0}

    notices.release_send(notice, NoticeChannel.WEBHOOK, T0)
    assert _mine(notices, iid)[0].sent == {NoticeChannel.EMAIL: T0}
    assert notices.claim_send(notice, NoticeChannel.WEBHOOK, T0 + timedelta(minutes=5))

    notices.close(notice)
    assert _mine(notices, iid) == []
    assert not notices.record(notice)  # closed is not forgotten: the event is not recorded anew
    assert _mine(notices, iid) == []


def test_a_released_send_counts_a_failure_and_puts_the_notice_behind_the_others(notices: Notices, iid: str) -> None:
    first, second = _notice(iid, "1001"), _notice(iid, "1002", minutes=1)
    notices.record(first)
    notices.record(second)
    notices.claim_send(first, NoticeChannel.EMAIL, T0 + timedelta(minutes=5))

    notices.release_send(first, NoticeChannel.EMAIL, T0 + timedelta(minutes=5))

    assert [(n.subject, n.failures, n.sent) for n in _mine(notices, iid)] == [("1002", 0, {}), ("1001", 1, {})]
    notices.claim_send(first, NoticeChannel.EMAIL, T0 + timedelta(minutes=10))
    notices.claim_send(first, NoticeChannel.WEBHOOK, T0 + timedelta(minutes=10))
    notices.close(first)  # a second worker closed it while this one's e-mail was refused
    notices.release_send(first, NoticeChannel.EMAIL, T0 + timedelta(minutes=10))
    assert [(n.subject, n.failures, set(n.sent)) for n in _mine(notices, iid)] == [
        ("1002", 0, set()),
        ("1001", 2, {NoticeChannel.WEBHOOK}),
    ]


def test_a_notice_never_recorded_cannot_be_claimed_and_closing_it_writes_nothing(notices: Notices, iid: str) -> None:
    ghost = _notice(iid, "never")
    assert not notices.claim_send(ghost, NoticeChannel.EMAIL, T0)
    notices.close(ghost)
    assert notices.record(ghost)


def test_the_digest_of_a_day_is_taken_once_per_integration(notices: Notices, iid: str) -> None:
    assert notices.claim_digest(iid, "2026-03-01", T0)
    assert not notices.claim_digest(iid, "2026-03-01", T0 + timedelta(minutes=5))
    assert notices.claim_digest(iid, "2026-03-02", T0 + timedelta(days=1))
    assert notices.claim_digest(iid + "-other", "2026-03-01", T0)


def test_pending_keeps_to_its_limit_oldest_first(notices: Notices, iid: str) -> None:
    for minute in (3, 1, 2):
        notices.record(_notice(iid, f"order-{minute}", minutes=minute))
    subjects = [n.subject for n in _mine(notices, iid)]
    assert subjects == ["order-1", "order-2", "order-3"]
    assert len(notices.pending(2)) == 2
