"""E-mail through Amazon SES (the notify function): one SendEmail per message, from the stack's sender identity.

An answer with an error (MessageRejected, a throttle, an unverified identity) means SES took nothing: that is
NotDeliveredError, and the notice may be sent again. A timeout after the request left leaves it unknown whether SES
took it, so it is raised as it is and the notice stays claimed (at most once, sync/notify.py).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError, EndpointConnectionError

from ogosync.errors import NotDeliveredError


class SesMailer:
    def __init__(self, client: Any, sender: str) -> None:
        self._client = client
        self._sender = sender

    def send(self, to: str, subject: str, text: str) -> None:
        try:
            self._client.send_email(
                Source=self._sender,
                Destination={"ToAddresses": [to]},
                Message={
                    "Subject": {"Data": subject, "Charset": "UTF-8"},
                    "Body": {"Text": {"Data": text, "Charset": "UTF-8"}},
                },
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "error")
            raise NotDeliveredError(f"SES did not take the message ({code})") from None
        except EndpointConnectionError:
            raise NotDeliveredError("SES could not be reached") from None
