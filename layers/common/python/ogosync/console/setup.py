"""The set-up wizard of a Centra integration, in the order of Centra's guide ("Installing the integration"): the
store's Order API plugin, the myOGO merchant's API information, the warehouse and time zone, then the settings with
their meaning and defaults. Nothing is saved until both sides accepted the credentials (operator
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
from ogosync.models import IntegrationSettings
from ogosync.operator.errors import describe
from ogosync.operator.schemas import IntegrationCreate
from ogosync.operator.urls import Resolver, UrlRefused, check_outbound_url

SECRET_FIELDS = ("store_api_key", "myogo_secret_token", "myogo_client_secret", "webhook_secret")
CREDENTIAL_FIELDS = (
    "store_api_key",
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


def parse(form: Mapping[str, str], merchant: str | None) -> IntegrationCreate:
    """The request the form makes; a merchant's user creates integrations of its own merchant only."""
    settings: dict[str, Any] = {}
    for name, info in IntegrationSettings.model_fields.items():
        if info.annotation is bool:
            settings[name] = form.get(f"setting_{name}") == "on"
        elif form.get(f"setting_{name}", "").strip():
            settings[name] = form[f"setting_{name}"].strip()
    values: dict[str, Any] = {
        "id": form.get("id", "").strip(),
        "platform": "centra",
        "merchant_name": merchant or form.get("merchant_name", "").strip(),
        "store_base_url": form.get("store_base_url", "").strip().rstrip("/"),
        "warehouse": form.get("warehouse", "").strip(),
        "time_zone": form.get("time_zone", ""),
        "settings": settings,
        "credentials": {name: form.get(name, "").strip() for name in CREDENTIAL_FIELDS}
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


def check_urls(request: IntegrationCreate, *, local_stack: bool, resolve: Resolver) -> None:
    """The credential check calls these URLs: each must be one the service may call (ogosync.operator.urls)."""
    for field in ("store_base_url", "myogo_base_url", "myogo_token_url"):
        try:
            check_outbound_url(getattr(request, field), local_stack=local_stack, resolve=resolve)
        except UrlRefused as exc:
            raise SetupRefused(str(exc), field) from None


def form(session: Session, values: Mapping[str, str], merchant: str | None) -> Markup:
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
    return el(
        "form",
        {"method": "post", "action": "/integrations/new", "class": "wizard"},
        el("input", {"type": "hidden", "name": "csrf", "value": session.csrf}),
        el("h2", None, "1. The integration"),
        text("id", "Integration id", "lower case letters, digits and dashes, e.g. acme-centra"),
        None if merchant else text("merchant_name", "Merchant name", "a merchant's users see its integrations"),
        el("h2", None, "2. The store: Centra's Order API plugin"),
        el(
            "p",
            None,
            "In Centra: System -> Stores -> your store -> + Plugin method -> Order API. Copy its Base URL "
            "and its secret API key.",
        ),
        text("store_base_url", "Base URL", "e.g. https://acme.centra.com/api/order"),
        text("store_api_key", "Secret API key", secret=True),
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
    return {name: value for name, value in form_values.items() if name not in SECRET_FIELDS and name != "csrf"}
