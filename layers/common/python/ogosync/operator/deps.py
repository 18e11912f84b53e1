"""What the operator services need, as ports; runtime.operator_deps() builds the real ones."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ogosync.errors import UnknownIntegrationError
from ogosync.models import Credentials, Flow, Integration
from ogosync.ports import (
    AccessCheck,
    AftercareRepository,
    IntegrationConfigRepository,
    JobQueue,
    OrderNotes,
    SecretStore,
    SecretWriter,
    StateRepository,
    StorePlatform,
    TrackingRepository,
    Warehouse,
    WorkQueues,
)
from ogosync.timeutil import Clock, utc_now

# Builds the adapters that prove one side of an integration: "store" and "myogo".
AccessChecks = Callable[[Integration, Credentials], Mapping[str, AccessCheck]]


@dataclass
class OperatorDeps:
    state: StateRepository
    config: IntegrationConfigRepository
    secrets: SecretStore  # reads fresh values (no cache): an update merges into the current credentials
    secret_writer: SecretWriter
    access_checks: AccessChecks
    store: Callable[[Integration], StorePlatform]  # for live reads (order history, shipping methods)
    warehouse: Callable[[Integration], Warehouse]
    order_queue: JobQueue
    flow_queues: Mapping[Flow, JobQueue]
    work_queues: WorkQueues
    webhook_base_url: str
    secret_prefix: str = "ogosync/"  # noqa: S105 (a name prefix, not a password)
    clock: Clock = utc_now
    secret_recovery_days: int = 7
    keep_order_bindings_days: int = 90
    aftercare: AftercareRepository | None = None  # orders needing a person, shipments waiting for the store
    tracking: TrackingRepository | None = None  # myOGO statuses and pushed shipments, for an order's timeline
    notes: OrderNotes | None = None  # holds, releases, retries and "do not send", for an order's timeline

    def integration(self, integration_id: str) -> Integration:
        found = self.state.get_integration(integration_id)
        if found is None:
            raise UnknownIntegrationError(integration_id)
        return found
