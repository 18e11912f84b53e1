"""Domain models shared by every flow. Platform adapters translate to and from these."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    TypeAdapter,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from ogosync import jsonwire
from ogosync.stores.credentials import StoreCredentials

INTEGRATION_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{2,62}$"
MIN_PRODUCT_SYNC_MINUTES = 5  # a full product scan is heavy: not more often than this
DEFAULT_SHIPPING_KEY = "*"  # a shipping mapping for every store method that has no mapping of its own


_DEFERRED = ConfigDict(defer_build=True)


class Model(BaseModel):
    """The base of the models here. Each builds its validator and serializer when first used (defer_build), not
    when this module is imported: a function uses a handful of these models, and building all of them was most of
    its cold import (docs/benchmarks.md, "Cold imports and memory")."""

    model_config = _DEFERRED


class Platform(StrEnum):
    CENTRA = "centra"
    SHOPIFY = "shopify"
    WOOCOMMERCE = "woocommerce"


class Flow(StrEnum):
    ORDERS = "orders"
    PRODUCTS = "products"
    STOCK = "stock"
    TRACKING = "tracking"


class IntegrationStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"


def _valid_time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc
    return name


TimeZoneName = Annotated[str, AfterValidator(_valid_time_zone)]


class IntegrationSettings(Model):
    """What a merchant tunes after set-up ("Adjust the settings", seed 004 step 7)."""

    model_config = ConfigDict(extra="forbid")

    # The four flow intervals: 0 switches that flow's scheduled runs off (webhooks and "run now" still work).
    order_poll_minutes: int = Field(default=5, ge=0, le=60, description="0: off")
    product_sync_minutes: int = Field(default=60, ge=0, le=24 * 60, description="0: off, else at least 5")
    stock_sync_minutes: int = Field(default=10, ge=0, le=24 * 60, description="0: off")
    tracking_poll_minutes: int = Field(default=10, ge=0, le=24 * 60, description="0: off")
    stock_reconcile_hour: int = Field(default=3, ge=0, le=23, description="local hour of the daily full stock sync")
    create_new_products: bool = Field(default=False, description="create new store products in myOGO on schedule")
    pricelist: str | None = Field(default=None, description="the store pricelist whose price is sent to myOGO")
    product_url_template: str | None = Field(
        default=None, description="the product page URL, with {sku} (e.g. https://shop.example/p/{sku})"
    )
    poll_overlap_minutes: int = Field(default=10, ge=1, le=24 * 60)
    first_poll_lookback_hours: int = Field(default=24, ge=1, le=24 * 30)
    held_recheck_days: int = Field(default=14, ge=1, le=90)
    held_recheck_per_run: int = Field(
        default=200, ge=1, le=10_000, description="held orders re-read in the store per order poll, in rotation"
    )
    late_order_lookback_hours: int = Field(
        default=24, ge=1, le=24 * 30, description="how far back the late sweep looks for orders the poll missed"
    )
    late_sweep_minutes: int = Field(
        default=50,
        ge=5,
        le=24 * 60,
        description="minutes between late sweeps (a late order waits at most this plus order_poll_minutes)",
    )
    idle_order_poll_minutes: int = Field(
        default=20,
        ge=0,
        le=60,
        description="the order poll's interval while the poll finds nothing the webhooks have not imported "
        "(after an hour of such polls); 0: never longer than order_poll_minutes",
    )
    webhook_orders_per_minute: int = Field(
        default=100,
        ge=1,
        le=10_000,
        description="orders a minute the store's webhooks put in the shared order queue; the rest are imported by "
        "the order poll, woken at once (one merchant's backlog never queues ahead of the others)",
    )
    poll_import_limit: int = Field(
        default=1000,
        ge=1,
        le=50_000,
        description="orders one order poll imports; it queues its own next run for the rest",
    )
    reference_prefix: str = Field(default="", max_length=20, pattern=r"^[A-Za-z0-9_-]*$")
    send_as_test_orders: bool = False
    language_code: str = Field(default="en", pattern=r"^[a-z]{2}$")
    notify_email: str | None = Field(
        default=None,
        max_length=254,
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        description="where the merchant's notices and daily digest go by e-mail (none: no e-mail)",
    )
    notify_webhook_url: str | None = Field(
        default=None,
        max_length=2000,
        pattern=r"^https://\S+$",
        description="an HTTPS URL that receives each notice as signed JSON (credentials.notify_webhook_secret)",
    )

    @field_validator("product_sync_minutes")
    @classmethod
    def _product_sync_off_or_sparse(cls, minutes: int) -> int:
        if 0 < minutes < MIN_PRODUCT_SYNC_MINUTES:
            raise ValueError(f"must be 0 (off) or at least {MIN_PRODUCT_SYNC_MINUTES} minutes")
        return minutes


@dataclass(frozen=True)
class IntegrationSchedule:
    """What the scheduler's tick needs of an integration: whether it is active and each flow's interval in minutes
    (0: off). A plain dataclass: the tick reads one for every integration of the fleet every minute."""

    integration_id: str
    active: bool
    intervals: Mapping[Flow, int]
    idle_order_poll_minutes: int = 0  # IntegrationSettings.idle_order_poll_minutes


class Integration(Model):
    """One merchant's store connected to one myOGO merchant account. Holds no secret, only where it is kept."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=INTEGRATION_ID_PATTERN)
    platform: Platform
    merchant_name: str = Field(min_length=1, max_length=200)
    store_base_url: str = Field(pattern=r"^https?://")
    myogo_base_url: str = Field(default="https://api.ogoship.com", pattern=r"^https?://")
    myogo_token_url: str = Field(default="https://my.ogoship.com/OAuth/Token", pattern=r"^https?://")
    warehouse: str = Field(min_length=1, max_length=20)
    time_zone: TimeZoneName
    status: IntegrationStatus = IntegrationStatus.ACTIVE
    secret_name: str = Field(min_length=1)
    settings: IntegrationSettings = Field(default_factory=IntegrationSettings)
    store_options: dict[str, Any] = Field(
        default_factory=dict,
        description="the store platform's own settings, checked by its options model (stores/registry.py)",
    )
    past_reference_prefixes: list[str] = Field(
        default_factory=list,
        max_length=40,
        description="reference prefixes used before the current one: orders sent under them keep their references",
    )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def myogo_reference(self, store_order_id: str) -> str:
        """The myOGO reference a store order not yet recorded gets; once recorded, its binding's reference stands."""
        return f"{self.settings.reference_prefix}{store_order_id}"

    def reference_prefixes(self) -> list[str]:
        """Every prefix the integration's orders may have in myOGO: the current one first, then the past ones."""
        return list(dict.fromkeys([self.settings.reference_prefix, *self.past_reference_prefixes]))


