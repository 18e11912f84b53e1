"""The console's session: a cookie signed with HMAC-SHA256 that carries who signed in, their role, and the CSRF token
every form must echo. Nothing secret is in it (it is signed, not encrypted): the user name, the merchant and a random
token. A visitor who has not signed in gets a session too, so that the sign-in form has a CSRF token. A signed-in
session also carries a random id whose state item (ogosync.state.console_sessions) must be live: signing out ends
it, so a copy of the cookie is worth nothing afterwards."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, ValidationError

COOKIE_NAME = "ogosync_session"
SESSION_HOURS = 8


class Identity(BaseModel):
    """Who signed in: an operator of the warehouse sees every integration; a merchant's user only its merchant's."""

    model_config = ConfigDict(defer_build=True)

    username: str
    operator: bool
    merchant: str | None = None


class NewPasswordNeeded(BaseModel):
    """An invited user signed in with the temporary password: Cognito wants a new one (its challenge session)."""

    model_config = ConfigDict(defer_build=True)

    username: str
    challenge: str


class Session(BaseModel):
    model_config = ConfigDict(defer_build=True)

    identity: Identity | None = None
    sid: str | None = Field(default=None, description="a signed-in session's random id; its state item ends it")
    csrf: str
    expires: datetime
    new_password: NewPasswordNeeded | None = None


def new_session(identity: Identity | None, now: datetime) -> Session:
    sid = None if identity is None else secrets.token_urlsafe(32)
    return Session(
        identity=identity, sid=sid, csrf=secrets.token_urlsafe(24), expires=now + timedelta(hours=SESSION_HOURS)
    )


def session_hash(sid: str) -> str:
    """What the state table keeps of a session id: its hash, so that a reader of the table learns no live id."""
    return hashlib.sha256(sid.encode()).hexdigest()


def encode(session: Session, key: bytes) -> str:
    payload = base64.urlsafe_b64encode(session.model_dump_json().encode()).decode().rstrip("=")
    return f"{payload}.{_signature(payload, key)}"


def decode(cookie: str, key: bytes, now: datetime) -> Session | None:
    """The session the cookie carries, or None when it is forged, damaged or expired."""
    payload, _, signature = cookie.partition(".")
    if not payload or not hmac.compare_digest(signature, _signature(payload, key)):
        return None
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        session = Session.model_validate(json.loads(raw))
    except (binascii.Error, ValueError, ValidationError):
        return None
    return session if session.expires > now else None


def set_cookie(value: str, *, secure: bool) -> str:
    """HttpOnly (no script reads it), SameSite=Lax (no cross-site form posts carry it), Secure but on http loopback."""
    attributes = ["Path=/", "HttpOnly", "SameSite=Lax", f"Max-Age={SESSION_HOURS * 3600}"]
    if secure:
        attributes.append("Secure")
    return "; ".join([f"{COOKIE_NAME}={value}", *attributes])


def cleared_cookie(*, secure: bool) -> str:
    """The cookie emptied and expired: the browser forgets the session."""
    attributes = ["Path=/", "HttpOnly", "SameSite=Lax", "Max-Age=0"]
    if secure:
        attributes.append("Secure")
    return "; ".join([f"{COOKIE_NAME}=", *attributes])


def csrf_matches(session: Session, token: str | None) -> bool:
    return token is not None and hmac.compare_digest(session.csrf.encode(), token.encode())


def _signature(payload: str, key: bytes) -> str:
    digest = hmac.new(key, payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")
