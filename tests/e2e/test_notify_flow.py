"""A merchant hears about a held order on the local stack: the real order poll records it, the real notify function
sends it by SES (moto) once, and the daily digest lists it once, however often the poll and the notify run repeat."""

from __future__ import annotations

import time

import pytest

from ogosync.models import Flow, IntegrationSettings, OrderImportJob
from ogosync.timeutil import utc_now
from ogosync_local.stack import LocalStack

pytestmark = pytest.mark.e2e
SIZE = "TS100BLKM"
MERCHANT_EMAIL = "ops@merchant.example"
DIGEST_HOUR = 8  # sync/notify.py's NotifyDeps.digest_hour


def _zone_in_its_digest_hour() -> str:
    """A time zone where it is the digest hour now (the digest goes in the integration's local morning). Near the
    end of an hour it waits for the next one, so the runs below stay inside the hour."""
    now = utc_now()
    if now.minute >= 58:
        time.sleep((60 - now.minute) * 60 - now.second + 1)
        now = utc_now()
    offset = (DIGEST_HOUR - now.hour) % 24
    offset = offset - 24 if offset > 14 else offset
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"  # Etc/GMT-3 is UTC+3


def test_a_held_order_gives_one_message_and_one_digest_line_however_often_the_runs_repeat(stack: LocalStack) -> None:
    settings = IntegrationSettings(order_poll_minutes=1, notify_email=MERCHANT_EMAIL)
    setup = stack.add_centra_store(
        "acme-centra",
        shipping_map={"standard": "POSTI"},
        time_zone=_zone_in_its_digest_hour(),
        settings=settings,
    )
    setup.centra.add_product("TS100", "BLK", "M", ean="7350000000017", stock=50)
    stack.myogo.add_product(setup.merchant_id, SIZE, stock=50)
    held = setup.centra.add_order([{"product": SIZE}], shipping_list="drone")["orderId"]
    setup.centra.add_order([{"product": SIZE}])  # sent to myOGO: nothing to tell

    for _ in range(2):
        stack.enqueue_flow(setup.integration.id, Flow.ORDERS)
        assert stack.run_flow(Flow.ORDERS).failed == 0
    runs = [stack.run_notify() for _ in range(3)]

    emails = stack.aws.sent_emails()
    assert [email["destinations"]["ToAddresses"] for email in emails] == [[MERCHANT_EMAIL]] * 2
    notice, digest = sorted(emails, key=lambda email: "daily summary" in email["subject"])
    assert "an order is held" in notice["subject"] and f"Order {held} is held" in notice["body"]
    assert "drone" in notice["body"]
    assert "daily summary" in digest["subject"]
    (held_line,) = [line for line in digest["body"].splitlines() if line.startswith("Held orders:")]
    assert held_line.startswith("Held orders: 1 (oldest since ")
    assert [run.get("sent_email", 0) for run in runs] == [1, 0, 0]
    assert [run.get("digest_email", 0) for run in runs] == [1, 0, 0]
    secrets = [value for value in setup.secret_values.values() if len(value) > 8]
    assert [value for value in secrets for email in emails if value in email["body"]] == []


def test_credentials_the_store_stopped_taking_are_told_once_whichever_flows_meet_them(stack: LocalStack) -> None:
    settings = IntegrationSettings(order_poll_minutes=1, notify_email=MERCHANT_EMAIL)
    setup = stack.add_centra_store("acme-centra", shipping_map={"standard": "POSTI"}, settings=settings)
    old_key = setup.secret_values["store_api_key"]
    setup.centra.api_key = "rotated-without-telling-ogosync"  # every call of ours now gets 401

    hint = OrderImportJob(integration_id=setup.integration.id, order_id="1001", source="webhook")
    stack.aws.client("sqs").send_message(
        QueueUrl=stack.aws.queue_urls["OrderQueue"], MessageBody=hint.model_dump_json()
    )
    failed = 0
    for _ in range(2):  # the poll, and its retry
        stack.enqueue_flow(setup.integration.id, Flow.ORDERS)
        failed += stack.run_flow(Flow.ORDERS).failed
    failed += stack.run_order_workers().failed  # an order a webhook named
    runs = [stack.run_notify() for _ in range(2)]

    assert failed == 3  # each job fails as before (the queue retries it), the notice aside
    (email,) = stack.aws.sent_emails()
    assert "credentials stopped working" in email["subject"]
    assert "The credentials for the store (centra) were refused (HTTP 401)" in email["body"]
    assert old_key not in email["body"] and setup.centra.api_key not in email["body"]
    assert [run.get("sent_email", 0) for run in runs] == [1, 0]
