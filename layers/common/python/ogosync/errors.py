"""ogosync's own exceptions. Adapters turn every platform failure into one of these, with a clear message."""

from __future__ import annotations


class OgosyncError(Exception):
    """Base of every error ogosync raises on purpose."""


class ConfigurationError(OgosyncError):
    """The integration's settings or credentials are missing or invalid."""


class UnknownIntegrationError(OgosyncError):
    """No integration with this id exists."""

    def __init__(self, integration_id: str) -> None:
        super().__init__(f"unknown integration {integration_id!r}")
        self.integration_id = integration_id


class PlatformError(OgosyncError):
    """A store or warehouse API answered with an error.

    `platform` names the system ("centra", "myogo"), `status` is the HTTP status when there was one.
    """

    def __init__(self, platform: str, message: str, status: int | None = None) -> None:
        where = f"{platform} HTTP {status}" if status is not None else platform
        super().__init__(f"{where}: {message}")
        self.platform = platform
        self.status = status
        self.detail = message


class UnreadableRecordError(PlatformError):
    """A record a platform returned (an order, a stock row) cannot be interpreted: held and reported, never guessed."""


class TransientPlatformError(PlatformError):
    """A failure worth retrying later: 5xx, 429, timeout, connection error."""


class AuthenticationError(PlatformError):
    """The platform refused the credentials."""


class RejectedByPlatformError(PlatformError):
    """The platform understood the request and refused it (validation, unknown item); retrying will not help."""


class NotFoundError(PlatformError):
    """The platform has no such object."""


class ConcurrencyConflictError(OgosyncError):
    """A conditional write lost against another writer (a claim, a lock, a cursor)."""


class ReferencePrefixTakenError(OgosyncError):
    """Another integration sends (or sent) orders to the same myOGO merchant under this reference prefix."""

    def __init__(self, merchant_id: str, prefix: str, owner: str) -> None:
        super().__init__(
            f"myOGO merchant {merchant_id!r} takes orders with reference prefix {prefix!r} from integration {owner!r}"
        )
        self.merchant_id = merchant_id
        self.prefix = prefix
        self.owner = owner


class WebhookRejectedError(OgosyncError):
    """A webhook delivery is refused; `status` is the 4xx to answer with, `reason` a short code word."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


class AlreadyExistsError(RejectedByPlatformError):
    """The platform already has an object with this key (a myOGO order reference, a product code)."""


class CaptureFailedError(RejectedByPlatformError):
    """The store could not capture the order's payment, so it shipped nothing: a possible fraud (Centra's advice)."""


class OrderNotReadyError(PlatformError):
    """The store cannot take a shipment of the order yet (Centra: the order is not confirmed); retry later."""


class ShipmentMismatchError(OgosyncError):
    """myOGO shipped lines the store order does not have (or the store cannot show the order): refused, for a person."""


class NotDeliveredError(OgosyncError):
    """A notice's channel (SES, the merchant's webhook) answered that it did not take the message: it was certainly
    not delivered, so it may be sent again."""
