"""The store platforms ogosync knows: each maps to its adapter factory, its webhook verifier, its credentials and
options models, and the set-up text a merchant follows in the store's admin.

A platform lives in one package, `ogosync.stores.<platform>`, whose `__init__` defines `ADAPTER` and imports
nothing heavy: the package is imported only when an integration of that platform is served, and its HTTP client
only when a store is built (tests/unit/test_cold_imports.py). Adding a platform means its package, a line in
`_PACKAGES` and its webhook route's name in the template (the route itself is one, /webhooks/{platform}/{id}).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from ogosync.errors import ConfigurationError
from ogosync.models import Credentials, Integration, Platform

if TYPE_CHECKING:
    from ogosync.http import RetryPolicy
    from ogosync.ports import StoreAdapter, WebhookVerifier
    from ogosync.ratelimit import CallBudget

# (integration, credentials, retry policy or None for the default, the store's fleet-wide call budget) -> the store
StoreFactory = Callable[[Integration, Credentials, "RetryPolicy | None", "CallBudget | None"], "StoreAdapter"]

_PACKAGES: dict[Platform, str] = {
    Platform.CENTRA: "ogosync.stores.centra",
    Platform.SHOPIFY: "ogosync.stores.shopify",
    Platform.WOOCOMMERCE: "ogosync.stores.woocommerce",
}


@dataclass(frozen=True)
class PlatformAdapter:
    platform: Platform
    credentials_model: type[BaseModel]
    options_model: type[BaseModel]
    build_store: StoreFactory
    build_verifier: Callable[[], WebhookVerifier]
    setup_text: str = ""  # the store's webhook and what else a merchant does in the store's admin
    credentials_guide: str = ""  # where the merchant finds the store's URL and credentials (the set-up wizard)
    store_url_hint: str = ""  # what the store's base URL looks like
    name: str = ""  # the platform's name as its maker writes it (the console's titles)
    # The store settings that can keep unpaid or held orders out of its API ("" when it shows every order): the
    # status names them when the poll's findings suggest so.
    order_visibility_settings: str = ""

    @property
    def title(self) -> str:
        return self.name or self.platform.value.capitalize()


def supported() -> list[Platform]:
    return list(_PACKAGES)


def adapter(platform: Platform) -> PlatformAdapter:
    """The platform's adapter; ConfigurationError for a platform ogosync has no adapter for."""
    package = _PACKAGES.get(platform)
    if package is None:
        names = ", ".join(supported())
        raise ConfigurationError(f"platform {platform} is not supported yet (supported: {names})")
    found: PlatformAdapter = importlib.import_module(package).ADAPTER
    return found


def store_options(integration: Integration) -> BaseModel:
    """The integration's platform options, checked; ConfigurationError naming what is wrong."""
    options_model = adapter(integration.platform).options_model
    try:
        return options_model.model_validate(integration.store_options)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '-'}: {e['msg']}" for e in exc.errors())
        raise ConfigurationError(f"{integration.platform} options of {integration.id}: {problems}") from None


def options_of(integration: Integration, model: type[Any]) -> Any:
    """The integration's options as the platform's own model (for the platform's factory)."""
    options = store_options(integration)
    if not isinstance(options, model):
        raise ConfigurationError(f"{integration.id}: options are not {model.__name__}")
    return options
