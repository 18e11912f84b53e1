"""The notice channels' adapters over real HTTP: SES on moto, and the signed webhook to a loopback receiver."""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from ogosync.aws.ses import SesMailer
from ogosync.errors import NotDeliveredError
from ogosync.webhook_out import SIGNATURE_HEADER, SignedWebhook
from ogosync_local.aws import LocalAws

pytestmark = pytest.mark.integration
KEY = "nwhsec-0123456789abcdef"


def test_ses_sends_from_a_verified_sender_and_a_refusal_is_not_delivered(local_aws: LocalAws) -> None:
    ses = local_aws.client("ses")
    SesMailer(ses, local_aws.notify_sender).send("ops@merchant.example", "ogosync: subject", "the text")

    with pytest.raises(NotDeliveredError, match="MessageRejected"):
        SesMailer(ses, "unverified@ogosync.local").send("ops@merchant.example", "s", "t")

    (sent,) = [email for email in local_aws.sent_emails() if email["subject"] == "ogosync: subject"]
    assert (sent["destinations"]["ToAddresses"], sent["body"]) == (["ops@merchant.example"], "the text")


class _Receiver(BaseHTTPRequestHandler):
    answers: ClassVar[list[int]] = []
    seen: ClassVar[list[tuple[str, bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append((self.headers[SIGNATURE_HEADER], body))
        self.send_response(self.answers.pop(0))
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[_Receiver]]]:
    handler = type("Receiver", (_Receiver,), {"answers": [], "seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", handler
    server.shutdown()
    server.server_close()


def test_the_webhook_posts_a_body_the_receiver_can_verify_and_a_refusal_is_not_delivered(
    receiver: tuple[str, type[_Receiver]],
) -> None:
    url, handler = receiver
    handler.answers += [200, 503]
    webhook = SignedWebhook(now=lambda: 1_770_000_000)

    webhook.post(url, KEY, b'{"type":"notice"}')
    with pytest.raises(NotDeliveredError, match="503"):
        webhook.post(url, KEY, b"{}")

    signature, body = handler.seen[0]
    timestamp, mac = (part.split("=", 1)[1] for part in signature.split(","))
    expected = hmac.new(KEY.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert (timestamp, body) == ("1770000000", b'{"type":"notice"}') and hmac.compare_digest(mac, expected)


def test_a_webhook_nobody_listens_on_is_not_delivered() -> None:
    with pytest.raises(NotDeliveredError, match="could not be reached"):
        SignedWebhook().post("http://127.0.0.1:1/hook", KEY, b"{}")
