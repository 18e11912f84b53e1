"""The notify engine over in-memory fakes: each notice once per channel, a digest once a local day, no secrets."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import pytest
from pydantic import SecretStr

from ogosync.errors import ConfigurationError, NotDeliveredError, OgosyncError
from ogosync.models import (
    Credentials,
    Hold,
    HoldReason,
    Integration,
    IntegrationSettings,
    Notice,
    NoticeChannel,
    NoticeKind,
    ProductRefusal,
)
from ogosync.sync import notices as events
from ogosync.sync.notify import NotifyDeps, run_notify
from ogosync.webhook_out import SIGNATURE_HEADER, SignedWebhook
from tests.factories import make_integration
from tests.fakes import FakeSecrets, InMemoryState, make_credentials
from tests.fakes_aftercare import InMemoryAftercare
from tests.fakes_notices import FakeMailer, FakeNoticeWebhook, InMemoryNotices
from tests.fakes_products import InMemoryProductRefusals

EMAIL, HOOK, HOOK_SECRET = "ops@acme.example", "https://hooks.acme.example/ogosync?k=1", "nwhsec-0123456789abcdef0123"
MORNING = datetime.fromisoformat("2026-03-02T06:10:00+00:00")  # 08:10 in Helsinki
NIGHT = datetime.fromisoformat("2026-03-02T01:10:00+00:00")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    integration: Integration
    deps: NotifyDeps
    state: InMemoryState
    notices: InMemoryNotices
    mailer: FakeMailer
    webhook: FakeNoticeWebhook
    refusals: InMemoryProductRefusals
    aftercare: InMemoryAftercare
    clock: Clock

    def held(self, order_id: str, at: datetime) -> Notice:
        hold = Hold(reason=HoldReason.UNMAPPED_SHIPPING_METHOD, detail="no myOGO shipping code for 'drone'")
        self.state.mark_order_held(self.integration.id, order_id, order_id, [hold], at, at)
        notice = events.order_held(self.integration, order_id, [hold], at)
        self.notices.record(notice)
        return notice


def _world(now: datetime = NIGHT, **settings: str | None) -> World:
    state = InMemoryState()
    chosen = {"notify_email": EMAIL, "notify_webhook_url": HOOK} | settings
    integration = make_integration(time_zone="Europe/Helsinki", settings=IntegrationSettings(**chosen))
    state.put_integration(integration)
    credentials = make_credentials().model_copy(update={"notify_webhook_secret": SecretStr(HOOK_SECRET)})
    notices, mailer, webhook = InMemoryNotices(), FakeMailer(), FakeNoticeWebhook()
    refusals, aftercare, clock = InMemoryProductRefusals(), InMemoryAftercare(state), Clock(now)
    deps = NotifyDeps(
        state=state,
        notices=notices,
        secrets=FakeSecrets({integration.secret_name: credentials}),
        refusals=refusals,
        aftercare=aftercare,
        mailer=mailer,
        webhook=webhook,
        clock=clock,
    )
    return World(integration, deps, state, notices, mailer, webhook, refusals, aftercare, clock)


def test_each_notice_goes_once_to_each_channel_however_often_the_run_repeats() -> None:
    world = _world()
    world.held("1001", NIGHT - timedelta(minutes=3))

    first = run_notify(world.deps)
    for _ in range(3):
        run_notify(world.deps)

    assert (first.counts["sent_email"], first.counts["sent_webhook"], first.counts["closed"]) == (1, 1, 1)
    ((to, subject, text),) = world.mailer.sent
    assert to == EMAIL and "held" in subject and "Order 1001 is held" in text
    ((url, secret, body),) = world.webhook.posted
    assert (url, secret) == (HOOK, HOOK_SECRET)
    assert json.loads(body) | {"at": None} == {
        "type": "notice",
        "id": "acme-centra/order_held/1001",
        "integration_id": "acme-centra",
        "kind": "order_held",
        "subject": "1001",
        "summary": world.notices.items[("acme-centra", "order_held", "1001")].summary,
        "at": None,
    }
    assert world.notices.pending(10) == []


def test_a_send_the_channel_refused_is_sent_again_by_the_next_run_and_only_then() -> None:
    world = _world()
    world.held("1001", NIGHT)
    world.mailer.refuse = 1

    first = run_notify(world.deps)
    second = run_notify(world.deps)
    run_notify(world.deps)

    assert first.counts["not_delivered"] == 1 and first.counts["sent_webhook"] == 1
    assert second.counts["sent_email"] == 1 and second.counts["sent_webhook"] == 0
    assert len(world.mailer.sent) == 1 and len(world.webhook.posted) == 1


def test_a_send_with_an_unknown_outcome_is_never_repeated_and_the_run_says_so() -> None:
    world = _world(notify_webhook_url=None)

    class TimingOut(FakeMailer):
        def send(self, to: str, subject: str, text: str) -> None:
            self.sent.append((to, subject, text))
            raise TimeoutError("read timed out after the request left")

    world.deps.mailer = world.mailer = TimingOut()
    world.held("1001", NIGHT)
    world.held("1002", NIGHT + timedelta(seconds=1))

    first = run_notify(world.deps)
    second = run_notify(world.deps)  # nothing left to try: both are claimed

    with pytest.raises(OgosyncError, match="2 notice sends ended with an unknown outcome"):
        first.raise_if_unknown()
    second.raise_if_unknown()

    assert [text.split("\n")[0] for _, _, text in world.mailer.sent] == [
        world.notices.items[("acme-centra", "order_held", order_id)].summary for order_id in ("1001", "1002")
    ]


def test_a_webhook_without_its_signing_secret_is_never_used() -> None:
    world = _world()
    world.deps.secrets = FakeSecrets({world.integration.secret_name: make_credentials()})
    world.held("1001", NIGHT)

    result = run_notify(world.deps)

    assert world.webhook.posted == [] and len(world.mailer.sent) == 1
    assert result.counts["webhook_without_secret"] == 1 and world.notices.pending(10) == []


def test_without_a_sender_address_the_stack_sends_no_email_and_the_webhook_still_gets_its_notices() -> None:
    world = _world()
    world.deps.mailer = None
    world.held("1001", NIGHT)

    result = run_notify(world.deps)

    assert (result.counts["email_without_sender"], result.counts["sent_webhook"]) == (1, 1)
    assert world.notices.pending(10) == []


def test_an_integration_whose_credentials_cannot_be_read_keeps_its_notices_and_stops_no_other() -> None:
    world = _world()
    other = make_integration("other-shop", settings=IntegrationSettings(notify_email="ops@other.example"))
    world.state.put_integration(other)
    world.held("1001", NIGHT)  # acme-centra's: its secret is missing below
    world.notices.record(events.capture_failed(other, "2002", NIGHT + timedelta(seconds=1)))

    class Unreadable(FakeSecrets):
        def credentials(self, integration: Integration) -> Credentials:
            if integration.id == "acme-centra":
                raise ConfigurationError("credentials of integration acme-centra cannot be read")
            return super().credentials(integration)

    world.deps.secrets = Unreadable({other.secret_name: make_credentials()})
    result = run_notify(world.deps)

    assert result.counts["channels_unreadable"] == 1 and result.counts["sent_email"] == 1
    assert [(to, text.split(" was")[0]) for to, _, text in world.mailer.sent] == [("ops@other.example", "Order 2002")]
    assert [notice.subject for notice in world.notices.pending(10)] == ["1001"]  # waits for a later run


def test_an_integration_without_channels_has_its_notices_closed_unsent() -> None:
    world = _world(notify_email=None, notify_webhook_url=None)
    world.held("1001", NIGHT)

    assert run_notify(world.deps).counts["given_up"] == 0
    assert world.notices.pending(10) == [] and world.mailer.sent == []


def test_a_notice_refused_again_and_again_is_given_up_and_never_holds_the_others_back() -> None:
    world = _world(notify_webhook_url=None)
    world.deps.give_up_failures, world.deps.batch = 3, 1
    world.held("1001", NIGHT)
    world.held("1002", NIGHT + timedelta(seconds=1))

    class RefusingOrder1001(FakeMailer):
        def send(self, to: str, subject: str, text: str) -> None:
            if "1001" in text:
                raise NotDeliveredError("SES refused it (fake)")
            super().send(to, subject, text)

    world.deps.mailer = world.mailer = RefusingOrder1001()
    runs = []
    for _ in range(5):  # every 5 minutes
        world.clock.now += timedelta(minutes=5)
        runs.append(run_notify(world.deps))

    assert [(run.counts["not_delivered"], run.counts["sent_email"], run.counts["given_up"]) for run in runs] == [
        (1, 0, 0),  # 1001 refused: it goes behind 1002
        (0, 1, 0),  # 1002 sent
        (1, 0, 0),
        (1, 0, 0),  # the third refusal
        (0, 0, 1),
    ]
    assert [text.split(" is held")[0] for _, _, text in world.mailer.sent] == ["Order 1002"]
    assert world.notices.pending(10) == []


def test_the_digest_goes_once_in_the_local_morning_with_what_is_still_open() -> None:
    world = _world(now=NIGHT)
    world.held("1001", NIGHT - timedelta(days=2))
    world.held("1002", NIGHT - timedelta(hours=1))
    refusal = ProductRefusal(
        integration_id=world.integration.id, sku="A2", message="name missing", content_hash="h", refused_at=NIGHT
    )
    world.refusals.put_product_refusal(refusal)
    world.aftercare.mark_waiting(world.integration.id, "0999", "0999", NIGHT - timedelta(hours=5))
    night = run_notify(world.deps)  # the night: the notices only
    notices_sent = len(world.mailer.sent)

    world.clock.now = MORNING
    morning = run_notify(world.deps)
    world.clock.now = MORNING + timedelta(minutes=40)
    later = run_notify(world.deps)
    world.clock.now = MORNING + timedelta(days=1)
    next_day = run_notify(world.deps)

    assert (night.counts["sent_email"], notices_sent) == (2, 2)
    assert (morning.counts["digest_email"], morning.counts["digest_webhook"]) == (1, 1)
    assert later.counts["digest_email"] == 0 and next_day.counts["digest_email"] == 1
    _, subject, text = world.mailer.sent[notices_sent]
    assert "daily summary" in subject
    assert "Held orders: 2 (oldest since 2026-02-28 03:10)" in text
    assert "Products refused by myOGO: 1 (A2)" in text and "Shipments waiting for the store: 1" in text
    digest = json.loads(world.webhook.posted[notices_sent][2])
    assert digest["held_orders"]["count"] == 2 and digest["day"] == "2026-03-02"


def test_nothing_open_sends_no_digest() -> None:
    world = _world(now=MORNING)
    result = run_notify(world.deps)
    assert result.counts["digest_nothing_open"] == 1 and world.mailer.sent == [] and world.webhook.posted == []


def test_no_message_of_any_kind_carries_a_secret_a_token_or_an_address() -> None:
    world = _world(now=MORNING)
    credentials = make_credentials()
    secrets = [value.get_secret_value() for _, value in credentials if isinstance(value, SecretStr)] + [HOOK_SECRET]
    token = credentials.myogo_secret_token.get_secret_value()  # short enough to pass for a word
    hostile = f"failed for {EMAIL} at {HOOK} with key {HOOK_SECRET} and {token}"
    integration, at = world.integration, MORNING - timedelta(minutes=1)
    every_kind = [
        events.order_held(integration, "1001", [Hold(reason=HoldReason.REJECTED_BY_WAREHOUSE, detail=hostile)], at),
        events.product_refused(integration, "A2", "c0ffee" * 8, hostile, at),
        events.capture_failed(integration, "1002", at),
        events.credentials_refused(integration, "myogo", 401, at),
        events.credentials_refused(integration, "centra", None, at),
    ]
    assert {notice.kind for notice in every_kind} == set(NoticeKind)
    for notice in every_kind:
        world.notices.record(notice)
    world.held("1003", at)
    world.refusals.put_product_refusal(
        ProductRefusal(integration_id=integration.id, sku=token, message=hostile, content_hash="h", refused_at=at)
    )
    world.aftercare.mark_waiting(integration.id, "0999", "0999", at)

    result = run_notify(world.deps)

    assert (result.counts["sent_email"], result.counts["digest_email"]) == (len(every_kind) + 1, 1)
    rendered = [f"{subject}\n{text}" for _, subject, text in world.mailer.sent]
    rendered += [body.decode() for _, _, body in world.webhook.posted]
    assert len(rendered) == 2 * (len(every_kind) + 2)
    for text in rendered:
        leaked = [value for value in [*secrets, EMAIL, HOOK, "hooks.acme.example", "@"] if value in text]
        assert leaked == [], text
        address = ("Teknobulevardi", "Maija", "01530", "+358")
        assert [part for part in address if part in text] == []
    emails = "\n".join(text for _, _, text in world.mailer.sent)
    assert "Order 1001 is held" in emails and "Products refused by myOGO: 1 ([…])" in emails


def _receiver(status: int, seen: list[httpx.Request]) -> httpx.Client:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status)

    return httpx.Client(transport=httpx.MockTransport(answer))


def test_the_webhook_is_signed_over_time_and_body_with_the_merchants_secret() -> None:
    seen: list[httpx.Request] = []
    SignedWebhook(_receiver(204, seen), now=lambda: 1_770_000_000).post(HOOK, HOOK_SECRET, b'{"a":1}')

    (request,) = seen
    expected = hmac.new(HOOK_SECRET.encode(), b'1770000000.{"a":1}', hashlib.sha256).hexdigest()
    assert request.headers[SIGNATURE_HEADER] == f"t=1770000000,v1={expected}"
    assert request.content == b'{"a":1}' and request.headers["Content-Type"] == "application/json"
    assert HOOK_SECRET not in str(request.headers)


@pytest.mark.parametrize("status", [301, 400, 500])
def test_a_webhook_answer_other_than_2xx_is_not_delivered(status: int) -> None:
    with pytest.raises(NotDeliveredError, match=str(status)):
        SignedWebhook(_receiver(status, [])).post(HOOK, HOOK_SECRET, b"{}")


def test_a_channel_not_configured_is_not_claimed() -> None:
    world = _world(notify_webhook_url=None)
    world.held("1001", NIGHT)

    run_notify(world.deps)

    assert set(world.notices.items[("acme-centra", "order_held", "1001")].sent) == {NoticeChannel.EMAIL}
    assert world.webhook.posted == [] and world.notices.pending(10) == []
