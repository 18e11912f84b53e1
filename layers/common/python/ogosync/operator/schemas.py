"""What the operator API takes and answers. Credentials come in and never go out: no answer model has a field
that could hold one."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from typing import Annotated, Any, Self
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_core import PydanticCustomError

from ogosync.models import (
    INTEGRATION_ID_PATTERN,
    AttentionOrder,
    BindingStatus,
    Credentials,
    Flow,
    Hold,
    Integration,
    IntegrationSettings,
    IntegrationStatus,
    Platform,
    WaitingShipment,
)
from ogosync.ports import QueueDepth
from ogosync.stores.credentials import CentraCredentials, StoreCredentials


def _base_url(url: str) -> str:
    """A base URL without its trailing slashes (the adapters join paths to it), and with a host."""
    trimmed = url.rstrip("/")
    if not urlsplit(trimmed).hostname:
        raise PydanticCustomError("url_without_host", "a URL with a host, e.g. https://shop.example/api")
    return trimmed


@cache
def _time_zone_names() -> list[str]:
    return sorted(available_timezones())


def _known_time_zone(name: str) -> str:
    """An IANA time zone name; a wrong one is answered with the closest names."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        pass
    else:
        return name
    close = difflib.get_close_matches(name, _time_zone_names(), n=3, cutoff=0.6)
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    raise PydanticCustomError(
        "unknown_time_zone",
        "unknown time zone {name}: {hint}use an IANA time zone name such as Europe/Stockholm or Europe/Helsinki",
        {"name": repr(name[:64]), "hint": hint},
    )


SecretText = Annotated[SecretStr, Field(min_length=1, max_length=1000)]
PlainText = Annotated[str, Field(min_length=1, max_length=200)]
NoticeKey = Annotated[SecretStr, Field(min_length=16, max_length=1000)]  # an HMAC key worth the name
Url = Annotated[str, Field(pattern=r"^https?://\S+$", max_length=500)]
BaseUrl = Annotated[Url, AfterValidator(_base_url)]
TimeZone = Annotated[
    str,
    Field(min_length=1, max_length=64, description="the store's time zone, e.g. Europe/Stockholm"),
    AfterValidator(_known_time_zone),
]
_NO_EDGE_SPACE = r"^\S(.*\S)?$"


def refuse_unknown_fields(model: type[BaseModel], data: Any, kind: str) -> Any:
    """Before validation: names not among the model's fields are refused with the names that are (pydantic's own
    words, "Extra inputs are not permitted", name neither)."""
    if isinstance(data, Mapping):
        unknown = sorted(str(name) for name in data if name not in model.model_fields)
        if unknown:
            raise PydanticCustomError(
                "unknown_field",
                "unknown {kind} {unknown}: the {kind}s are {known}",
                {
                    "kind": kind,
                    "unknown": ", ".join(name[:64] for name in unknown),
                    "known": ", ".join(model.model_fields),
                    "first": unknown[0][:64],  # errors.describe names it as the field at fault
                },
            )
    return data


class Schema(BaseModel):
    """The base of the operator API's bodies: each builds its validator when first used (defer_build), so that a
    function that imports this module (the console, the operator API) builds only the ones it serves."""

    model_config = ConfigDict(defer_build=True)


class Request(Schema):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    @model_validator(mode="before")
    @classmethod
    def _known_fields_only(cls, data: Any) -> Any:
        return refuse_unknown_fields(cls, data, "field")


class SettingsIn(IntegrationSettings):
    """The settings as a request takes them: an unknown name is refused with the names there are."""

    @model_validator(mode="before")
    @classmethod
    def _known_settings_only(cls, data: Any) -> Any:
        return refuse_unknown_fields(cls, data, "setting")


class ErrorBody(Schema):
    """Every 4xx and 5xx answer of the operator API."""

    status: int
    code: str = Field(description="a short word for scripts, e.g. unknown_integration, invalid_request")
    message: str = Field(description="what went wrong, for a person")
    field: str | None = Field(default=None, description="the request field at fault, when there is one")


# ---- integrations -------------------------------------------------------------------------------


_STORE_CREDENTIALS = (
    "the store platform's credentials: {platform: centra, api_key}, {platform: shopify, client_id, client_secret} "
    "or {platform: shopify, access_token}, {platform: woocommerce, consumer_key, consumer_secret}"
)