class Credentials(Model):
    """The secret part of an integration, kept in Secrets Manager. SecretStr keeps values out of reprs and logs.

    `store` holds the store platform's own credentials (stores/credentials.py); `webhook_secret` is the secret the
    store signs its webhooks with (Centra: the webhook plugin's Endpoint secret; Shopify: the app's client secret)."""

    model_config = ConfigDict(extra="forbid")

    store: StoreCredentials
    webhook_secret: SecretStr
    myogo_merchant_id: str
    myogo_secret_token: SecretStr
    myogo_client_id: str
    myogo_client_secret: SecretStr
    myogo_webhook_key: SecretStr | None = None  # the key of the merchant's myOGO webhook, where one is registered
    notify_webhook_secret: SecretStr | None = None  # the HMAC key of the merchant's notice webhook (sync/notify.py)

    @model_validator(mode="before")
    @classmethod
    def _centra_key_of_old_secrets(cls, data: Any) -> Any:
        """Secrets written before store credentials had a platform hold Centra's key as `store_api_key`."""
        if isinstance(data, dict) and "store" not in data and "store_api_key" in data:
            rest = {key: value for key, value in data.items() if key != "store_api_key"}
            return rest | {"store": {"platform": "centra", "api_key": data["store_api_key"]}}
        return data

    def revealed(self) -> dict[str, Any]:
        """Every value in plain text: only for Secrets Manager and in-memory digests, never for logs or answers."""
        return {name: _revealed(value) for name, value in self}


def _revealed(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, BaseModel):
        return {name: _revealed(item) for name, item in value}
    return value


# ---- orders -------------------------------------------------------------------------------------


class Address(Model):
    name: str = ""
    company: str | None = None
    address1: str = ""
    address2: str | None = None
    zip: str | None = None
    city: str = ""
    state: str | None = None
    country_code: str = ""
    email: str | None = None
    phone: str | None = None


