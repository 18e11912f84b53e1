"""Stdlib-only HTTP simulators of the Centra Order API and the myOGO v1 API, with fault injection."""

from ogosync_local.sim.centra import CentraSimulator, sign_centra_webhook
from ogosync_local.sim.faults import FaultConfig, FaultDecision, FaultRule, Faults
from ogosync_local.sim.myogo import MyOgoSimulator, sign_myogo_webhook
from ogosync_local.sim.server import ManualClock, SimServer
from ogosync_local.sim.webhooks import DeliveryRecord

__all__ = [
    "CentraSimulator",
    "DeliveryRecord",
    "FaultConfig",
    "FaultDecision",
    "FaultRule",
    "Faults",
    "ManualClock",
    "MyOgoSimulator",
    "SimServer",
    "sign_centra_webhook",
    "sign_myogo_webhook",
]
