"""The set-up wizard of an integration, one per store platform, in the order of the product's guide ("Installing
the integration"): the store (its URL and credentials as its platform's registry entry names them, its options),
the myOGO merchant's API information, the warehouse and time zone, then the settings with their meaning and
defaults. Nothing is saved until both sides accepted the credentials (operator
integrations.create_integration). Secrets typed into the form are never written back into a page: after a refusal
they must be typed again."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from pydantic import ValidationError

from ogosync.console.html import Markup, el
from ogosync.console.session import Session
from ogosync.models import IntegrationSettings, Platform
from ogosync.operator.errors import describe
from ogosync.operator.schemas import IntegrationCreate
from ogosync.operator.urls import Resolver, UrlRefused, check_outbound_url
from ogosync.stores import registry

MYOGO_SECRET_FIELDS = ("myogo_secret_token", "myogo_client_secret", "webhook_secret")
CREDENTIAL_FIELDS = (
    "myogo_merchant_id",
    "myogo_secret_token",
    "myogo_client_id",
    "myogo_client_secret",
)
# What each setting means, where the model's own description is missing or too short for a merchant.
SETTING_WORDS = {
    "order_poll_minutes": "how often new paid orders are looked for, besides the webhook (minutes)",
    "product_sync_minutes": "how often changed products are sent to myOGO (minutes)",
    "stock_sync_minutes": "how often myOGO's stock is published to the store (minutes)",
    "tracking_poll_minutes": "how often shipped orders are looked for in myOGO (minutes)",
    "poll_overlap_minutes": "how far back each order poll looks again, so that no order is missed (minutes)",
    "first_poll_lookback_hours": "how far back the very first order poll looks (hours)",
    "held_recheck_days": "how long held orders are looked at again by themselves (days)",
    "reference_prefix": "put before the order number in myOGO's reference (letters, digits, - and _)",
    "send_as_test_orders": "send orders to myOGO as test orders (nothing is shipped)",
    "language_code": "the language of product texts in myOGO (two letters)",
}


class SetupRefused(Exception):
    def __init__(self, message: str, field: str | None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@cache
def time_zones() -> list[str]:
    return sorted(zone for zone in available_timezones() if "/" in zone and not zone.startswith(("Etc/", "SystemV/")))


def platform_of(name: str) -> Platform:
    """A platform ogosync serves; SetupRefused naming the ones there are."""
    if name not in {platform.value for platform in registry.supported()}:
        names = ", ".join(platform.value for platform in registry.supported())
        raise SetupRefused(f"no set-up for the platform {name!r}: choose one of {names}", "platform")
    return Platform(name)


def store_fields(platform: Platform) -> dict[str, bool]:
    """The platform's credential fields (form names store_<name>) -> whether each is a secret."""
    fields = registry.adapter(platform).credentials_model.model_fields
    return {name: "SecretStr" in str(field.annotation) for name, field in fields.items() if name != "platform"}


def secret_fields() -> set[str]:
    """Every form field that holds a secret, whatever the platform: never shown again."""
    stores = {f"store_{name}" for p in registry.supported() for name, secret in store_fields(p).items() if secret}
    return stores | set(MYOGO_SECRET_FIELDS)


def parse(form: Mapping[str, str], merchant: str | None) -> IntegrationCreate:
    """The request the form makes; a merchant's user creates integrations of its own merchant only."""
    platform = platform_of(form.get("platform", Platform.CENTRA.value))
    settings: dict[str, Any] = {}
    for name, info in IntegrationSettings.model_fields.items():
        if info.annotation is bool:
            settings[name] = form.get(f"setting_{name}") == "on"
        elif form.get(f"setting_{name}", "").strip():
            settings[name] = form[f"setting_{name}"].strip()
    store = {name: form.get(f"store_{name}", "").strip() for name in store_fields(platform)}
    values: dict[str, Any] = {
        "id": form.get("id", "").strip(),
        "platform": platform.value,
        "merchant_name": merchant or form.get("merchant_name", "").strip(),
        "store_base_url": form.get("store_base_url", "").strip().rstrip("/"),
        "store_options": _options(platform, form),
        "warehouse": form.get("warehouse", "").strip(),
        "time_zone": form.get("time_zone", ""),
        "settings": settings,
        "credentials": {name: form.get(name, "").strip() for name in CREDENTIAL_FIELDS}
        | {"store": {"platform": platform.value} | {name: value for name, value in store.items() if value}}
        | ({"webhook_secret": form["webhook_secret"]} if form.get("webhook_secret") else {}),
    }
    for name in ("myogo_base_url", "myogo_token_url"):
        if form.get(name, "").strip():
            values[name] = form[name].strip().rstrip("/")
    try:
        return IntegrationCreate.model_validate(values)
    except ValidationError as exc:
        field, message = describe(exc.errors())
        raise SetupRefused(message, field) from None


def _options(platform: Platform, form: Mapping[str, str]) -> dict[str, Any]:
    """The platform's options as typed: a list is comma-separated, a yes/no a checkbox; empty means the default."""
    options: dict[str, Any] = {}
    for name, field in registry.adapter(platform).options_model.model_fields.items():
        typed = form.get(f"option_{name}", "").strip()
        if field.annotation is bool:
            options[name] = form.get(f"option_{name}") == "on"
        elif typed and "list" in str(field.annotation):
            options[name] = [item.strip() for item in typed.split(",") if item.strip()]
        elif typed:
            options[name] = typed
    return options