class OrderLine(Model):
    line_id: str
    sku: str = Field(description="the full warehouse code of the item; empty when the store has none")
    name: str = ""
    quantity: int
    unit_price: Decimal = Field(description="per unit, VAT included")
    vat_percentage: Decimal | None = None


class StoreOrderState(StrEnum):
    """Where the store says the order is, in the terms ogosync acts on."""

    PAID = "paid"
    AWAITING_PAYMENT = "awaiting_payment"
    CANCELLED = "cancelled"
    FULFILLED = "fulfilled"
    NOT_FOR_WAREHOUSE = "not_for_warehouse"  # the store ships the whole order from another location


class HoldReason(StrEnum):
    """Why a paid-looking order is kept back from myOGO. Each one is shown to the merchant."""

    AWAITING_PAYMENT = "awaiting_payment"
    ON_HOLD_IN_STORE = "on_hold_in_store"
    SUSPECTED_FRAUD = "suspected_fraud"
    UNMAPPED_SHIPPING_METHOD = "unmapped_shipping_method"
    MISSING_SKU = "missing_sku"
    UNKNOWN_SKU = "unknown_sku"
    NO_LINES = "no_lines"
    INCOMPLETE_ADDRESS = "incomplete_address"
    REJECTED_BY_WAREHOUSE = "rejected_by_warehouse"
    UNREADABLE_IN_STORE = "unreadable_in_store"
    REFERENCE_TAKEN = "reference_taken"  # myOGO holds a different order under the order's reference


class Hold(Model):
    reason: HoldReason
    detail: str


class StoreOrder(Model):
    """A store order, normalised. `holds` carries the store-side reasons (flags) it must not ship yet."""

    order_id: str
    placed_at: AwareDatetime
    state: StoreOrderState
    holds: list[Hold] = Field(default_factory=list)
    currency: str
    total: Decimal | None = None
    shipping_method: str | None = None
    pickup_point: str | None = None
    customer: Address
    lines: list[OrderLine]
    comment: str | None = None


class UnreadableOrder(Model):
    """An order the store returned that ogosync cannot interpret; it is held and reported, never guessed at."""

    order_id: str
    placed_at: AwareDatetime | None = None
    problem: str


class UnidentifiedOrder(Model):
    """A record in the store's order list without a usable order id: nothing can be held under its name, so it is
    counted and reported by the run that read it."""

    problem: str


class _CamelModel(Model):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    def to_wire(self) -> dict[str, object]:
        """JSON-ready camelCase dict without empty fields (myOGO handles nulls badly, see the reference)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    def wire_json(self) -> bytes:
        """The request body: to_wire's fields, with amounts as exact JSON numbers, not strings (ogosync.jsonwire)."""
        return jsonwire.dumps(self.model_dump(mode="python", by_alias=True, exclude_none=True))


class WarehouseCustomer(_CamelModel):
    name: str
    company: str | None = None
    address1: str
    address2: str | None = None
    city: str
    country_code: str
    zip: str | None = None
    phone: str | None = None
    email: str | None = None


class WarehouseOrderLine(_CamelModel):
    code: str
    quantity: int
    unit_price: Decimal | None = None
    vat_percentage: Decimal | None = None


class WarehouseOrder(_CamelModel):
    """The order as myOGO takes it (POST /api/v1/Orders)."""

    reference: str
    status: Literal["new"] = "new"
    shipping_code: str | None = None
    pick_up_point_code: str | None = None
    customer: WarehouseCustomer
    order_lines: list[WarehouseOrderLine]
    comments: str | None = None
    price_total: Decimal | None = None
    price_currency: str | None = None
    test: bool | None = None


_ADDRESS_FIELDS = ("name", "company", "address1", "address2", "city", "zip", "country_code")