class CredentialsIn(Request):
    """The secrets of an integration. Kept in Secrets Manager, never returned."""

    store: StoreCredentials | None = Field(default=None, description=_STORE_CREDENTIALS)
    store_api_key: SecretText | None = Field(
        default=None, description="Centra's Order API key alone: short for store = {platform: centra, api_key}"
    )
    webhook_secret: Annotated[SecretStr, Field(max_length=1000)] | None = Field(
        default=None, description="the Endpoint secret typed in the store's webhook plugin; can be added later"
    )
    myogo_merchant_id: PlainText
    myogo_secret_token: SecretText
    myogo_client_id: PlainText
    myogo_client_secret: SecretText
    myogo_webhook_key: SecretText | None = Field(  # never empty: an empty HMAC key would let anyone sign
        default=None, description="the key of myOGO's OrderShipped webhook, where the merchant registered one"
    )
    notify_webhook_secret: NoticeKey | None = Field(
        default=None, description="the key ogosync signs the merchant's notice webhook with (the merchant gets it too)"
    )

    @model_validator(mode="after")
    def _store_once(self) -> Self:
        if (self.store is None) == (self.store_api_key is None):
            raise PydanticCustomError(
                "store_credentials",
                "give the store's credentials as `store` (or Centra's key as `store_api_key`), once",
            )
        return self

    def store_credentials(self) -> StoreCredentials:
        return self.store or CentraCredentials(api_key=self.store_api_key or SecretStr(""))

    def to_credentials(self) -> Credentials:
        return Credentials(
            store=self.store_credentials(),
            webhook_secret=self.webhook_secret or SecretStr(""),
            myogo_merchant_id=self.myogo_merchant_id,
            myogo_secret_token=self.myogo_secret_token,
            myogo_client_id=self.myogo_client_id,
            myogo_client_secret=self.myogo_client_secret,
            myogo_webhook_key=self.myogo_webhook_key,
            notify_webhook_secret=self.notify_webhook_secret,
        )


class CredentialsPatch(Request):
    """Credentials to rotate; the ones not sent stay as they are."""

    store: StoreCredentials | None = Field(default=None, description="replaces the store's credentials whole")
    store_api_key: SecretText | None = Field(default=None, description="Centra: a new Order API key")
    webhook_secret: Annotated[SecretStr, Field(max_length=1000)] | None = None
    myogo_merchant_id: PlainText | None = None
    myogo_secret_token: SecretText | None = None
    myogo_client_id: PlainText | None = None
    myogo_client_secret: SecretText | None = None
    myogo_webhook_key: SecretText | None = Field(default=None, description="null removes it: myOGO webhooks refused")
    notify_webhook_secret: NoticeKey | None = Field(
        default=None, description="null removes it: the notice webhook is then not used"
    )


class IntegrationCreate(Request):
    """A new integration (seed 004, "Installing the integration"). Intervals and options are in `settings`."""

    id: str = Field(pattern=INTEGRATION_ID_PATTERN, description="lower case letters, digits and dashes")
    platform: Platform
    merchant_name: PlainText
    store_base_url: BaseUrl = Field(
        description="the store's API base URL, as its platform's set-up text says (ogosync integrations platforms)"
    )
    store_options: dict[str, Any] = Field(
        default_factory=dict,
        description="the platform's own settings (Shopify: location_id, paid_statuses, notify_customer); "
        "`ogosync integrations platforms` lists them",
    )
    myogo_base_url: BaseUrl = Integration.model_fields["myogo_base_url"].default
    myogo_token_url: Url = Integration.model_fields["myogo_token_url"].default
    warehouse: str = Field(min_length=1, max_length=20, description="the myOGO warehouse, e.g. TLL")
    time_zone: TimeZone
    settings: SettingsIn = Field(default_factory=SettingsIn)
    paused: bool = Field(default=False, description="create it paused: nothing syncs until it is resumed")
    credentials: CredentialsIn


class IntegrationPatch(Request):
    """Changes to an integration; what is not sent stays. In `settings` too, only the fields sent change."""

    merchant_name: PlainText | None = None
    store_base_url: BaseUrl | None = None
    store_options: dict[str, Any] | None = Field(default=None, description="replaces the platform's options whole")
    myogo_base_url: BaseUrl | None = None
    myogo_token_url: Url | None = None
    warehouse: Annotated[str, Field(min_length=1, max_length=20)] | None = None
    time_zone: TimeZone | None = None
    settings: SettingsIn | None = None
    credentials: CredentialsPatch | None = None


class IntegrationDeleted(Schema):
    integration_id: str
    removed_items: int
    order_bindings_kept_until: datetime = Field(
        description="order bindings stay until then, so that an integration created again with this id and store "
        "cannot send an order twice"
    )
    secret_deleted_after_days: int


class WebhookInfo(Schema):
    integration_id: str
    platform: Platform
    url: str = Field(description="the URL to paste into the store's webhook plugin")
    secret_configured: bool = Field(description="whether ogosync has the webhook's endpoint secret")
    instructions: str


# ---- shipping methods ---------------------------------------------------------------------------


