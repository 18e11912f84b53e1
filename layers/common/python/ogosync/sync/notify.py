"""Telling merchants: each recorded notice sent once to the integration's channels (e-mail, signed webhook), and
once a day, in the integration's own morning, a digest of what is still open.

At most once, on purpose. A channel's send is claimed in DynamoDB (`Notices.claim_send`) before the send: a
second worker, or this run repeated by its schedule, finds the claim and sends nothing. When the channel answered
that it took nothing (NotDeliveredError: SES refused it, the webhook answered non-2xx or could not be reached), the
claim is released and a later run sends it again. When the answer is unknown (a timeout after the request left, the
function dying mid-send) the claim stays and the notice is not sent again: SES has no idempotency key, so "at
least once" would mean duplicate e-mails, and the daily digest lists every open item anyway. A webhook receiver can
also deduplicate by the notice's `id`. A refused notice goes behind the others (a broken channel delays no other
merchant's notices) and is given up after `give_up_failures` refusals (a day of runs).

The digest is claimed once per integration and local day (`Notices.claim_digest`) in the hour `digest_hour`; a day
whose whole hour passed without a run (an outage) has no digest. Uncertain: the pending list is read from an
eventually consistent index, so a notice recorded a moment ago may wait for the next run.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from aws_lambda_powertools import Logger
from pydantic import SecretStr

from ogosync.errors import NotDeliveredError, OgosyncError
from ogosync.models import Integration, IntegrationStatus, Notice, NoticeChannel, NoticeKind
from ogosync.ports import (
    AftercareRepository,
    Mailer,
    Notices,
    NoticeWebhook,
    ProductRefusalRepository,
    SecretStore,
    StateRepository,
)
from ogosync.sync.notices import REDACTED
from ogosync.timeutil import Clock, utc_now

logger = Logger(service="ogosync", child=True)

TITLES = {
    NoticeKind.ORDER_HELD: "an order is held",
    NoticeKind.PRODUCT_REFUSED: "myOGO refused a product",
    NoticeKind.CAPTURE_FAILED: "a payment could not be captured",
    NoticeKind.CREDENTIALS_REFUSED: "credentials stopped working",
}
DIGEST_SKUS = 20  # refused SKUs named in a digest; the count says how many there are
MIN_WITHHELD = 4  # a credential shorter than this is not looked for (it would match ordinary words)


@dataclass
class NotifyDeps:
    state: StateRepository
    notices: Notices
    secrets: SecretStore
    refusals: ProductRefusalRepository
    aftercare: AftercareRepository
    mailer: Mailer | None  # None: the stack has no sender address, so no e-mail
    webhook: NoticeWebhook
    clock: Clock = utc_now
    batch: int = 500  # notices per run; the rest wait for the next one
    give_up_failures: int = 288  # refused sends before a notice is given up: a day of runs every 5 minutes
    digest_hour: int = 8  # local hour of the daily digest


@dataclass(frozen=True)
class Message:
    """One thing to tell, as each channel shows it: an e-mail's subject and text, a webhook's JSON."""

    subject: str
    text: str
    body: Mapping[str, object]

    def without(self, values: Iterable[str]) -> Message:
        """The message with each of `values` (the integration's credentials) taken out wherever it appears: a
        platform's reason could quote one, and no pattern can tell a short secret from a SKU."""
        hidden = sorted({value for value in values if len(value) >= MIN_WITHHELD}, key=len, reverse=True)

        def clean(text: str) -> str:
            for value in hidden:
                text = text.replace(value, REDACTED)
            return text

        def clean_json(value: object) -> object:
            if isinstance(value, str):
                return clean(value)
            if isinstance(value, Mapping):
                return {name: clean_json(item) for name, item in value.items()}
            if isinstance(value, list):
                return [clean_json(item) for item in value]
            return value

        body = {name: clean_json(value) for name, value in self.body.items()}
        return Message(subject=clean(self.subject), text=clean(self.text), body=body)


@dataclass
class NotifyResult:
    counts: Counter[str] = field(default_factory=Counter)
    unexpected: int = 0  # sends whose outcome is unknown (left claimed)

    def raise_if_unknown(self) -> None:
        """After the run's metrics are out: an error (the Errors alarm) when a send's outcome is unknown."""
        if self.unexpected:
            raise OgosyncError(f"{self.unexpected} notice sends ended with an unknown outcome (left claimed)")


Route = Callable[[Message], None]


def run_notify(deps: NotifyDeps) -> NotifyResult:
    """One scheduled run: the pending notices, then the digests due this hour. A send whose outcome is unknown
    does not stop the others; it is counted in `unexpected` (NotifyResult.raise_if_unknown)."""
    result = NotifyResult()
    integrations = {integration.id: integration for integration in deps.state.list_integrations()}
    routes: dict[str, dict[NoticeChannel, Route] | None] = {}

    def routes_of(integration: Integration) -> dict[NoticeChannel, Route] | None:
        """None while the integration's credentials cannot be read: its notices wait, the others go on."""
        if integration.id not in routes:
            try:
                routes[integration.id] = channel_routes(integration, deps, result)
            except OgosyncError as exc:
                routes[integration.id] = None
                result.counts["channels_unreadable"] += 1
                logger.warning("notice channels unreadable: left for a later run", extra={"reason": str(exc)})
        return routes[integration.id]

    send_pending(integrations, routes_of, deps, result)
    send_digests(integrations.values(), routes_of, deps, result)
    logger.info("notify run done", extra={"counts": dict(result.counts), "unknown": result.unexpected})
    return result


def channel_routes(integration: Integration, deps: NotifyDeps, result: NotifyResult) -> dict[NoticeChannel, Route]:
    """The integration's configured channels, each sending a message with the integration's credentials taken out.
    A webhook without its signing secret is not used: nothing unsigned leaves ogosync."""
    settings = integration.settings
    if not (settings.notify_email or settings.notify_webhook_url):
        return {}
    credentials = deps.secrets.credentials(integration)
    withheld = [value.get_secret_value() for _, value in credentials if isinstance(value, SecretStr)]
    routes: dict[NoticeChannel, Route] = {}
    mailer = deps.mailer
    if settings.notify_email and mailer is None:
        result.counts["email_without_sender"] += 1
        logger.warning("notify_email set but the stack has no NotifySender: no e-mail", extra={"id": integration.id})
    elif settings.notify_email and mailer is not None:
        email = settings.notify_email
        routes[NoticeChannel.EMAIL] = lambda message: mailer.send(email, message.subject, message.text)
    secret = credentials.notify_webhook_secret
    if settings.notify_webhook_url and secret is None:
        result.counts["webhook_without_secret"] += 1
        logger.warning("notice webhook set but no notify_webhook_secret: not used", extra={"id": integration.id})
    elif settings.notify_webhook_url and secret is not None:
        url, key = settings.notify_webhook_url, secret.get_secret_value()
        routes[NoticeChannel.WEBHOOK] = lambda message: deps.webhook.post(url, key, _json(message.body))
    return {channel: partial(_withholding, route, withheld) for channel, route in routes.items()}


def _withholding(route: Route, withheld: Sequence[str], message: Message) -> None:
    route(message.without(withheld))


RoutesOf = Callable[[Integration], dict[NoticeChannel, Route] | None]


def send_pending(
    integrations: Mapping[str, Integration], routes_of: RoutesOf, deps: NotifyDeps, result: NotifyResult
) -> None:
    for notice in deps.notices.pending(deps.batch):
        integration = integrations.get(notice.integration_id)
        routes = routes_of(integration) if integration is not None else {}
        if routes is None:
            continue
        if integration is None or notice.failures >= deps.give_up_failures:
            result.counts["given_up" if routes else "no_channel"] += 1
            deps.notices.close(notice)
            continue
        message = notice_message(integration, notice)
        for channel, route in routes.items():
            if channel not in notice.sent:
                _send_once(notice, channel, partial(route, message), deps, result)
        if all(channel in notice.sent for channel in routes):
            deps.notices.close(notice)
            result.counts["closed"] += 1


def _send_once(
    notice: Notice, channel: NoticeChannel, send: Callable[[], None], deps: NotifyDeps, result: NotifyResult
) -> None:
    claimed_at = deps.clock()
    if not deps.notices.claim_send(notice, channel, claimed_at):
        return  # another run has it
    about = {"notice": notice.notice_id, "channel": channel}
    try:
        send()
    except NotDeliveredError as exc:
        deps.notices.release_send(notice, channel, claimed_at)
        result.counts["not_delivered"] += 1
        logger.warning("notice not delivered; sent again by a later run", extra=about | {"reason": str(exc)})
        return
    except Exception:
        result.unexpected += 1
        logger.exception("notice send ended with an unknown outcome: left claimed, not sent again", extra=about)
        return
    notice.sent[channel] = claimed_at
    result.counts[f"sent_{channel}"] += 1


def send_digests(
    integrations: Iterable[Integration], routes_of: RoutesOf, deps: NotifyDeps, result: NotifyResult
) -> None:
    now = deps.clock()
    for integration in integrations:
        local = now.astimezone(integration.zone)
        if integration.status is not IntegrationStatus.ACTIVE or local.hour != deps.digest_hour:
            continue
        if not (integration.settings.notify_email or integration.settings.notify_webhook_url):
            continue
        routes = routes_of(integration)
        if not routes or not deps.notices.claim_digest(integration.id, local.date().isoformat(), now):
            continue
        message = digest_message(integration, local.date().isoformat(), deps)
        if message is None:
            result.counts["digest_nothing_open"] += 1
            continue
        for channel, route in routes.items():
            try:
                route(message)
            except NotDeliveredError as exc:  # the next day's digest tells it again
                result.counts["digest_not_delivered"] += 1
                logger.warning("digest not delivered", extra={"id": integration.id, "reason": str(exc)})
            except Exception:
                result.unexpected += 1
                logger.exception("digest send ended with an unknown outcome", extra={"id": integration.id})
            else:
                result.counts[f"digest_{channel}"] += 1


# ---- what the messages say --------------------------------------------------------------------------


def notice_message(integration: Integration, notice: Notice) -> Message:
    local = notice.at.astimezone(integration.zone)
    title = TITLES[notice.kind]
    text = (
        f"{notice.summary}\n\n"
        f"Integration: {integration.id} ({integration.merchant_name})\n"
        f"When: {local:%Y-%m-%d %H:%M} ({integration.time_zone})\n\n"
        "You get one message per event and a daily summary of what is still open. "
        "The ogosync console shows the details."
    )
    body = {
        "type": "notice",
        "id": notice.notice_id,
        "integration_id": integration.id,
        "kind": str(notice.kind),
        "subject": notice.subject,
        "summary": notice.summary,
        "at": notice.at.isoformat(),
    }
    return Message(subject=f"ogosync: {title} ({integration.merchant_name})", text=text, body=body)


def digest_message(integration: Integration, day: str, deps: NotifyDeps) -> Message | None:
    """What is still open for the integration, or None when nothing is."""
    now = deps.clock()
    held_ids = deps.state.held_order_ids(integration.id, now - timedelta(days=integration.settings.held_recheck_days))
    held = deps.state.get_order_bindings(integration.id, held_ids).values()
    oldest_held = min((b.store_placed_at or b.first_seen_at for b in held), default=None)
    refused = sorted(refusal.sku for refusal in deps.refusals.all_product_refusals(integration.id))
    waiting = deps.aftercare.waiting_shipments(integration.id)
    oldest_waiting = min((shipment.since for shipment in waiting), default=None)
    if not (held or refused or waiting):
        return None
    lines = [
        f"Held orders: {len(held)}" + _oldest(oldest_held, integration),
        f"Products refused by myOGO: {len(refused)}" + (f" ({', '.join(refused[:DIGEST_SKUS])})" if refused else ""),
        f"Shipments waiting for the store: {len(waiting)}" + _oldest(oldest_waiting, integration),
    ]
    text = (
        f"What is still open for {integration.id} ({integration.merchant_name}) on {day}:\n\n"
        + "\n".join(lines)
        + "\n\nThe ogosync console shows each of them."
    )
    body = {
        "type": "digest",
        "integration_id": integration.id,
        "day": day,
        "held_orders": {"count": len(held), "oldest": _iso(oldest_held)},
        "refused_products": {"count": len(refused), "skus": refused[:DIGEST_SKUS]},
        "waiting_shipments": {"count": len(waiting), "oldest": _iso(oldest_waiting)},
    }
    return Message(subject=f"ogosync: daily summary ({integration.merchant_name})", text=text, body=body)


def _oldest(moment: datetime | None, integration: Integration) -> str:
    return f" (oldest since {moment.astimezone(integration.zone):%Y-%m-%d %H:%M})" if moment else ""


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _json(body: Mapping[str, object]) -> bytes:
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