def order_content_hash(customer: WarehouseCustomer | None, lines: list[WarehouseOrderLine]) -> str:
    """A digest of the delivery address and the lines (code, quantity) of a myOGO order: equal for what ogosync sent
    and for myOGO's copy of it, as long as nobody changed either. Prices and comments are left out."""
    address = [str(getattr(customer, name) or "").strip() for name in _ADDRESS_FIELDS] if customer else []
    quantities: dict[str, int] = {}
    for line in lines:
        quantities[line.code.strip()] = quantities.get(line.code.strip(), 0) + line.quantity
    text = json.dumps({"address": address, "lines": sorted(quantities.items())}, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class WarehouseOrderState(Model):
    """What myOGO says about an order it holds."""

    id: str | None = None
    reference: str
    status: str
    tracking_number: str | None = None
    tracking_url: str | None = None
    edited_at: AwareDatetime | None = None
    lines: list[ShippedLine] | None = Field(default=None, description="code and quantity; None: not readable")
    customer: Address | None = Field(default=None, description="the delivery address; None: not readable")

    @field_validator("status")
    @classmethod
    def _lowercase(cls, value: str) -> str:
        # myOGO's enum casing differs between API generations (reference §3.1): compare in lower case.
        return value.lower()


# ---- state --------------------------------------------------------------------------------------


class BindingStatus(StrEnum):
    CLAIMED = "claimed"  # a worker is sending it now (until claim_expires)
    FAILED = "failed"  # the last attempt failed with an unknown outcome; look up in myOGO before sending again
    SENT = "sent"  # myOGO has it
    HELD = "held"  # kept back in ogosync, with reasons
    SKIPPED = "skipped"  # nothing to send (cancelled or fulfilled in the store before transfer)


class AftercareStatus(StrEnum):
    """What ogosync did about a store change (cancel, edit) of an order it had sent to myOGO."""

    CLAIMED = "claimed"  # a worker is acting on it now (until aftercare_claim_expires)
    CANCELLED_IN_MYOGO = "cancelled_in_myogo"
    UPDATED_IN_MYOGO = "updated_in_myogo"
    NEEDS_PERSON = "needs_person"  # too late, or myOGO's copy was changed in the warehouse: reported


# The skip reason of an order a person decided must never reach myOGO; the order import leaves it alone after that.
DO_NOT_SEND_REASON = "do not send: a person's decision in ogosync"


class OrderBinding(Model):
    """What ogosync knows of one store order: its myOGO reference, where it stands, and why."""

    integration_id: str
    store_order_id: str
    reference: str
    status: BindingStatus
    holds: list[Hold] = Field(default_factory=list)
    skip_reason: str | None = None
    myogo_id: str | None = None
    myogo_status: str | None = None
    claim_token: str | None = None
    claim_expires: AwareDatetime | None = None
    attempts: int = 0
    last_error: str | None = None
    store_placed_at: AwareDatetime | None = None
    first_seen_at: AwareDatetime
    updated_at: AwareDatetime
    sent_at: AwareDatetime | None = None
    sent_hash: str | None = Field(default=None, description="of the lines and address myOGO was sent (aftercare)")
    aftercare_status: AftercareStatus | None = None
    aftercare_detail: str | None = None
    aftercare_at: AwareDatetime | None = None
    aftercare_claim_token: str | None = None
    aftercare_claim_expires: AwareDatetime | None = None


class OrderNote(Model):
    """One thing that happened to an order, kept for its timeline: a new hold and why, a person's release, retry or
    "do not send". What the order binding and the tracking attributes hold (sent, shipped...) is not repeated here."""

    integration_id: str
    store_order_id: str
    at: AwareDatetime
    where: str = Field(description="store, ogosync or myogo")
    event: str


class NoticeKind(StrEnum):
    """What a merchant is told about (sync/notices.py records them, sync/notify.py sends them)."""

    ORDER_HELD = "order_held"
    PRODUCT_REFUSED = "product_refused"
    CAPTURE_FAILED = "capture_failed"
    CREDENTIALS_REFUSED = "credentials_refused"


class NoticeChannel(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"


class Notice(Model):
    """One event a merchant hears about once (item NOTICE#<kind>#<subject>): recorded by the flow where it happened,
    sent by the notify function. `summary` is ogosync's own short text about it, never a secret or an address."""

    integration_id: str
    kind: NoticeKind
    subject: str = Field(min_length=1, max_length=300, description="the order id, the SKU, or the side and day")
    summary: str = Field(max_length=500)
    at: AwareDatetime
    sent: dict[NoticeChannel, AwareDatetime] = Field(
        default_factory=dict, description="per channel, when its send was claimed (at most once)"
    )
    failures: int = Field(default=0, description="sends a channel refused (each one is tried again later)")

    @property
    def notice_id(self) -> str:
        return f"{self.integration_id}/{self.kind}/{self.subject}"


class Cursor(Model):
    """A flow's progress for one integration: the watermark and what the last run did."""

    integration_id: str
    flow: Flow
    watermark: AwareDatetime | None = None
    version: int = 0
    last_run_started: AwareDatetime | None = None
    last_run_ended: AwareDatetime | None = None
    last_counts: dict[str, int] = Field(default_factory=dict)
    last_error: str | None = None
    future_dated: list[str] = Field(
        default_factory=list, description="what the last run saw dated after now + the skew (ids, at most 20)"
    )
    # the order flow only:
    idle_runs: int = Field(default=0, description="polls in a row that found nothing the webhooks had not imported")
    held_recheck_after: str | None = Field(default=None, description="the held order the rotating re-check reached")
    late_sweep_at: AwareDatetime | None = Field(default=None, description="when the last late sweep ran")
    covered_since: AwareDatetime | None = Field(
        default=None, description="where the first poll began to look: an order placed after it was missed if unseen"
    )
    late_orders: list[str] = Field(
        default_factory=list, description="orders the last late sweep found that the poll had missed (at most 20)"
    )
    late_orders_at: AwareDatetime | None = Field(default=None, description="when a late sweep last found any")
    on_hold_seen_at: AwareDatetime | None = Field(
        default=None, description="when the poll last saw an order waiting for payment or on hold in the store"
    )
    webhooks_checked_at: AwareDatetime | None = Field(
        default=None, description="when the poll last asked the store which of our webhooks it switched off"
    )
    switched_off_webhooks: list[str] = Field(
        default_factory=list, description="our webhooks the store no longer delivers, as it last said (at most 20)"
    )


# ---- jobs on queues -----------------------------------------------------------------------------


class OrderImportJob(Model):
    """One store order to import (from a webhook hint, a poll or a held-order recheck)."""

    model_config = ConfigDict(extra="forbid")

    integration_id: str = Field(pattern=INTEGRATION_ID_PATTERN)
    order_id: str = Field(min_length=1, max_length=64)
    source: Literal["webhook", "poll", "recheck"]


class FlowJob(Model):
    """Run one flow for one integration now."""

    model_config = ConfigDict(extra="forbid")

    integration_id: str = Field(pattern=INTEGRATION_ID_PATTERN)
    flow: Flow
    scheduled_for: AwareDatetime


# ---- products (store -> myOGO) ------------------------------------------------------------------


class SkuBinding(Model):
    """One store item linked to one myOGO product: written by the product flow, read by the stock and order flows."""

    integration_id: str
    sku: str = Field(min_length=1, description="the myOGO product code, which is the store's full SKU")
    store_ids: dict[str, str] = Field(default_factory=dict, description="the store's own ids of the item")
    ean: str | None = None
    myogo_id: str | None = None
    content_hash: str | None = Field(default=None, description="of what was last sent to myOGO")
    synced_at: AwareDatetime | None = None


class StoreProduct(Model):
    """One sellable item of a store (Centra: one size row), normalised. `sku` is the full warehouse code or None."""

    store_ids: dict[str, str] = Field(description="the store's own ids of the item (Centra: product, variant, size)")
    sku: str | None = None
    ean: str | None = None
    name: str
    description: str | None = None
    price: Decimal | None = Field(default=None, description="in the integration's pricelist (the first one if none)")
    currency: str | None = None
    image_url: str | None = None
    product_url: str | None = Field(default=None, description="the product page, when the platform knows it")
    active: bool = True


class WarehouseProduct(_CamelModel):
    """The product as myOGO takes it (POST /api/v1/Products, PUT /api/v1/Products/{code})."""

    code: str = Field(min_length=1)
    name: str
    description: str | None = None
    ean_code: str | None = None
    sales_price: Decimal | None = None
    currency_code: str | None = None
    info_url: str | None = None
    picture_url: str | None = None
    language_code: str


class WarehouseProductState(_CamelModel):
    """What myOGO says about a product it holds (the ProductResponse fields ogosync compares)."""

    id: str | None = None
    code: str
    name: str | None = None
    description: str | None = None
    ean_code: str | None = None
    sales_price: Decimal | None = None
    currency_code: str | None = None
    info_url: str | None = None
    picture_url: str | None = None
    language_code: str | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    def same_content(self, product: WarehouseProduct) -> bool:
        """True when myOGO holds what `product` would send; the EAN is left out, myOGO never overwrites its own."""
        ours = product.model_dump(exclude={"ean_code"})
        return all(getattr(self, name) == value for name, value in ours.items())


class ProductRefusal(Model):
    """myOGO refused this content of a product: it is not sent again until the content changes."""

    integration_id: str
    sku: str = Field(min_length=1)
    message: str
    content_hash: str
    refused_at: AwareDatetime


class ProductState(StrEnum):
    """Where a store product stands towards myOGO, as the merchant sees it after "Refresh"."""

    NOT_IN_MYOGO = "not_in_myogo"
    IN_MYOGO_UNLINKED = "in_myogo_unlinked"  # myOGO has the code (made by hand): "Create" links it
    LINKED = "linked"
    CHANGED = "changed"  # changed in the store since the last transfer
    ERROR = "error"
    DELETED_IN_STORE = "deleted_in_store"  # bound earlier, no longer in the store; left in myOGO


class ProductProblemKind(StrEnum):
    MISSING_SKU = "missing_sku"
    DUPLICATE_SKU = "duplicate_sku"
    REFUSED_BY_MYOGO = "refused_by_myogo"
    EAN_DIFFERS = "ean_differs"
    MISSING_IN_MYOGO = "missing_in_myogo"
    NO_PRICE = "no_price"
    INACTIVE_IN_STORE = "inactive_in_store"
    NOT_IN_STORE = "not_in_store"


BLOCKING_PROBLEMS = frozenset(
    {ProductProblemKind.MISSING_SKU, ProductProblemKind.DUPLICATE_SKU, ProductProblemKind.REFUSED_BY_MYOGO}
)


class ProductProblem(Model):
    kind: ProductProblemKind
    detail: str

    @property
    def blocking(self) -> bool:
        """An error keeps the product out of myOGO; anything else is a warning."""
        return self.kind in BLOCKING_PROBLEMS


class ProductRow(Model):
    """One line of the merchant's "Sync webshop products" view."""

    sku: str | None
    state: ProductState
    name: str
    ean: str | None = None
    store_ids: dict[str, str] = Field(default_factory=dict)
    problems: list[ProductProblem] = Field(default_factory=list)
    synced_at: AwareDatetime | None = None


class ProductReport(Model):
    """The result of "Refresh": every row (or those in the states asked for) and the count of each state."""

    integration_id: str
    counts: dict[ProductState, int]
    rows: list[ProductRow]


class TransferOutcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    LINKED = "linked"  # myOGO already held this content (made by hand, or by a run that died): bound, not written
    REFUSED = "refused"


class ProductTransfer(Model):
    sku: str
    outcome: TransferOutcome
    detail: str | None = None


class ProductRunResult(Model):
    """What one transfer run (the schedule, or "Create product") did."""

    integration_id: str
    ran: bool
    counts: dict[str, int] = Field(default_factory=dict)
    transfers: list[ProductTransfer] = Field(default_factory=list)
    not_sent: list[ProductRow] = Field(default_factory=list, description="products left out, with their errors")
    complete: bool = Field(default=True, description="False when the time budget ran out: the next run continues")


# ---- stock and tracking (myOGO -> store) --------------------------------------------------------

# The order flow's OrderBinding and the tracking flow's OrderTracking are two views of the same ORDER#<id> item:
# each flow writes only its own attributes, and myogo_status (set at send) is kept current by the tracking flow.

MYOGO_SHIPPED = "shipped"
MYOGO_CANCELLED = "cancelled"


class WarehouseStockLevel(Model):
    """One product's stock in myOGO (GET /api/v1/Stock)."""

    code: str = Field(min_length=1)
    available: int = Field(description="stockAvailable: free for new orders (stock minus reserved)")
    physical: int | None = Field(default=None, description="stock: all units in the warehouses")
    reserved: int | None = None
    modified: AwareDatetime | None = None


class StockToPublish(Model):
    """The value a store should sell of one item: myOGO's available quantity minus what is in transit, never < 0."""

    binding: SkuBinding
    quantity: int = Field(ge=0)


class StoreStockWrite(Model):
    """One value the store accepted: `quantity` to sell, `store_quantity` as the store was told it."""

    sku: str
    quantity: int
    store_quantity: int


class StockBatchResult(Model):
    """What the store did with one batch of stock writes."""

    written: list[StoreStockWrite] = Field(default_factory=list)
    not_found: list[str] = Field(default_factory=list, description="SKUs the store has no item for")
    stale: list[str] = Field(
        default_factory=list,
        description="SKUs the store changed since it was read (its compare-and-swap refused them): not written",
    )


class PublishedStock(Model):
    """What ogosync last published of one SKU (item STOCK#<sku>), so that only changes are written again."""

    integration_id: str
    sku: str
    quantity: int
    available: int
    in_transit: int
    store_quantity: int
    published_at: AwareDatetime


PROBLEMS_KEPT = 1000  # SKUs kept per kind of problem in the stock run state (one item of at most 400 KB)


class StockRunState(Model):
    """The stock flow's memory between runs beside its cursor (item STOCKRUN)."""

    integration_id: str
    last_full_run: AwareDatetime | None = Field(default=None, description="end of the last complete reconciliation")
    full_run_started: AwareDatetime | None = Field(
        default=None, description="start of a reconciliation that has not completed: a retry resumes it"
    )
    in_transit_skus: list[str] = Field(
        default_factory=list, description="SKUs last published with an in-transit subtraction: re-checked next run"
    )
    unbound_skus: list[str] = Field(
        default_factory=list,
        description="myOGO SKUs no store item is linked to, as the last complete reconciliation found them and the "
        "changes read since (sorted; at most PROBLEMS_KEPT)",
    )
    refused_skus: list[str] = Field(
        default_factory=list,
        description="linked SKUs whose stock the store refused (it has no such item, or it is a bundle) until a write "
        "of theirs is accepted (sorted; at most PROBLEMS_KEPT)",
    )


class ShippedLine(Model):
    code: str
    quantity: int


class WarehouseOrderChange(Model):
    """A myOGO order as the tracking flow reads it (GET /api/v1/Orders)."""

    reference: str
    status: str
    tracking_numbers: list[str] = Field(default_factory=list, description="myOGO's comma-separated trackingNumber")
    tracking_url: str | None = None
    shipping_code: str | None = None
    lines: list[ShippedLine] = Field(default_factory=list)
    edited_at: AwareDatetime | None = None

    @field_validator("status")
    @classmethod
    def _lowercase(cls, value: str) -> str:
        return value.lower()  # casing differs between myOGO API generations (reference §3.1)


class WarehouseOrderContent(Model):
    """myOGO's copy of an order (GET /api/v1/Orders?reference=): what aftercare compares with what was sent."""

    reference: str
    status: str
    customer: WarehouseCustomer | None = None
    order_lines: list[WarehouseOrderLine] = Field(default_factory=list)
    shipping_code: str | None = None
    edited_at: AwareDatetime | None = None

    @field_validator("status")
    @classmethod
    def _lowercase(cls, value: str) -> str:
        return value.lower()  # casing differs between myOGO API generations (reference §3.1)


class OpenOrder(Model):
    """A sent order myOGO has not shipped yet (item OPEN#<store order id>): aftercare looks it up in the store."""

    integration_id: str
    store_order_id: str
    reference: str


class AttentionOrder(Model):
    """An order a person must look at (item ATTENTION#<store order id>), with why and since when."""

    integration_id: str
    store_order_id: str
    reason: str
    detail: str
    since: AwareDatetime


class WaitingShipment(Model):
    """A shipment the store cannot take yet (item WAITSTORE#<store order id>); retried on each tracking poll."""

    integration_id: str
    store_order_id: str
    reference: str
    since: AwareDatetime


class UnreadableWarehouseRecord(Model):
    """A myOGO order or stock row ogosync cannot read: counted and reported by the run that read it, never guessed."""

    key: str | None = Field(default=None, description="its reference or product code, when that much could be read")
    problem: str


class ShipmentToPush(Model):
    """What the store is told about a shipment myOGO made: carrier and every tracking code it gave."""

    carrier: str | None = None
    tracking_numbers: list[str] = Field(default_factory=list)
    tracking_url: str | None = None


class StoreShipment(Model):
    """A shipment of a store order, as the store has it."""

    shipment_id: str
    shipped: bool
    tracking: str | None = None
    was_open: bool = Field(default=False, description="the store had opened it itself; ogosync completed it")
    already_shipped: bool = Field(default=False, description="the store had it shipped already: nothing written")


class TrackingStatus(StrEnum):
    CLAIMED = "claimed"  # a worker is pushing the shipment now (until tracking_claim_expires)
    FAILED = "failed"  # the last push failed with an unknown outcome; the store is looked at before pushing again
    PUSHED = "pushed"  # the store has the shipment, marked shipped with tracking
    CAPTURE_FAILED = "capture_failed"  # the store could not capture the payment: not shipped (possible fraud)
    REJECTED = "rejected"  # the store refused the shipment; a person must look
    WAITING_FOR_STORE = "waiting_for_store"  # the store cannot take it yet (Centra: not confirmed); retried each poll


class OrderTracking(Model):
    """The tracking flow's view of an ORDER#<store order id> item: myOGO's status and the shipment pushed."""

    integration_id: str
    store_order_id: str
    reference: str
    status: BindingStatus | None = Field(default=None, description="the order flow's record of the order")
    myogo_status: str | None = None
    myogo_status_at: AwareDatetime | None = None
    tracking_status: TrackingStatus | None = None
    tracking_claim_token: str | None = None
    tracking_claim_expires: AwareDatetime | None = None
    tracking_attempts: int = 0
    tracking_numbers: list[str] = Field(default_factory=list)
    tracking_url: str | None = None
    store_shipment_id: str | None = None
    tracking_pushed_at: AwareDatetime | None = None
    tracking_failed_at: AwareDatetime | None = None
    tracking_error: str | None = None


class TrackingHintJob(Model):
    """A myOGO webhook named an order: re-read it from myOGO and push its shipment if it shipped."""

    model_config = ConfigDict(extra="forbid")

    integration_id: str = Field(pattern=INTEGRATION_ID_PATTERN)
    reference: str = Field(min_length=1, max_length=100)
    source: Literal["webhook"] = "webhook"


# The tracking queue carries both the scheduled poll and the webhook hints (both forbid extra fields: unambiguous).
TrackingJob: TypeAdapter[FlowJob | TrackingHintJob] = TypeAdapter(FlowJob | TrackingHintJob, config=_DEFERRED)


# ---- the product sync page (operator API): "Refresh" and "Create product", run on ProductSyncQueue ------------


class ProductAction(StrEnum):
    REFRESH = "refresh"
    CREATE = "create"


class ProductActionJob(Model):
    """The merchant's "Refresh" or "Create product" (picked SKUs; None = all), one run of the product page.

    The operator API took the product lock for `run_id` before it queued this job."""

    model_config = ConfigDict(extra="forbid")

    integration_id: str = Field(pattern=INTEGRATION_ID_PATTERN)
    run_id: str = Field(min_length=1, max_length=64)
    action: ProductAction
    skus: list[str] | None = None


# What ProductSyncQueue carries: the scheduled run (FlowJob) or a merchant's action.
ProductJob: TypeAdapter[FlowJob | ProductActionJob] = TypeAdapter(FlowJob | ProductActionJob, config=_DEFERRED)


class ProductRunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # shown, never stored: queued or running, but its lock ran out (a crash, a timeout)


class ProductRun(Model):
    """The latest "Refresh" or "Create product" of an integration: its progress and result."""

    integration_id: str
    run_id: str
    action: ProductAction
    status: ProductRunStatus
    requested_at: AwareDatetime
    requested_skus: int | None = Field(default=None, description="how many SKUs were picked; None: all")
    started_at: AwareDatetime | None = None
    ended_at: AwareDatetime | None = None
    lock_expires_at: AwareDatetime = Field(description="a queued or running run whose lock ran out was interrupted")
    done: int = Field(default=0, description="products handled so far (create)")
    total: int | None = Field(default=None, description="products to handle (create), once known")
    counts: dict[str, int] = Field(default_factory=dict)
    complete: bool | None = Field(default=None, description="create: False when the time budget ran out")
    error: str | None = None

    @property
    def active(self) -> bool:
        return self.status in (ProductRunStatus.QUEUED, ProductRunStatus.RUNNING)


class ProductReportHeader(Model):
    """The latest complete "Refresh" report: its rows are stored in `chunks` items of their own."""

    integration_id: str
    report_id: str
    run_id: str
    refreshed_at: AwareDatetime
    counts: dict[ProductState, int]
    rows: int
    chunks: int
