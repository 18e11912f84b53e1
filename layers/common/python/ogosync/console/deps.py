"""What the console needs: the operator services' deps, a way to sign a person in, and the key of its cookies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ogosync.console.session import Identity, NewPasswordNeeded
from ogosync.errors import OgosyncError
from ogosync.operator.deps import OperatorDeps
from ogosync.operator.urls import Resolver, resolve_host
from ogosync.ports import ProductRunRepository, StockLedger


class SignInRefused(OgosyncError):
    """Wrong user name or password, or a user who may not use the console (no role)."""


class SignIn(Protocol):
    def sign_in(self, username: str, password: str) -> Identity | NewPasswordNeeded:
        """The identity of a user whose password is right (or, for an invited user's temporary password, the
        challenge to choose a new one); SignInRefused otherwise."""
        ...

    def set_new_password(self, challenge: NewPasswordNeeded, new_password: str) -> Identity:
        """The identity once the new password is accepted; SignInRefused (with the reason) otherwise."""
        ...

    def sign_out(self, username: str) -> None:
        """Revoke every token the identity provider issued to the user (their refresh tokens included); a failure
        is logged, never raised: the console's own session is ended before this is called."""
        ...


class ConsoleSessions(Protocol):
    """The signed-in sessions (by the hash of their id): live from sign-in until signed out or expired."""

    def start_session(self, session_hash: str, username: str, expires: datetime) -> None: ...

    def session_active(self, session_hash: str, now: datetime) -> bool: ...

    def end_session(self, session_hash: str, now: datetime) -> None: ...


@dataclass
class ConsoleDeps:
    operator: OperatorDeps
    product_runs: ProductRunRepository
    sign_in: SignIn
    session_key: bytes
    sessions: ConsoleSessions
    secure_cookies: bool = True  # False only on http loopback (ogosync local up)
    stock_ledger: StockLedger | None = None  # what the stock flow last published; None: the stock page says so
    resolve: Resolver = resolve_host  # a host name's addresses, to refuse URLs of private networks

    @property
    def local_stack(self) -> bool:
        """The local stack marks itself by serving the console over http on loopback (CONSOLE_SECURE_COOKIES=false):
        only there may a typed URL be plain http to loopback, where its simulators listen."""
        return not self.secure_cookies
