"""Integrations: create, read, update, pause and resume, delete; the webhook URL to paste into the store.

Credentials are checked with one cheap call to each side before anything is written, go to Secrets Manager only,
and are never part of an answer. A (myOGO merchant, reference prefix) pair serves one integration only, the prefixes
it used before included (its old orders live in myOGO under them): another integration asking for one gets a 409.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from ogosync.errors import (
    AuthenticationError,
    ConcurrencyConflictError,
    ConfigurationError,
    PlatformError,
    ReferencePrefixTakenError,
    TransientPlatformError,
)
from ogosync.models import Credentials, Integration, IntegrationStatus, Platform
from ogosync.operator.deps import OperatorDeps
from ogosync.operator.errors import OperatorError, conflict, validated
from ogosync.operator.schemas import (
    CredentialsPatch,
    IntegrationCreate,
    IntegrationDeleted,
    IntegrationPatch,
    WebhookInfo,
)
from ogosync.ports import AccessCheck, WarehouseChoices
from ogosync.stores import registry

STORE, MYOGO = "store", "myogo"
_STORE_FIELDS = frozenset({"store_base_url", "store_api_key", "store", "store_options"})
_MYOGO_FIELDS = frozenset(
    {
        "warehouse",  # checked against the account's list of warehouses
        "myogo_base_url",
        "myogo_token_url",
        "myogo_merchant_id",
        "myogo_secret_token",
        "myogo_client_id",
        "myogo_client_secret",
    }
)
_BLAME = {  # the request field to point at when a side refuses the credentials or cannot be reached
    (STORE, True): "credentials.store_api_key",
    (STORE, False): "store_base_url",
    (MYOGO, True): "credentials.myogo_secret_token",
    (MYOGO, False): "myogo_base_url",
}


def list_integrations(deps: OperatorDeps) -> list[Integration]:
    return sorted(deps.state.list_integrations(), key=lambda integration: integration.id)


def get_integration(integration_id: str, deps: OperatorDeps) -> Integration:
    return deps.integration(integration_id)


def create_integration(request: IntegrationCreate, deps: OperatorDeps) -> Integration:
    values = request.model_dump(exclude={"credentials", "paused"})
    integration = _with_platform_checked(
        validated(Integration, values | {"secret_name": deps.secret_prefix + request.id})
    )
    if deps.state.get_integration(integration.id) is not None:
        raise _exists(integration.id)
    credentials = request.credentials.to_credentials()
    _check_store_credentials(integration, credentials)
    check_access(integration, credentials, {STORE, MYOGO}, deps)
    # Claim the id first (paused, so nothing runs without credentials), then its reference prefixes on its myOGO
    # merchant, then write the secret, then go live.
    claimed = integration.model_copy(update={"status": IntegrationStatus.PAUSED})
    try:
        deps.config.create_integration(claimed)
    except ConcurrencyConflictError:
        raise _exists(integration.id) from None
    try:
        _claim_reference_prefixes(integration, credentials, deps)
        deps.secret_writer.write(integration.secret_name, credentials)
    except Exception:
        deps.config.delete_integration(integration.id, deps.clock())
        raise
    if request.paused:
        return claimed
    live = claimed.model_copy(update={"status": IntegrationStatus.ACTIVE})
    deps.config.update_integration(claimed, live)
    return live


def update_integration(integration_id: str, request: IntegrationPatch, deps: OperatorDeps) -> Integration:
    current = deps.integration(integration_id)
    changes: dict[str, Any] = request.model_dump(exclude={"settings", "credentials"}, exclude_unset=True)
    if request.settings is not None:
        changed_settings = {name: getattr(request.settings, name) for name in request.settings.model_fields_set}
        changes["settings"] = current.settings.model_copy(update=changed_settings).model_dump()
    if request.store_options is not None:  # option by option, as settings
        changes["store_options"] = current.store_options | request.store_options
    updated = _remembering_past_prefix(current, validated(Integration, current.model_dump() | changes))
    updated = _with_platform_checked(updated)
    credentials = _rotated(current, request.credentials, deps)
    if credentials is not None:
        _check_store_credentials(updated, credentials)
    touched = set(changes) | (request.credentials.model_fields_set if request.credentials else set())
    sides = {side for side, fields in ((STORE, _STORE_FIELDS), (MYOGO, _MYOGO_FIELDS)) if touched & fields}
    if sides:
        check_access(updated, credentials or deps.secrets.credentials(current), sides, deps)
    merchant_changed = request.credentials is not None and "myogo_merchant_id" in request.credentials.model_fields_set
    if merchant_changed or updated.reference_prefixes() != current.reference_prefixes():
        _claim_reference_prefixes(updated, credentials or deps.secrets.credentials(current), deps)
    if credentials is not None:
        deps.secret_writer.write(current.secret_name, credentials)
    deps.config.update_integration(current, updated)
    return updated


def _with_platform_checked(integration: Integration) -> Integration:
    """The integration, its platform served by an adapter and its store options that adapter's, with defaults."""
    try:
        options = registry.store_options(integration)
    except ConfigurationError as exc:
        field = "platform" if "not supported" in str(exc) else "store_options"
        raise OperatorError(422, "invalid_request", str(exc), field) from None
    return integration.model_copy(update={"store_options": options.model_dump(mode="json")})


