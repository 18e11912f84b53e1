"""Centra, through its Order API plugin (REST) and its "Centra Webhook" plugin: client.py speaks the API,
mapping.py reads its records, webhook.py checks its deliveries. API facts with sources: docs/api/centra.md."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from ogosync.models import Credentials, Integration, Platform
from ogosync.stores.credentials import CentraCredentials
from ogosync.stores.registry import PlatformAdapter

if TYPE_CHECKING:
    from ogosync.http import RetryPolicy
    from ogosync.ratelimit import CallBudget
    from ogosync.stores.centra.client import CentraStore
    from ogosync.stores.centra.webhook import CentraWebhookVerifier


class CentraOptions(BaseModel):
    """Centra has no options of its own beyond IntegrationSettings.pricelist (which only this adapter reads)."""

    model_config = ConfigDict(defer_build=True, extra="forbid")


# What the set-up must say about the Centra Order API plugin (operator webhook-info, CLI, README): the plugin's
# settings cannot be read through the API, so ogosync can only warn from what its poll sees.
CENTRA_PLUGIN_SETTINGS = (
    "In the Order API plugin: 'Get orders with status' must include Pending, Confirmed and Processing (ogosync "
    "sends those; Cancelled too if cancellations should be seen); turn 'Return waiting for payment / On hold "
    "orders' on, so that such orders count against stock while they wait. An order the plugin hides when it is "
    "placed reaches myOGO by the poll's late sweep, at most late_sweep_minutes + order_poll_minutes after it "
    "becomes visible, if no webhook comes first; `ogosync status` warns when it sees that happen."
)


def _build_store(
    integration: Integration, credentials: Credentials, retry: RetryPolicy | None, budget: CallBudget | None
) -> CentraStore:
    from ogosync.stores.centra.client import CentraStore

    if not isinstance(credentials.store, CentraCredentials):
        raise TypeError("Centra needs Centra credentials")
    return CentraStore(
        integration.store_base_url,
        credentials.store.api_key.get_secret_value(),
        integration.zone,
        retry=retry,
        pricelist=integration.settings.pricelist,
        rate_limiter=budget,
    )


def _build_verifier() -> CentraWebhookVerifier:
    import os

    from ogosync.stores.centra.webhook import CentraWebhookVerifier

    return CentraWebhookVerifier(replay_window_seconds=int(os.environ.get("WEBHOOK_REPLAY_WINDOW_SECONDS", "300")))


SETUP_TEXT = (
    "In Centra: System -> Stores -> your store -> + Plugin method -> Centra Webhook, Integration API mode. "
    "Paste this URL and type an Endpoint secret; give ogosync the same secret as credentials.webhook_secret "
    "(ogosync integrations update <id> --webhook-secret). " + CENTRA_PLUGIN_SETTINGS
)

ADAPTER = PlatformAdapter(
    platform=Platform.CENTRA,
    credentials_model=CentraCredentials,
    options_model=CentraOptions,
    build_store=_build_store,
    build_verifier=_build_verifier,
    setup_text=SETUP_TEXT,
    credentials_guide=(
        "In Centra: System -> Stores -> your store -> + Plugin method -> Order API. Copy its Base URL and its secret "
        "API key."
    ),
    store_url_hint="e.g. https://acme.centra.com/api/order",
    order_visibility_settings=(
        "the Order API plugin's 'Get orders with status' (select Pending, Confirmed, Processing) and its 'Return "
        "waiting for payment / On hold orders' (on)"
    ),
)
