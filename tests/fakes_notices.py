"""In-memory fakes of the notices' ports: the NOTICE# items, a mailer and a webhook that record what they were given.

InMemoryNotices keeps the contract of state/notices.py (tests/integration/test_notices_contract.py runs both).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ogosync.errors import NotDeliveredError
from ogosync.models import Notice, NoticeChannel


class InMemoryNotices:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str, str], Notice] = {}
        self.open: set[tuple[str, str, str]] = set()
        self.position: dict[tuple[str, str, str], datetime] = {}
        self.digests: dict[tuple[str, str], datetime] = {}

    @staticmethod
    def _key(notice: Notice) -> tuple[str, str, str]:
        return (notice.integration_id, notice.kind, notice.subject)

    def record(self, notice: Notice) -> bool:
        if self._key(notice) in self.items:
            return False
        self.items[self._key(notice)] = notice.model_copy(update={"sent": {}})
        self.open.add(self._key(notice))
        self.position[self._key(notice)] = notice.at
        return True

    def pending(self, limit: int) -> list[Notice]:
        waiting = sorted((self.items[k] for k in self.open), key=lambda n: (self.position[self._key(n)], n.notice_id))
        return [notice.model_copy(deep=True) for notice in waiting[:limit]]

    def claim_send(self, notice: Notice, channel: NoticeChannel, now: datetime) -> bool:
        stored = self.items.get(self._key(notice))
        if stored is None or channel in stored.sent:
            return False
        stored.sent[channel] = now
        return True

    def release_send(self, notice: Notice, channel: NoticeChannel, claimed_at: datetime) -> None:
        stored = self.items.get(self._key(notice))
        if stored is not None and stored.sent.get(channel) == claimed_at:
            del stored.sent[channel]
            stored.failures += 1
            self.open.add(self._key(notice))
            self.position[self._key(notice)] = claimed_at

    def close(self, notice: Notice) -> None:
        self.open.discard(self._key(notice))

    def claim_digest(self, integration_id: str, day: str, now: datetime) -> bool:
        if (integration_id, day) in self.digests:
            return False
        self.digests[(integration_id, day)] = now
        return True


@dataclass
class FakeMailer:
    """Records each e-mail; `refuse` makes the next sends fail as SES refusing them would."""

    sent: list[tuple[str, str, str]] = field(default_factory=list)
    refuse: int = 0

    def send(self, to: str, subject: str, text: str) -> None:
        if self.refuse:
            self.refuse -= 1
            raise NotDeliveredError("SES refused the message (fake)")
        self.sent.append((to, subject, text))


@dataclass
class FakeNoticeWebhook:
    posted: list[tuple[str, str, bytes]] = field(default_factory=list)

    def post(self, url: str, secret: str, body: bytes) -> None:
        self.posted.append((url, secret, body))
