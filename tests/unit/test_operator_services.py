"""The operator services over in-memory fakes: what they check, write and refuse, without HTTP or AWS."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from pydantic import SecretStr, ValidationError

from ogosync.errors import AuthenticationError, OgosyncError, TransientPlatformError, UnknownIntegrationError
from ogosync.models import (
    AftercareStatus,
    BindingStatus,
    Credentials,
    Cursor,
    Flow,
    FlowJob,
    Hold,
    HoldReason,
    IntegrationSettings,
    IntegrationStatus,
    OrderImportJob,
    ProductAction,
    WarehouseOrderState,
)
from ogosync.operator import integrations, products, runs, shipping, status
from ogosync.operator.deps import OperatorDeps
from ogosync.operator.errors import OperatorError, validated
from ogosync.operator.schemas import (
    CredentialsIn,
    CredentialsPatch,
    IntegrationCreate,
    IntegrationPatch,
    ShippingMappingIn,
)
from tests.factories import T0, make_order
from tests.fakes import FakeQueue, FakeStore, FakeWarehouse, InMemoryState
from tests.fakes_aftercare import InMemoryAftercare
from tests.fakes_operator import (
    FakeAccessCheck,
    FakeMyOgoAccount,
    FakeMyOgoCheck,
    FakeSecretWriter,
    FakeWorkQueues,
    InMemoryIntegrationConfig,
)
from tests.fakes_product_page import InMemoryProductRuns

STORE_KEY = "centra-key-s3cr3t"
TOKEN = "myogo-token-s3cr3t"


@dataclass
class World:
    state: InMemoryState = field(default_factory=InMemoryState)
    secrets: FakeSecretWriter = field(default_factory=FakeSecretWriter)
    checks: dict[str, FakeAccessCheck] = field(
        default_factory=lambda: {"store": FakeAccessCheck(), "myogo": FakeAccessCheck()}
    )
    checked_with: list[Credentials] = field(default_factory=list)
    store: FakeStore = field(default_factory=FakeStore)
    warehouse: FakeWarehouse = field(default_factory=FakeWarehouse)
    order_queue: FakeQueue = field(default_factory=FakeQueue)
    orders_flow_queue: FakeQueue = field(default_factory=FakeQueue)
    work_queues: FakeWorkQueues = field(default_factory=lambda: FakeWorkQueues({"order-import": 3, "extra": None}))

    def __post_init__(self) -> None:
        self.config = InMemoryIntegrationConfig(self.state)
        self.aftercare = InMemoryAftercare(self.state)

        def access_checks(_: object, credentials: Credentials) -> dict[str, FakeAccessCheck]:
            self.checked_with.append(credentials)
            return self.checks

        self.deps = OperatorDeps(
            state=self.state,
            config=self.config,
            secrets=self.secrets,
            secret_writer=self.secrets,
            access_checks=access_checks,
            store=lambda _: self.store,
            warehouse=lambda _: self.warehouse,
            order_queue=self.order_queue,
            flow_queues={Flow.ORDERS: self.orders_flow_queue},
            work_queues=self.work_queues,
            webhook_base_url="https://hooks.example/",
            clock=lambda: T0,
            aftercare=self.aftercare,
        )


def _create_request(integration_id: str = "acme-centra", **changes: object) -> IntegrationCreate:
    values: dict[str, object] = {
        "id": integration_id,
        "platform": "centra",
        "merchant_name": "Acme Apparel",
        "store_base_url": "https://acme.centra.example/api/ogosync",
        "warehouse": "TLL",
        "time_zone": "Europe/Stockholm",
        "credentials": CredentialsIn(
            store_api_key=SecretStr(STORE_KEY),
            myogo_merchant_id="M-1",
            myogo_secret_token=SecretStr(TOKEN),
            myogo_client_id="123456",
            myogo_client_secret=SecretStr("abcdef"),
        ),
    }
    return IntegrationCreate.model_validate(values | changes)


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def created(world: World) -> World:
    integrations.create_integration(_create_request(), world.deps)
    world.checked_with.clear()
    for check in world.checks.values():
        check.calls = 0
    return world


# ---- create -------------------------------------------------------------------------------------


def test_create_checks_both_sides_then_keeps_the_credentials_only_in_the_secret(world: World) -> None:
    integration = integrations.create_integration(_create_request(), world.deps)

    assert integration.status is IntegrationStatus.ACTIVE
    assert integration.secret_name == "ogosync/acme-centra"
    assert [check.calls for check in world.checks.values()] == [1, 1]
    assert all(check.closed for check in world.checks.values())
    stored = world.secrets.secrets["ogosync/acme-centra"]
    assert stored.store.api_key.get_secret_value() == STORE_KEY
    assert stored.webhook_secret.get_secret_value() == "", "no endpoint secret yet: webhooks are refused"
    assert world.state.integrations["acme-centra"] == integration
    assert STORE_KEY not in integration.model_dump_json()


def test_refused_store_credentials_answer_422_naming_the_side_and_nothing_is_written(world: World) -> None:
    world.checks["store"].failure = AuthenticationError("centra", "Authorization failed", 401)

    with pytest.raises(OperatorError) as refused:
        integrations.create_integration(_create_request(), world.deps)

    assert (refused.value.status, refused.value.code) == (422, "credentials_check_failed")
    assert refused.value.field == "credentials.store_api_key"
    assert refused.value.message.startswith("store: the credentials were refused")
    assert STORE_KEY not in refused.value.message
    assert world.state.writes == 0 and not world.state.integrations and not world.secrets.secrets


def test_an_unreachable_myogo_points_at_its_url_and_both_failures_are_told(world: World) -> None:
    world.checks["store"].failure = AuthenticationError("centra", "Authorization failed", 401)
    world.checks["myogo"].failure = TransientPlatformError("myogo", "cannot connect (ConnectError)")

    with pytest.raises(OperatorError) as refused:
        integrations.create_integration(_create_request(), world.deps)

    assert "myogo: could not be reached" in refused.value.message and "store:" in refused.value.message
    assert refused.value.field == "credentials.store_api_key"


def test_an_id_in_use_is_a_conflict_before_any_call_to_the_platforms(created: World) -> None:
    with pytest.raises(OperatorError) as refused:
        integrations.create_integration(_create_request(), created.deps)

    assert (refused.value.status, refused.value.code) == (409, "integration_exists")
    assert created.checked_with == []


def test_a_failed_secret_write_leaves_no_integration_behind(world: World) -> None:
    world.secrets.fail_next = OgosyncError("Secrets Manager is down")

    with pytest.raises(OgosyncError):
        integrations.create_integration(_create_request(), world.deps)

    assert world.state.integrations == {}


def test_an_invalid_time_zone_is_a_422_naming_the_field_and_the_closest_names(world: World) -> None:
    with pytest.raises(OperatorError) as refused:
        validated(IntegrationCreate, _create_request().model_dump() | {"time_zone": "Europe/Stokholm"})

    assert (refused.value.status, refused.value.field) == (422, "time_zone")
    message = refused.value.message
    assert message.startswith("time_zone: unknown time zone 'Europe/Stokholm': did you mean Europe/Stockholm ")
    assert message.endswith("use an IANA time zone name such as Europe/Stockholm or Europe/Helsinki")


def test_an_unknown_setting_or_field_is_refused_with_the_names_there_are(world: World) -> None:
    body = _create_request().model_dump()
    with pytest.raises(OperatorError) as setting:
        validated(IntegrationCreate, body | {"settings": {"stock_minutes": 15}})
    with pytest.raises(OperatorError) as field:
        validated(IntegrationPatch, {"merchant": "Acme"})

    assert setting.value.field == "settings.stock_minutes"
    assert setting.value.message.startswith(
        "settings.stock_minutes: unknown setting stock_minutes: the settings are order_poll_minutes, "
        "product_sync_minutes, stock_sync_minutes,"
    )
    assert field.value.field == "merchant"
    assert "unknown field merchant: the fields are merchant_name, store_base_url," in field.value.message
    assert "Extra inputs" not in setting.value.message + field.value.message


def test_a_trailing_slash_on_a_base_url_is_stored_without_it(world: World) -> None:
    created = integrations.create_integration(
        _create_request(store_base_url="https://acme.centra.example/api/ogosync/", myogo_base_url="https://m.example/"),
        world.deps,
    )
    patch = IntegrationPatch.model_validate({"store_base_url": "https://acme.centra.example/api/v2//"})
    updated = integrations.update_integration("acme-centra", patch, world.deps)

    assert (created.store_base_url, created.myogo_base_url) == (
        "https://acme.centra.example/api/ogosync",
        "https://m.example",
    )
    assert world.state.integrations["acme-centra"].store_base_url == updated.store_base_url
    assert updated.store_base_url == "https://acme.centra.example/api/v2"
    with pytest.raises(OperatorError, match="store_base_url: a URL with a host"):
        validated(IntegrationPatch, {"store_base_url": "https:///"})


def test_create_paused(world: World) -> None:
    integration = integrations.create_integration(_create_request(paused=True), world.deps)

    assert integration.status is IntegrationStatus.PAUSED
    assert world.state.integrations["acme-centra"].status is IntegrationStatus.PAUSED


# ---- update, pause, delete, webhook -------------------------------------------------------------


def test_update_changes_only_the_settings_sent_and_checks_only_the_side_that_changed(created: World) -> None:
    patch = IntegrationPatch.model_validate(
        {"settings": {"stock_sync_minutes": 15}, "credentials": {"store_api_key": "rotated-key"}}
    )

    updated = integrations.update_integration("acme-centra", patch, created.deps)

    assert updated.settings == IntegrationSettings(stock_sync_minutes=15)
    assert (created.checks["store"].calls, created.checks["myogo"].calls) == (1, 0)
    assert created.checked_with[0].store.api_key.get_secret_value() == "rotated-key"
    stored = created.secrets.secrets["ogosync/acme-centra"]
    assert stored.store.api_key.get_secret_value() == "rotated-key"
    assert stored.myogo_secret_token.get_secret_value() == TOKEN


def test_a_rotation_the_store_refuses_changes_nothing(created: World) -> None:
    created.checks["store"].failure = AuthenticationError("centra", "Authorization failed", 401)
    patch = IntegrationPatch.model_validate({"merchant_name": "Renamed", "credentials": {"store_api_key": "bad"}})

    with pytest.raises(OperatorError):
        integrations.update_integration("acme-centra", patch, created.deps)

    assert created.state.integrations["acme-centra"].merchant_name == "Acme Apparel"
    assert created.secrets.secrets["ogosync/acme-centra"].store.api_key.get_secret_value() == STORE_KEY


def test_the_webhook_secret_alone_needs_no_check_and_null_clears_it(created: World) -> None:
    set_secret = IntegrationPatch(credentials=CredentialsPatch(webhook_secret=SecretStr("endpoint-secret")))
    integrations.update_integration("acme-centra", set_secret, created.deps)
    assert integrations.webhook_info("acme-centra", created.deps).secret_configured

    clear = IntegrationPatch.model_validate({"credentials": {"webhook_secret": None}})
    integrations.update_integration("acme-centra", clear, created.deps)

    assert not integrations.webhook_info("acme-centra", created.deps).secret_configured
    assert created.checked_with == []


def test_an_empty_myogo_webhook_key_is_refused_at_set_up_and_null_removes_it(created: World) -> None:
    credentials = _create_request().credentials.model_dump() | {"myogo_webhook_key": ""}
    with pytest.raises(ValidationError, match="myogo_webhook_key"):
        CredentialsIn.model_validate(credentials)
    with pytest.raises(ValidationError, match="myogo_webhook_key"):
        IntegrationPatch.model_validate({"credentials": {"myogo_webhook_key": ""}})

    set_key = IntegrationPatch.model_validate({"credentials": {"myogo_webhook_key": "hook-key"}})
    integrations.update_integration("acme-centra", set_key, created.deps)
    key = created.secrets.secrets["ogosync/acme-centra"].myogo_webhook_key
    assert key is not None and key.get_secret_value() == "hook-key"
    clear = IntegrationPatch.model_validate({"credentials": {"myogo_webhook_key": None}})
    integrations.update_integration("acme-centra", clear, created.deps)
    assert created.secrets.secrets["ogosync/acme-centra"].myogo_webhook_key is None


def test_the_notice_channels_are_settings_and_their_signing_key_a_credential_set_without_any_check(
    created: World,
) -> None:
    with pytest.raises(ValidationError, match="notify_webhook_url"):
        IntegrationPatch.model_validate({"settings": {"notify_webhook_url": "http://plain.example/hook"}})
    with pytest.raises(ValidationError, match="notify_webhook_secret"):
        IntegrationPatch.model_validate({"credentials": {"notify_webhook_secret": "short"}})
    patch = IntegrationPatch.model_validate(
        {
            "settings": {"notify_email": "ops@acme.example", "notify_webhook_url": "https://hooks.acme.example/n"},
            "credentials": {"notify_webhook_secret": "k" * 32},
        }
    )

    updated = integrations.update_integration("acme-centra", patch, created.deps)

    assert (updated.settings.notify_email, updated.settings.notify_webhook_url) == (
        "ops@acme.example",
        "https://hooks.acme.example/n",
    )
    key = created.secrets.secrets["ogosync/acme-centra"].notify_webhook_secret
    assert key is not None and key.get_secret_value() == "k" * 32
    assert created.checked_with == []  # no store or myOGO call for a notice channel
    off = IntegrationPatch.model_validate(
        {"settings": {"notify_email": None}, "credentials": {"notify_webhook_secret": None}}
    )
    integrations.update_integration("acme-centra", off, created.deps)
    assert created.state.integrations["acme-centra"].settings.notify_email is None
    assert created.secrets.secrets["ogosync/acme-centra"].notify_webhook_secret is None


def test_an_update_that_makes_the_integration_invalid_names_the_field(created: World) -> None:
    # Past the request's own check (as a stored integration could be): the model of the whole refuses it too.
    patch = IntegrationPatch.model_construct(time_zone="Nowhere/Zone")
    with pytest.raises(OperatorError) as refused:
        integrations.update_integration("acme-centra", patch, created.deps)

    assert refused.value.field == "time_zone"


def test_the_webhook_url_is_the_one_the_webhook_api_serves(created: World) -> None:
    info = integrations.webhook_info("acme-centra", created.deps)

    assert info.url == "https://hooks.example/webhooks/centra/acme-centra"
    assert not info.secret_configured


def test_delete_schedules_the_secret_and_keeps_order_bindings_for_a_while(created: World) -> None:
    state = created.state
    state.put_shipping_mapping("acme-centra", "standard", "POSTI")
    state.claim_order("acme-centra", "1001", "1001", "t", T0, 60)

    deleted = integrations.delete_integration("acme-centra", created.deps)

    assert "acme-centra" not in state.integrations and state.shipping_map("acme-centra") == {}
    assert created.secrets.scheduled_deletions == {"ogosync/acme-centra": 7}
    assert state.get_order_binding("acme-centra", "1001") is not None
    assert created.config.order_expiry[("acme-centra", "1001")] == T0 + timedelta(days=90)
    assert deleted.order_bindings_kept_until == T0 + timedelta(days=90)
    with pytest.raises(UnknownIntegrationError):
        integrations.get_integration("acme-centra", created.deps)


def test_pause_and_resume(created: World) -> None:
    assert integrations.set_paused("acme-centra", True, created.deps).status is IntegrationStatus.PAUSED
    assert created.state.integrations["acme-centra"].status is IntegrationStatus.PAUSED
    assert integrations.set_paused("acme-centra", False, created.deps).status is IntegrationStatus.ACTIVE


# ---- shipping methods ---------------------------------------------------------------------------


def test_shipping_methods_are_the_stores_methods_joined_with_the_mappings(created: World) -> None:
    for number, method in enumerate(["standard", "standard", "express", None]):
        created.store.put(make_order(str(1001 + number), placed_at=T0 - timedelta(days=1), shipping_method=method))
    shipping.set_shipping_mapping(
        "acme-centra", ShippingMappingIn(store_method="standard", myogo_code="POSTI"), created.deps
    )
    shipping.set_shipping_mapping(
        "acme-centra", ShippingMappingIn(store_method="*", myogo_code="DEFAULT"), created.deps
    )
    shipping.set_shipping_mapping(
        "acme-centra", ShippingMappingIn(store_method="drone", myogo_code="DRONE"), created.deps
    )

    methods = shipping.shipping_methods("acme-centra", created.deps)

    assert methods.orders_read == 4 and methods.default_code == "DEFAULT"
    assert [(m.store_method, m.myogo_code, m.by_default, m.orders_seen) for m in methods.methods] == [
        ("standard", "POSTI", False, 2),
        ("express", "DEFAULT", True, 1),
        ("drone", "DRONE", False, 0),
    ]


def test_a_store_that_cannot_be_read_is_told_in_the_answer(created: World) -> None:
    created.store.fail_listing = TransientPlatformError("centra", "cannot connect", None)
    created.state.put_shipping_mapping("acme-centra", "standard", "POSTI")

    methods = shipping.shipping_methods("acme-centra", created.deps)

    assert methods.store_error == "centra: cannot connect"
    assert [m.store_method for m in methods.methods] == ["standard"]


def test_removing_a_mapping_that_does_not_exist_is_404(created: World) -> None:
    with pytest.raises(OperatorError) as refused:
        shipping.delete_shipping_mapping("acme-centra", "nope", created.deps)
    assert refused.value.status == 404


def test_a_shipping_code_myogo_does_not_list_is_refused_naming_the_codes_it_has(created: World) -> None:
    account = FakeMyOgoAccount(frozenset({"POSTI", "POSTI-EXPRESS"}))
    created.deps.warehouse = lambda _: account

    with pytest.raises(OperatorError) as refused:
        shipping.set_shipping_mapping(
            "acme-centra", ShippingMappingIn(store_method="standard", myogo_code="NOPE"), created.deps
        )
    mapped = shipping.set_shipping_mapping(
        "acme-centra", ShippingMappingIn(store_method="standard", myogo_code="POSTI"), created.deps
    )

    assert (refused.value.status, refused.value.code, refused.value.field) == (
        422,
        "unknown_shipping_code",
        "myogo_code",
    )
    assert refused.value.message == (
        "myogo_code: myOGO has no shipping method 'NOPE' enabled for this merchant: the codes are POSTI, POSTI-EXPRESS"
    )
    assert mapped.checked and created.state.shipping_map("acme-centra") == {"standard": "POSTI"}


def test_a_shipping_code_is_stored_unchecked_when_myogo_lists_none_and_refused_when_myogo_is_down(
    created: World,
) -> None:
    created.deps.warehouse = lambda _: FakeMyOgoAccount(None)
    unchecked = shipping.set_shipping_mapping(
        "acme-centra", ShippingMappingIn(store_method="standard", myogo_code="ANY"), created.deps
    )
    created.deps.warehouse = lambda _: FakeMyOgoAccount(None, TransientPlatformError("myogo", "down", 503))

    with pytest.raises(OperatorError) as down:
        shipping.set_shipping_mapping(
            "acme-centra", ShippingMappingIn(store_method="express", myogo_code="X"), created.deps
        )

    assert not unchecked.checked
    assert (down.value.status, down.value.code) == (503, "myogo_unavailable")
    assert created.state.shipping_map("acme-centra") == {"standard": "ANY"}


def test_a_warehouse_myogo_does_not_list_is_refused_before_anything_is_written(world: World) -> None:
    world.checks["myogo"] = FakeMyOgoCheck(frozenset({"TLL", "GOT"}))

    with pytest.raises(OperatorError) as refused:
        integrations.create_integration(_create_request(warehouse="XXX"), world.deps)

    assert (refused.value.status, refused.value.code, refused.value.field) == (422, "unknown_warehouse", "warehouse")
    assert (
        refused.value.message
        == "warehouse: myOGO has no warehouse 'XXX' for this merchant: the warehouses are GOT, TLL"
    )
    assert world.state.integrations == {} and world.secrets.secrets == {}
    assert world.checks["myogo"].closed


def test_a_changed_warehouse_is_checked_with_myogo(created: World) -> None:
    created.checks["myogo"] = FakeMyOgoCheck(frozenset({"TLL", "GOT"}))

    updated = integrations.update_integration("acme-centra", IntegrationPatch(warehouse="GOT"), created.deps)
    with pytest.raises(OperatorError) as refused:
        integrations.update_integration("acme-centra", IntegrationPatch(warehouse="VNT"), created.deps)

    assert updated.warehouse == "GOT" and created.checks["myogo"].calls == 2
    assert refused.value.code == "unknown_warehouse"
    assert created.state.integrations["acme-centra"].warehouse == "GOT"


# ---- status, held orders, runs ------------------------------------------------------------------


def _hold(world: World, order_id: str) -> None:
    hold = Hold(reason=HoldReason.UNMAPPED_SHIPPING_METHOD, detail="no myOGO shipping code for 'express'")
    world.state.mark_order_held("acme-centra", order_id, order_id, [hold], T0, T0 - timedelta(hours=1))


def test_held_orders_are_listed_with_reasons_and_released_as_rechecks(created: World) -> None:
    _hold(created, "1001")
    _hold(created, "1002")

    held = status.held_orders("acme-centra", created.deps)
    released = status.release_order("acme-centra", "1001", created.deps)

    assert [(h.order_id, h.holds[0].reason) for h in held] == [
        ("1001", HoldReason.UNMAPPED_SHIPPING_METHOD),
        ("1002", HoldReason.UNMAPPED_SHIPPING_METHOD),
    ]
    assert released.order_ids == ["1001"]
    assert created.order_queue.jobs == [OrderImportJob(integration_id="acme-centra", order_id="1001", source="recheck")]
    assert status.release_held_orders("acme-centra", created.deps).order_ids == ["1001", "1002"]


def test_status_shows_orders_needing_a_person_and_shipments_waiting_for_the_store(created: World) -> None:
    """Issue 10 items 9 and 10: both are shown in status (and so in the CLI), not only in logs."""
    created.state.claim_order("acme-centra", "1001", "1001", "t", T0, 60)
    sent = WarehouseOrderState(id="id-1001", reference="1001", status="collecting")
    created.state.mark_order_sent("acme-centra", "1001", "t", sent, T0, was_held=False, sent_hash="h")
    created.aftercare.claim_aftercare("acme-centra", "1001", "a", T0, 60)
    too_late = "cancelled in the store after myOGO started on 1001 (status collecting)"
    created.aftercare.finish_aftercare(
        "acme-centra", "1001", "a", AftercareStatus.NEEDS_PERSON, too_late, T0, close=True
    )
    created.aftercare.mark_waiting("acme-centra", "1002", "1002", T0)

    state = status.integration_state("acme-centra", created.deps)

    assert [(o.store_order_id, o.detail) for o in state.needs_person] == [("1001", too_late)]
    assert [(w.store_order_id, w.since) for w in state.waiting_for_store] == [("1002", T0)]
    history = status.order_history("acme-centra", "1001", False, created.deps)
    assert f"after sending: needs_person: {too_late}" in [event.event for event in history.timeline]


def test_only_a_held_order_of_an_active_integration_can_be_released(created: World) -> None:
    created.state.claim_order("acme-centra", "1003", "1003", "t", T0, 60)
    with pytest.raises(OperatorError) as not_held:
        status.release_order("acme-centra", "1003", created.deps)
    with pytest.raises(OperatorError) as unknown:
        status.release_order("acme-centra", "404", created.deps)
    _hold(created, "1001")
    integrations.set_paused("acme-centra", True, created.deps)
    with pytest.raises(OperatorError) as paused:
        status.release_order("acme-centra", "1001", created.deps)

    assert [e.value.code for e in (not_held, unknown, paused)] == [
        "order_not_held",
        "unknown_order",
        "integration_paused",
    ]
    assert created.order_queue.jobs == []


def test_run_now_puts_a_job_on_the_flows_queue_only_when_the_flow_is_deployed(created: World) -> None:
    run = runs.run_flow("acme-centra", Flow.ORDERS, created.deps)
    with pytest.raises(OperatorError) as stock:
        runs.run_flow("acme-centra", Flow.STOCK, created.deps)

    assert created.orders_flow_queue.jobs == [FlowJob(integration_id="acme-centra", flow=Flow.ORDERS, scheduled_for=T0)]
    assert run.enqueued_at == T0
    assert (stock.value.status, stock.value.code) == (409, "flow_not_deployed")


def test_flow_status_tells_result_lag_and_overdue(created: World) -> None:
    created.state.save_cursor(
        Cursor(
            integration_id="acme-centra",
            flow=Flow.ORDERS,
            last_run_started=T0 - timedelta(minutes=20),
            last_run_ended=T0 - timedelta(minutes=19),
            last_counts={"created": 2},
            last_error="centra: cannot connect",
        )
    )

    flows = {f.flow: f for f in status.integration_state("acme-centra", created.deps).flows}

    orders = flows[Flow.ORDERS]
    assert (orders.result, orders.lag_seconds, orders.overdue) == ("errors", 19 * 60, True)  # 2 x 5 min passed
    assert (orders.health, flows[Flow.STOCK].health) == ("errors", "not deployed")
    assert (flows[Flow.STOCK].result, flows[Flow.STOCK].deployed, flows[Flow.STOCK].overdue) == (
        "never_run",
        False,
        False,
    )


def test_a_new_integration_shows_flows_not_run_yet_not_overdue(created: World) -> None:
    created.deps.flow_queues = {flow: FakeQueue() for flow in Flow}
    created.deps.clock = lambda: T0 + timedelta(days=2)

    flows = status.integration_state("acme-centra", created.deps).flows

    assert {(f.health, f.result, f.overdue) for f in flows} == {("not run yet", "never_run", False)}


def test_a_flow_switched_off_is_shown_off_and_never_overdue(created: World) -> None:
    created.deps.flow_queues = {flow: FakeQueue() for flow in Flow}
    patch = IntegrationPatch.model_validate({"settings": {"stock_sync_minutes": 0}})
    integrations.update_integration("acme-centra", patch, created.deps)
    long_ago = T0 - timedelta(days=3)
    for flow in (Flow.STOCK, Flow.ORDERS):
        created.state.save_cursor(
            Cursor(integration_id="acme-centra", flow=flow, last_run_started=long_ago, last_run_ended=long_ago)
        )

    flows = {f.flow: f for f in status.integration_state("acme-centra", created.deps).flows}

    assert (flows[Flow.STOCK].health, flows[Flow.STOCK].interval_minutes, flows[Flow.STOCK].overdue) == (
        "off",
        0,
        False,
    )
    assert (flows[Flow.ORDERS].health, flows[Flow.ORDERS].overdue) == ("overdue", True)


def test_a_product_run_refused_while_another_runs_names_the_command_to_watch_it(created: World) -> None:
    created.deps.flow_queues = {Flow.PRODUCTS: FakeQueue()}
    runs = InMemoryProductRuns()
    products.request_action("acme-centra", ProductAction.REFRESH, None, created.deps, runs)

    with pytest.raises(OperatorError) as busy:
        products.request_action("acme-centra", ProductAction.CREATE, ["CAPRED"], created.deps, runs)

    assert (busy.value.status, busy.value.code) == (409, "product_run_in_progress")
    assert busy.value.message.endswith(
        "wait for it to end (`ogosync products status acme-centra` shows it), then try again"
    )
    assert "GET " not in busy.value.message


def test_an_orders_history_joins_ogosync_the_store_and_myogo(created: World) -> None:
    order = make_order("1001", placed_at=T0 - timedelta(hours=2))
    created.store.put(order)
    _hold(created, "1001")

    history = status.order_history("acme-centra", "1001", True, created.deps)

    assert history.status is BindingStatus.HELD and history.reference == "1001"
    assert [(event.where, event.event.split(":")[0]) for event in history.timeline] == [
        ("store", "placed"),
        ("ogosync", "received"),
        ("ogosync", "held"),
    ]
    assert history.store is not None and history.store.found and history.store.shipping_method == "standard"
    assert history.myogo is not None and not history.myogo.found
    with pytest.raises(OperatorError) as unknown:
        status.order_history("acme-centra", "9999", True, created.deps)
    assert unknown.value.code == "unknown_order"


def test_redrive_refuses_unknown_queues_and_queues_without_a_dlq(created: World) -> None:
    moved = runs.redrive("order-import", 2, created.deps)
    with pytest.raises(OperatorError) as unknown:
        runs.redrive("nope", 10, created.deps)
    with pytest.raises(OperatorError) as no_dlq:
        runs.redrive("extra", 10, created.deps)

    assert (moved.moved, moved.dead_letters_left) == (2, 1)
    assert (unknown.value.status, no_dlq.value.status) == (404, 409)


def test_unknown_integrations_are_refused_everywhere(world: World) -> None:
    calls = [
        lambda: integrations.get_integration("ghost", world.deps),
        lambda: integrations.webhook_info("ghost", world.deps),
        lambda: shipping.shipping_methods("ghost", world.deps),
        lambda: status.held_orders("ghost", world.deps),
        lambda: runs.run_flow("ghost", Flow.ORDERS, world.deps),
    ]
    for call in calls:
        with pytest.raises(UnknownIntegrationError):
            call()


def test_a_new_reference_prefix_keeps_the_old_ones_for_the_orders_sent_under_them(created: World) -> None:
    for prefix in ("A-", "B-", "A-"):
        patch = IntegrationPatch.model_validate({"settings": {"reference_prefix": prefix}})
        updated = integrations.update_integration("acme-centra", patch, created.deps)

    assert updated.settings.reference_prefix == "A-"
    assert updated.past_reference_prefixes == ["", "B-"]
    assert created.state.integrations["acme-centra"].reference_prefixes() == ["A-", "", "B-"]


def test_a_myogo_merchant_and_prefix_another_integration_uses_is_refused_at_create(created: World) -> None:
    with pytest.raises(OperatorError) as refused:
        integrations.create_integration(_create_request("beta-centra"), created.deps)

    assert (refused.value.status, refused.value.code) == (409, "reference_prefix_taken")
    assert refused.value.field == "settings.reference_prefix"
    assert "'acme-centra'" in refused.value.message and "'M-1'" in refused.value.message
    assert "beta-centra" not in created.state.integrations and "ogosync/beta-centra" not in created.secrets.secrets

    other_prefix = _create_request("beta-centra", settings={"reference_prefix": "BETA-"})
    assert integrations.create_integration(other_prefix, created.deps).status is IntegrationStatus.ACTIVE


def test_a_prefix_another_integration_used_before_is_refused_at_update(created: World) -> None:
    rename = IntegrationPatch.model_validate({"settings": {"reference_prefix": "ACME-"}})
    integrations.update_integration("acme-centra", rename, created.deps)
    beta = _create_request("beta-centra", settings={"reference_prefix": "BETA-"})
    integrations.create_integration(beta, created.deps)

    take_old = IntegrationPatch.model_validate({"settings": {"reference_prefix": ""}})
    with pytest.raises(OperatorError) as refused:
        integrations.update_integration("beta-centra", take_old, created.deps)

    assert refused.value.code == "reference_prefix_taken"  # acme's old orders live in myOGO under ""
    assert created.state.integrations["beta-centra"].settings.reference_prefix == "BETA-"


def test_moving_to_a_merchant_where_the_prefix_is_taken_is_refused_and_delete_releases_the_prefix(
    created: World,
) -> None:
    beta = _create_request("beta-centra")
    beta.credentials.myogo_merchant_id = "M-2"
    integrations.create_integration(beta, created.deps)
    move = IntegrationPatch.model_validate({"credentials": {"myogo_merchant_id": "M-1"}})

    with pytest.raises(OperatorError) as refused:
        integrations.update_integration("beta-centra", move, created.deps)
    integrations.delete_integration("acme-centra", created.deps)
    moved = integrations.update_integration("beta-centra", move, created.deps)

    assert refused.value.code == "reference_prefix_taken"
    assert created.secrets.secrets["ogosync/beta-centra"].myogo_merchant_id == "M-1" and moved.id == "beta-centra"