def _check_store_credentials(integration: Integration, credentials: Credentials) -> None:
    if credentials.store.platform != integration.platform:
        given, wanted = credentials.store.platform, integration.platform
        message = f"the store credentials are for {given}, the integration is {wanted}"
        raise OperatorError(422, "invalid_request", message, "credentials.store")


def _remembering_past_prefix(current: Integration, updated: Integration) -> Integration:
    """A new reference prefix applies to orders not yet recorded; the old one is kept, so that the tracking flow
    still knows the orders sent under it as this integration's."""
    old, new = current.settings.reference_prefix, updated.settings.reference_prefix
    if old == new:
        return updated
    past = [prefix for prefix in dict.fromkeys([*current.past_reference_prefixes, old]) if prefix != new]
    return validated(Integration, updated.model_dump() | {"past_reference_prefixes": past})


def _claim_reference_prefixes(integration: Integration, credentials: Credentials, deps: OperatorDeps) -> None:
    """Claim the integration's current and past prefixes on its myOGO merchant; 409 when another integration
    holds one. Claims on a merchant the integration used before stay until it is deleted."""
    try:
        deps.config.claim_reference_prefixes(
            integration.id, credentials.myogo_merchant_id, integration.reference_prefixes()
        )
    except ReferencePrefixTakenError as exc:
        message = (
            f"integration {exc.owner!r} already sends orders to myOGO merchant {exc.merchant_id!r} with reference "
            f"prefix {exc.prefix!r} (now or before): orders of both would share myOGO references; "
            "give this integration another settings.reference_prefix"
        )
        raise OperatorError(409, "reference_prefix_taken", message, "settings.reference_prefix") from None
    except ConcurrencyConflictError:
        raise conflict("reference_prefix_busy", "the reference prefixes changed meanwhile; try again") from None


def set_paused(integration_id: str, paused: bool, deps: OperatorDeps) -> Integration:
    current = deps.integration(integration_id)
    status = IntegrationStatus.PAUSED if paused else IntegrationStatus.ACTIVE
    updated = current.model_copy(update={"status": status})
    deps.config.update_integration(current, updated)
    return updated


def delete_integration(integration_id: str, deps: OperatorDeps) -> IntegrationDeleted:
    """Pause (no new work starts), schedule the secret's deletion, then remove the state. Each step can be run
    again, so a delete that failed half-way is finished by deleting again."""
    current = set_paused(integration_id, True, deps)
    deps.secret_writer.schedule_deletion(current.secret_name, deps.secret_recovery_days)
    keep_until = deps.clock() + timedelta(days=deps.keep_order_bindings_days)
    removed = deps.config.delete_integration(integration_id, keep_until)
    return IntegrationDeleted(
        integration_id=integration_id,
        removed_items=removed,
        order_bindings_kept_until=keep_until,
        secret_deleted_after_days=deps.secret_recovery_days,
    )


