"""In-memory fakes of the operator's ports. InMemoryIntegrationConfig shares its data with InMemoryState, as the
DynamoDB repositories share a table; tests/integration/test_operator_state.py holds both to one contract."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ogosync.errors import ConcurrencyConflictError, PlatformError, ReferencePrefixTakenError, UnknownIntegrationError
from ogosync.models import Credentials, Integration, OrderNote
from ogosync.ports import DeadLetter, QueueDepth, RedriveCount
from ogosync.state.integrations import changed_paths
from tests.fakes import FakeWarehouse, InMemoryState


class InMemoryIntegrationConfig:
    def __init__(self, state: InMemoryState) -> None:
        self.state = state
        self.order_expiry: dict[tuple[str, str], datetime] = {}
        self.reference_claims: dict[tuple[str, str], str] = {}  # (myOGO merchant id, folded prefix) -> integration

    def create_integration(self, integration: Integration) -> None:
        if integration.id in self.state.integrations:
            raise ConcurrencyConflictError(f"integration {integration.id!r} exists already")
        self.state.integrations[integration.id] = integration
        self.state.writes += 1

    def update_integration(self, before: Integration, after: Integration) -> None:
        if after.id not in self.state.integrations:
            raise UnknownIntegrationError(after.id)
        changes = changed_paths(before, after)
        if changes:  # field by field, like the DynamoDB repository
            current = self.state.integrations[after.id].model_dump(mode="json")
            for path, value in changes.items():
                *parents, name = path
                target = current
                for parent in parents:
                    target = target[parent]
                target[name] = value
            self.state.integrations[after.id] = Integration.model_validate(current)
            self.state.writes += 1

    def claim_reference_prefixes(self, integration_id: str, merchant_id: str, prefixes: Sequence[str]) -> None:
        folded = list(dict.fromkeys(prefix.casefold() for prefix in prefixes))
        for prefix in folded:
            owner = self.reference_claims.get((merchant_id, prefix), integration_id)
            if owner != integration_id:
                raise ReferencePrefixTakenError(merchant_id, prefix, owner)
        self.reference_claims |= {(merchant_id, prefix): integration_id for prefix in folded}
        self.state.writes += 1

    def delete_integration(self, integration_id: str, keep_orders_until: datetime) -> int:
        state = self.state
        claims = [claim for claim, owner in self.reference_claims.items() if owner == integration_id]
        for claim in claims:
            del self.reference_claims[claim]
        removed = len(claims)  # DynamoDB removes the integration's copy of each claim with its other items
        removed += sum(1 for owner, _ in state.cursors if owner == integration_id)
        removed += sum(1 for owner, _ in state.held_markers if owner == integration_id)
        removed += len(state.shipping.pop(integration_id, {}))
        state.cursors = {k: v for k, v in state.cursors.items() if k[0] != integration_id}
        state.held_markers = {k: v for k, v in state.held_markers.items() if k[0] != integration_id}
        for owner, order_id in state.bindings:
            if owner == integration_id:
                self.order_expiry[(owner, order_id)] = keep_orders_until
        del state.integrations[integration_id]
        state.writes += 1
        return removed + 1

    def delete_shipping_mapping(self, integration_id: str, store_method: str) -> bool:
        return self.state.shipping.get(integration_id, {}).pop(store_method, None) is not None


class FakeSecretWriter:
    """Secrets by name; `fail_next` makes the next write raise."""

    def __init__(self) -> None:
        self.secrets: dict[str, Credentials] = {}
        self.scheduled_deletions: dict[str, int] = {}
        self.fail_next: Exception | None = None

    def write(self, name: str, credentials: Credentials) -> None:
        if self.fail_next is not None:
            failure, self.fail_next = self.fail_next, None
            raise failure
        self.secrets[name] = credentials
        self.scheduled_deletions.pop(name, None)

    def schedule_deletion(self, name: str, recovery_days: int) -> None:
        self.scheduled_deletions[name] = recovery_days

    def credentials(self, integration: Integration) -> Credentials:
        """SecretStore: reads what was written (the operator's fresh reads)."""
        return self.secrets[integration.secret_name]


class FakeAccessCheck:
    """One side of an integration: passes, or raises the error it was given; counts its calls and closes."""

    def __init__(self, failure: PlatformError | None = None) -> None:
        self.failure = failure
        self.calls = 0
        self.closed = False

    def check_access(self) -> None:
        self.calls += 1
        if self.failure is not None:
            raise self.failure

    def close(self) -> None:
        self.closed = True


class FakeWorkQueues:
    """Work queues with depths as counters, and their dead letters as messages (n-0, n-1, ... per queue n)."""

    def __init__(self, dead_letters: dict[str, int | None]) -> None:
        self.letters: dict[str, list[DeadLetter] | None] = {
            name: None
            if count is None
            else [DeadLetter(message_id=f"{name}-{i}", body=f'{{"n": {i}}}', receive_count=3) for i in range(count)]
            for name, count in dead_letters.items()
        }
        self.waiting = dict.fromkeys(dead_letters, 0)

    def names(self) -> list[str]:
        return list(self.letters)

    def depth(self, name: str) -> QueueDepth:
        letters = self.letters[name]
        return QueueDepth(
            queue=name, waiting=self.waiting[name], in_flight=0, dead_letters=None if letters is None else len(letters)
        )

    def redrive(self, name: str, max_messages: int) -> RedriveCount:
        letters = self.letters[name] or []
        moved = min(max_messages, len(letters))
        del letters[:moved]
        self.waiting[name] += moved
        return RedriveCount(queue=name, moved=moved, failed=0, dead_letters_left=len(letters))

    def dead_letters(self, name: str, limit: int) -> list[DeadLetter]:
        return list(self.letters[name] or [])[:limit]

    def redrive_dead_letter(self, name: str, message_id: str) -> bool:
        letters = self.letters[name] or []
        found = [letter for letter in letters if letter.message_id == message_id]
        for letter in found:
            letters.remove(letter)
            self.waiting[name] += 1
        return bool(found)

    def discard_dead_letters(self, name: str, message_ids: set[str] | None) -> int:
        letters = self.letters[name] or []
        gone = [letter for letter in letters if message_ids is None or letter.message_id in message_ids]
        for letter in gone:
            letters.remove(letter)
        return len(gone)


class FakeMyOgoCheck(FakeAccessCheck):
    """The myOGO side of a set-up check that also lists the account's warehouses (None: no list)."""

    def __init__(self, warehouses: frozenset[str] | None, failure: PlatformError | None = None) -> None:
        super().__init__()
        self.warehouses = warehouses
        self.list_failure = failure

    def shipping_codes(self) -> frozenset[str] | None:
        return None

    def warehouse_codes(self) -> frozenset[str] | None:
        if self.list_failure is not None:
            raise self.list_failure
        return self.warehouses


class FakeMyOgoAccount(FakeWarehouse):
    """myOGO with the list of the merchant's shipping codes (None: no list); counts the list's reads."""

    def __init__(self, shipping: frozenset[str] | None, failure: PlatformError | None = None) -> None:
        super().__init__()
        self.shipping = shipping
        self.list_failure = failure
        self.list_reads = 0

    def shipping_codes(self) -> frozenset[str] | None:
        self.list_reads += 1
        if self.list_failure is not None:
            raise self.list_failure
        return self.shipping

    def warehouse_codes(self) -> frozenset[str] | None:
        return None


class InMemoryOrderNotes:
    """Orders' timeline notes, appended in order."""

    def __init__(self) -> None:
        self.added: list[OrderNote] = []

    def add_note(self, note: OrderNote) -> None:
        self.added.append(note)

    def notes(self, integration_id: str, store_order_id: str) -> list[OrderNote]:
        mine = [n for n in self.added if (n.integration_id, n.store_order_id) == (integration_id, store_order_id)]
        return sorted(mine, key=lambda note: note.at)


class InMemoryConsoleSessions:
    """The console's signed-in sessions (same contract as DynamoConsoleSessions, see
    tests/integration/test_console_sessions_contract.py): hash -> (user name, end, signed out)."""

    def __init__(self) -> None:
        self.sessions: dict[str, tuple[str, datetime, bool]] = {}

    def start_session(self, session_hash: str, username: str, expires: datetime) -> None:
        self.sessions[session_hash] = (username, expires, False)

    def session_active(self, session_hash: str, now: datetime) -> bool:
        found = self.sessions.get(session_hash)
        return found is not None and not found[2] and found[1] > now

    def end_session(self, session_hash: str, now: datetime) -> None:
        if session_hash in self.sessions:
            username, expires, _ = self.sessions[session_hash]
            self.sessions[session_hash] = (username, expires, True)