class ShippingMethod(Schema):
    store_method: str
    myogo_code: str | None = Field(description="the myOGO shipping code orders with this method get; None: held")
    by_default: bool = Field(description="the code comes from the default mapping '*'")
    orders_seen: int = Field(description="recent store orders with this method")


class ShippingMethods(Schema):
    integration_id: str
    default_code: str | None = Field(description="the code of the default mapping '*', if any")
    methods: list[ShippingMethod]
    orders_read: int
    store_error: str | None = Field(default=None, description="why the store's recent orders could not be read")
    myogo_codes: list[str] | None = Field(
        default=None, description="the shipping codes myOGO enables for this merchant; None: no list to choose from"
    )
    myogo_codes_error: str | None = Field(default=None, description="why myOGO's list could not be read")


class ShippingMappingIn(Request):
    store_method: str = Field(
        min_length=1, max_length=200, pattern=_NO_EDGE_SPACE, description="the store's method; '*' for all others"
    )
    myogo_code: str = Field(min_length=1, max_length=100, pattern=_NO_EDGE_SPACE)


class ShippingMapping(Schema):
    integration_id: str
    store_method: str
    myogo_code: str
    checked: bool = Field(
        default=False, description="myOGO's list of the merchant's shipping codes has the code; False: no list"
    )


# ---- status ---------------------------------------------------------------------------------------


class FlowStatus(Schema):
    flow: Flow
    deployed: bool = Field(description="the flow has a queue in this deployment")
    interval_minutes: int = Field(description="minutes between scheduled runs; 0: the flow is off")
    health: str = Field(description="at a glance: ok, errors, overdue, not run yet, off or not deployed")
    result: str = Field(description="never_run, ok or errors")
    last_run_started: AwareDatetime | None = None
    last_run_ended: AwareDatetime | None = None
    last_counts: dict[str, int] = Field(default_factory=dict)
    last_error: str | None = None
    watermark: AwareDatetime | None = None
    lag_seconds: int | None = Field(default=None, description="seconds since the last run ended")
    overdue: bool = Field(
        description="active, deployed and on, has run before, but no run ended within two intervals since"
    )
    future_dated: list[str] = Field(
        default_factory=list, description="what the last run saw dated in the future (ids); the watermark stops at now"
    )
    warnings: list[str] = Field(default_factory=list, description="what a person should look at, and why")


class IntegrationState(Schema):
    integration_id: str
    status: IntegrationStatus
    flows: list[FlowStatus]
    held_orders: int
    needs_person: list[AttentionOrder] = Field(
        default_factory=list, description="sent orders a person must look at (cancelled or edited too late)"
    )
    waiting_for_store: list[WaitingShipment] = Field(
        default_factory=list, description="shipments the store cannot take yet (an unconfirmed order), oldest first"
    )


class Overview(Schema):
    integrations: list[IntegrationState]
    queues: list[QueueDepth]


class OrderEvent(Schema):
    at: AwareDatetime
    where: str = Field(description="store, ogosync or myogo")
    event: str


class StoreSide(Schema):
    found: bool
    state: str | None = None
    shipping_method: str | None = None
    holds: list[Hold] = Field(default_factory=list)
    error: str | None = None


class WarehouseSide(Schema):
    found: bool
    status: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    error: str | None = None


class OrderHistory(Schema):
    integration_id: str
    order_id: str
    reference: str
    status: BindingStatus | None = Field(description="where ogosync has the order; None: not seen yet")
    holds: list[Hold] = Field(default_factory=list)
    skip_reason: str | None = None
    attempts: int = 0
    last_error: str | None = None
    timeline: list[OrderEvent]
    shipment: str | None = Field(
        default=None, description="the push of its shipment to the store: claimed, failed, pushed, rejected..."
    )
    store: StoreSide | None = Field(default=None, description="what the store says now (live=true)")
    myogo: WarehouseSide | None = Field(default=None, description="what myOGO says now (live=true)")


class HeldOrder(Schema):
    order_id: str
    reference: str
    holds: list[Hold]
    placed_at: AwareDatetime | None
    first_seen_at: AwareDatetime
    updated_at: AwareDatetime


class OrderOutcome(Schema):
    integration_id: str
    order_id: str
    status: BindingStatus = Field(description="where ogosync has the order after the action")
    queued: bool = Field(default=False, description="a new import of the order was queued")


class Released(Schema):
    integration_id: str
    order_ids: list[str] = Field(description="orders queued for a new import; the import re-reads and re-decides")


# ---- runs and queues ----------------------------------------------------------------------------


class FlowRun(Schema):
    integration_id: str
    flow: Flow
    enqueued_at: AwareDatetime


class DeadLettersDiscarded(Schema):
    queue: str
    discarded: int = Field(description="messages deleted from the dead-letter queue for good")