def webhook_info(integration_id: str, deps: OperatorDeps) -> WebhookInfo:
    integration = deps.integration(integration_id)
    url = f"{deps.webhook_base_url.rstrip('/')}/webhooks/{integration.platform}/{integration.id}"
    configured = bool(deps.secrets.credentials(integration).webhook_secret.get_secret_value())
    return WebhookInfo(
        integration_id=integration.id,
        platform=integration.platform,
        url=url,
        secret_configured=configured,
        instructions=registry.adapter(integration.platform).setup_text,
    )


def check_access(integration: Integration, credentials: Credentials, sides: set[str], deps: OperatorDeps) -> None:
    """One cheap call to each side, both at once; a 422 says which side failed and why (never with a secret). Then
    the warehouse is looked up in the myOGO account's list of warehouses, when it has one."""
    checks = {side: check for side, check in deps.access_checks(integration, credentials).items() if side in sides}
    try:
        with ThreadPoolExecutor(max_workers=len(checks) or 1) as pool:
            outcomes = dict(zip(checks, pool.map(_failure, checks.values()), strict=True))
        failures = {side: failure for side in (STORE, MYOGO) if (failure := outcomes.get(side)) is not None}
        if failures:
            message = "; ".join(f"{side}: {reason}" for side, (_, reason) in failures.items())
            first_side, (first_refused, _) = next(iter(failures.items()))
            blame = _BLAME[(first_side, first_refused)]
            if blame == "credentials.store_api_key" and integration.platform is not Platform.CENTRA:
                blame = "credentials.store"
            raise OperatorError(422, "credentials_check_failed", message, blame)
        if MYOGO in checks:
            _check_warehouse(integration.warehouse, checks[MYOGO])
    finally:
        for check in checks.values():
            check.close()


def _check_warehouse(warehouse: str, myogo: AccessCheck) -> None:
    if not isinstance(myogo, WarehouseChoices):
        return
    try:
        codes = myogo.warehouse_codes()
    except PlatformError as exc:
        raise OperatorError(
            503, "myogo_unavailable", f"the warehouse could not be checked with myOGO ({exc}): try again", "warehouse"
        ) from None
    if codes is not None and warehouse not in codes:
        raise OperatorError(
            422,
            "unknown_warehouse",
            f"warehouse: myOGO has no warehouse {warehouse!r} for this merchant: the warehouses are "
            f"{', '.join(sorted(codes))}",
            "warehouse",
        )


def _failure(check: AccessCheck) -> tuple[bool, str] | None:
    """(credentials refused?, reason) of a failed check; None when it passed."""
    try:
        check.check_access()
    except AuthenticationError as exc:
        return True, f"the credentials were refused ({exc})"
    except TransientPlatformError as exc:
        return False, f"could not be reached or is unavailable ({exc}); check the URL or try again"
    except PlatformError as exc:
        return False, f"the check call failed ({exc}); check the URL"
    return None


def _rotated(current: Integration, patch: CredentialsPatch | None, deps: OperatorDeps) -> Credentials | None:
    if patch is None or not patch.model_fields_set:
        return None
    changes = patch.model_dump(exclude_unset=True)
    if "webhook_secret" in changes and changes["webhook_secret"] is None:  # null clears it: webhooks are refused
        changes["webhook_secret"] = ""
    if "store_api_key" in changes:  # Centra's shorthand
        changes["store"] = {"platform": "centra", "api_key": changes.pop("store_api_key")}
    values = deps.secrets.credentials(current).model_dump() | changes
    return validated(Credentials, values, prefix="credentials.")


def _exists(integration_id: str) -> OperatorError:
    return conflict("integration_exists", f"an integration with id {integration_id!r} exists already")
