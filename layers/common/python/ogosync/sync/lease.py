"""A claim's lease, renewed by its owner before every external write (design invariant 8).

An order's send (StateRepository.claim_order) and a shipment's push (TrackingRepository.claim_push) are claimed
with a lease: a conditional write of an owner token and the lease's end. A worker that outlives its lease (a slow
platform, a paused process, a clock that jumped) can find its claim taken over by another worker, who then writes
too. So the owner renews its claim before each external write, by one conditional write with its token
(renew_order_claim, renew_push_claim: both state.table.Table.renew_claim), and stops without writing when the claim
is no longer its own. Flow locks renew the same way (acquire_lock by their owner extends them) and fit `Renew`,
but need no renewal today: their TTL (330 s) outlasts the functions that hold them (300 s timeout), and what they
guard, the cursor, is written compare-and-set.

Uncertain: the workers' clocks are taken to agree within the callers' margin (Lambda's are NTP-synchronised).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from ogosync.errors import ConcurrencyConflictError, ConfigurationError
from ogosync.timeutil import Clock

Renew = Callable[[datetime, int], bool]
"""Extend my claim to now + seconds by a conditional write with my token; False when it is no longer mine."""


def check_margin(lease_seconds: int, margin_seconds: float) -> None:
    """A margin must leave time for external calls before the lease ends."""
    if not 0 <= margin_seconds < lease_seconds:
        raise ConfigurationError(f"a claim's margin ({margin_seconds} s) must be at least 0 and below its lease")


class LeaseLostError(ConcurrencyConflictError):
    """The claim is no longer ours (taken over, or recorded by another worker): nothing may be written under it."""


@dataclass(frozen=True)
class Lease:
    renew_claim: Renew
    clock: Clock
    seconds: int
    taken_at: datetime

    def renew(self) -> None:
        """Call right before an external write: extends the claim, or raises LeaseLostError."""
        if not self.renew_claim(self.clock(), self.seconds):
            raise LeaseLostError("the claim was taken over or closed by another worker")

    def deadline(self, margin_seconds: float) -> datetime:
        """When external calls under this claim must end: the end of the lease as first taken, minus a margin."""
        return self.taken_at + timedelta(seconds=self.seconds - margin_seconds)