def check_urls(request: IntegrationCreate, *, local_stack: bool, resolve: Resolver) -> None:
    """The credential check calls these URLs: each must be one the service may call (ogosync.operator.urls)."""
    for field in ("store_base_url", "myogo_base_url", "myogo_token_url"):
        try:
            check_outbound_url(getattr(request, field), local_stack=local_stack, resolve=resolve)
        except UrlRefused as exc:
            raise SetupRefused(str(exc), field) from None


def form(session: Session, values: Mapping[str, str], merchant: str | None, platform: Platform) -> Markup:
    def text(name: str, label: str, hint: str = "", *, required: bool = True, secret: bool = False) -> Markup:
        attributes = {
            "type": "password" if secret else "text",
            "id": name,
            "name": name,
            "required": required,
            "autocomplete": "off",
            "value": None if secret else values.get(name, ""),
        }
        return el(
            "p", None, el("label", {"for": name}, label), el("input", attributes), hint and el("small", None, hint)
        )

    zones = [el("option", {"value": zone, "selected": values.get("time_zone") == zone}, zone) for zone in time_zones()]
    adapter = registry.adapter(platform)
    store = [
        text(f"store_{name}", name.replace("_", " ").capitalize(), secret=secret, required=_required(platform, name))
        for name, secret in store_fields(platform).items()
    ]
    return el(
        "form",
        {"method": "post", "action": "/integrations/new", "class": "wizard"},
        el("input", {"type": "hidden", "name": "csrf", "value": session.csrf}),
        el("input", {"type": "hidden", "name": "platform", "value": platform.value}),
        el("h2", None, "1. The integration"),
        text("id", "Integration id", f"lower case letters, digits and dashes, e.g. acme-{platform.value}"),
        None if merchant else text("merchant_name", "Merchant name", "a merchant's users see its integrations"),
        el("h2", None, f"2. The store: {adapter.title}"),
        el("p", None, adapter.credentials_guide),
        text("store_base_url", "Base URL", adapter.store_url_hint),
        store,
        [_option(platform, name, values) for name in adapter.options_model.model_fields],
        el("h2", None, "3. myOGO: Edit Merchant -> Integrations -> API information"),
        text("myogo_merchant_id", "Merchant ID"),
        text("myogo_secret_token", "Secret token", secret=True),
        text("myogo_client_id", "Client ID"),
        text("myogo_client_secret", "Client secret", secret=True),
        text("myogo_base_url", "myOGO API URL", "leave empty for https://api.ogoship.com", required=False),
        text(
            "myogo_token_url", "myOGO token URL", "leave empty for https://my.ogoship.com/OAuth/Token", required=False
        ),
        el("h2", None, "4. Warehouse and time zone"),
        text("warehouse", "myOGO warehouse", "the warehouse code, e.g. TLL"),
        el(
            "p",
            None,
            el("label", {"for": "time_zone"}, "The store's time zone"),
            el("select", {"id": "time_zone", "name": "time_zone"}, zones),
        ),
        el("h2", None, "5. Settings (each can be changed later)"),
        [_setting(name, values) for name in IntegrationSettings.model_fields],
        el("p", None, el("button", {"type": "submit"}, "Check the credentials and create")),
    )


def _required(platform: Platform, name: str) -> bool:
    return registry.adapter(platform).credentials_model.model_fields[name].is_required()


def _option(platform: Platform, name: str, values: Mapping[str, str]) -> Markup:
    field = registry.adapter(platform).options_model.model_fields[name]
    key = f"option_{name}"
    default = "required" if field.is_required() else f"default {field.get_default(call_default_factory=True)!r}"
    if field.annotation is bool:
        checked = values.get(key) == "on" if values else bool(field.get_default(call_default_factory=True))
        control = el("input", {"type": "checkbox", "id": key, "name": key, "checked": checked})
    else:
        control = el(
            "input",
            {"type": "text", "id": key, "name": key, "value": values.get(key, ""), "required": field.is_required()},
        )
    return el("p", None, el("label", {"for": key}, name), control, el("small", None, f"{field.description}; {default}"))


def _setting(name: str, values: Mapping[str, str]) -> Markup:
    field = IntegrationSettings.model_fields[name]
    meaning = SETTING_WORDS.get(name) or field.description or name.replace("_", " ")
    key = f"setting_{name}"
    if field.annotation is bool:
        control = el("input", {"type": "checkbox", "id": key, "name": key, "checked": values.get(key) == "on"})
        default = "off" if not field.default else "on"
    else:
        control = el(
            "input",
            {
                "type": "text",
                "id": key,
                "name": key,
                "value": values.get(key, ""),
                "placeholder": str(field.default or ""),
            },
        )
        default = "none" if field.default in (None, "") else str(field.default)
    return el("p", None, el("label", {"for": key}, name), control, el("small", None, f"{meaning}; default {default}"))


def kept_values(form_values: Mapping[str, str]) -> dict[str, str]:
    """What the form shows again after a refusal: everything but the secrets."""
    secrets = secret_fields()
    return {name: value for name, value in form_values.items() if name not in secrets and name != "csrf"}
