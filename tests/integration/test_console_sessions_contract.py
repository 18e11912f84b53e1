"""The console's signed-in sessions: one contract for DynamoDB (moto and DynamoDB Local) and the in-memory fake.
Signing out must end a session for good, so that a copy of its cookie opens nothing afterwards."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from ogosync.console.deps import ConsoleSessions
from ogosync.state.console_sessions import DynamoConsoleSessions
from tests.factories import T0
from tests.fakes_operator import InMemoryConsoleSessions
from tests.integration.tables import state_table

pytestmark = pytest.mark.integration


@pytest.fixture(params=["moto", "dynamodb-local", "memory"])
def sessions(request: pytest.FixtureRequest) -> ConsoleSessions:
    if request.param == "memory":
        return InMemoryConsoleSessions()
    table = state_table(request, request.param)
    return DynamoConsoleSessions(table.client, table.name)


def test_a_session_is_live_from_its_start_until_it_is_ended(sessions: ConsoleSessions) -> None:
    mine, other = uuid.uuid4().hex, uuid.uuid4().hex
    sessions.start_session(mine, "anna", T0 + timedelta(hours=8))
    sessions.start_session(other, "anna", T0 + timedelta(hours=8))

    assert sessions.session_active(mine, T0)
    sessions.end_session(mine, T0 + timedelta(minutes=5))

    assert not sessions.session_active(mine, T0 + timedelta(minutes=6))
    assert sessions.session_active(other, T0 + timedelta(minutes=6))  # the user's other session stays


def test_an_expired_or_unknown_session_is_not_live_and_ending_an_unknown_one_is_harmless(
    sessions: ConsoleSessions,
) -> None:
    expiring, unknown = uuid.uuid4().hex, uuid.uuid4().hex
    sessions.start_session(expiring, "olga", T0 + timedelta(hours=8))

    sessions.end_session(unknown, T0)

    assert not sessions.session_active(expiring, T0 + timedelta(hours=8))
    assert not sessions.session_active(unknown, T0)
