"""The operator's adapters against moto over HTTP: the integration configuration repository (one contract with
its in-memory fake), the secret writer, and the work queues' redrive."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from pydantic import SecretStr

from ogosync.aws.secret_writer import SecretsManagerWriter
from ogosync.aws.work_queues import SqsWorkQueues
from ogosync.errors import ConcurrencyConflictError, ReferencePrefixTakenError, UnknownIntegrationError
from ogosync.models import Flow, IntegrationSettings, IntegrationStatus, OrderNote
from ogosync.ports import IntegrationConfigRepository, OrderNotes, StateRepository
from ogosync.state.dynamo import DynamoStateRepository
from ogosync.state.integrations import DynamoIntegrationConfig
from ogosync.state.order_notes import DynamoOrderNotes
from ogosync_local.aws import LocalAws
from tests.factories import T0, make_integration
from tests.fakes import InMemoryState, make_credentials
from tests.fakes_operator import InMemoryIntegrationConfig, InMemoryOrderNotes
from tests.integration.tables import state_table

pytestmark = pytest.mark.integration


@dataclass
class Repos:
    state: StateRepository
    config: IntegrationConfigRepository


@pytest.fixture(params=["moto", "dynamodb-local", "memory"])  # conditional writes also on Amazon's DynamoDB Local
def repos(request: pytest.FixtureRequest) -> Repos:
    if request.param == "memory":
        state = InMemoryState()
        return Repos(state, InMemoryIntegrationConfig(state))
    table = state_table(request, request.param)
    return Repos(DynamoStateRepository(table.client, table.name), DynamoIntegrationConfig(table.client, table.name))


@pytest.fixture
def iid() -> str:
    return f"shop-{uuid.uuid4().hex[:10]}"


def test_an_integration_id_is_created_once(repos: Repos, iid: str) -> None:
    repos.config.create_integration(make_integration(iid))

    with pytest.raises(ConcurrencyConflictError):
        repos.config.create_integration(make_integration(iid, merchant_name="Someone else"))
    assert repos.state.get_integration(iid) == make_integration(iid)


def test_updates_write_field_by_field_so_concurrent_changes_of_other_settings_are_kept(repos: Repos, iid: str) -> None:
    original = make_integration(iid, settings=IntegrationSettings(pricelist="SEK"))
    repos.config.create_integration(original)
    first = original.model_copy(update={"settings": original.settings.model_copy(update={"stock_sync_minutes": 15})})
    second = original.model_copy(
        update={
            "status": IntegrationStatus.PAUSED,
            "settings": original.settings.model_copy(update={"pricelist": None}),
        }
    )

    repos.config.update_integration(original, first)
    repos.config.update_integration(original, second)  # read before `first` was written

    stored = repos.state.get_integration(iid)
    assert stored is not None and stored.status is IntegrationStatus.PAUSED
    assert (stored.settings.stock_sync_minutes, stored.settings.pricelist) == (15, None)


def test_an_update_never_brings_a_deleted_integration_back(repos: Repos, iid: str) -> None:
    integration = make_integration(iid)
    repos.config.create_integration(integration)
    repos.config.delete_integration(iid, T0)

    with pytest.raises(UnknownIntegrationError):
        repos.config.update_integration(integration, integration.model_copy(update={"warehouse": "GOT"}))
    assert repos.state.get_integration(iid) is None


def test_delete_removes_the_state_but_keeps_order_bindings(repos: Repos, iid: str) -> None:
    repos.config.create_integration(make_integration(iid))
    repos.state.put_shipping_mapping(iid, "standard", "POSTI")
    repos.state.save_cursor(repos.state.get_cursor(iid, Flow.ORDERS))
    repos.state.claim_order(iid, "1001", "1001", "t", T0, 60)

    removed = repos.config.delete_integration(iid, T0 + timedelta(days=90))

    assert removed == 3  # mapping, cursor, CONFIG
    assert repos.state.get_integration(iid) is None
    assert repos.state.shipping_map(iid) == {}
    assert repos.state.get_cursor(iid, Flow.ORDERS).version == 0
    assert repos.state.get_order_binding(iid, "1001") is not None
    assert iid not in {integration.id for integration in repos.state.list_integrations()}


def test_a_reference_prefix_of_a_myogo_merchant_is_claimed_by_one_integration_until_it_is_deleted(
    repos: Repos, iid: str
) -> None:
    merchant, other = f"M-{iid}", f"{iid}-other"
    repos.config.create_integration(make_integration(iid))
    repos.config.claim_reference_prefixes(iid, merchant, ["A-", ""])
    repos.config.claim_reference_prefixes(iid, merchant, ["B-", "A-", ""])  # its own claims are kept

    with pytest.raises(ReferencePrefixTakenError) as taken:
        repos.config.claim_reference_prefixes(other, merchant, ["X-", "a-"])
    repos.config.claim_reference_prefixes(other, f"{merchant}-2", ["A-"])  # another myOGO merchant
    repos.config.claim_reference_prefixes(f"{iid}-third", merchant, ["X-"])  # the refused claim wrote nothing

    assert (taken.value.owner, taken.value.prefix, taken.value.merchant_id) == (iid, "a-", merchant)
    assert repos.config.delete_integration(iid, T0 + timedelta(days=90)) == 4  # 3 claims and CONFIG
    repos.config.claim_reference_prefixes(other, merchant, ["A-", "B-", ""])


def test_deleted_order_bindings_expire_by_ttl(local_aws: LocalAws, iid: str) -> None:
    client = local_aws.client("dynamodb")
    DynamoIntegrationConfig(client, local_aws.table_name).create_integration(make_integration(iid))
    DynamoStateRepository(client, local_aws.table_name).claim_order(iid, "1001", "1001", "t", T0, 60)

    DynamoIntegrationConfig(client, local_aws.table_name).delete_integration(iid, T0 + timedelta(days=90))

    item = client.get_item(TableName=local_aws.table_name, Key={"pk": {"S": f"INT#{iid}"}, "sk": {"S": "ORDER#1001"}})
    assert int(item["Item"]["expires_at"]["N"]) == int((T0 + timedelta(days=90)).timestamp())


def test_a_shipping_mapping_is_removed_once(repos: Repos, iid: str) -> None:
    repos.state.put_shipping_mapping(iid, "express", "POSTI-EXPRESS")

    assert repos.config.delete_shipping_mapping(iid, "express")
    assert not repos.config.delete_shipping_mapping(iid, "express")
    assert repos.state.shipping_map(iid) == {}


# ---- secrets ------------------------------------------------------------------------------------


def test_secrets_are_created_rotated_deleted_and_restored_when_the_id_comes_back(local_aws: LocalAws) -> None:
    client = local_aws.client("secretsmanager")
    writer = SecretsManagerWriter(client)
    name = f"{local_aws.secret_prefix}{uuid.uuid4().hex[:8]}"

    writer.write(name, make_credentials(store_api_key="first"))
    writer.write(name, make_credentials(store_api_key="rotated"))
    assert json.loads(client.get_secret_value(SecretId=name)["SecretString"])["store"]["api_key"] == "rotated"

    writer.schedule_deletion(name, 7)
    writer.schedule_deletion(name, 7)  # a delete run again
    writer.write(name, make_credentials(store_api_key="again"))

    values = json.loads(client.get_secret_value(SecretId=name)["SecretString"])
    assert values == make_credentials(store_api_key="again").revealed()
    assert "DeletedDate" not in client.describe_secret(SecretId=name)


def test_revealed_credentials_are_plain_text() -> None:
    credentials = make_credentials(store_api_key="plain-key-7")
    assert credentials.revealed()["store"]["api_key"] == "plain-key-7"
    assert isinstance(credentials.store.api_key, SecretStr) and "plain-key-7" not in repr(credentials)


# ---- work queues --------------------------------------------------------------------------------


@pytest.fixture
def queues(local_aws: LocalAws) -> Iterator[tuple[Any, SqsWorkQueues, str]]:
    sqs = local_aws.client("sqs")
    suffix = uuid.uuid4().hex[:8]
    dlq = sqs.create_queue(QueueName=f"dlq-{suffix}")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "1"})
    source = sqs.create_queue(QueueName=f"src-{suffix}", Attributes={"RedrivePolicy": redrive})["QueueUrl"]
    plain = sqs.create_queue(QueueName=f"plain-{suffix}")["QueueUrl"]
    yield sqs, SqsWorkQueues(sqs, {"work": source, "plain": plain}), dlq
    for url in (source, dlq, plain):
        sqs.delete_queue(QueueUrl=url)


def test_redrive_moves_dead_letters_back_bounded_and_keeps_their_attributes(
    queues: tuple[Any, SqsWorkQueues, str],
) -> None:
    sqs, work, dlq = queues
    for number in range(13):
        attributes = {"kind": {"DataType": "String", "StringValue": "job"}}
        sqs.send_message(QueueUrl=dlq, MessageBody=f'{{"n": {number}}}', MessageAttributes=attributes)

    assert work.depth("work").dead_letters == 13
    first = work.redrive("work", 5)
    rest = work.redrive("work", 100)

    assert (first.moved, first.failed, first.dead_letters_left) == (5, 0, 8)
    assert (rest.moved, rest.dead_letters_left) == (8, 0)
    assert work.depth("work").waiting == 13
    message = sqs.receive_message(QueueUrl=work._urls["work"], MessageAttributeNames=["All"])["Messages"][0]
    assert message["MessageAttributes"]["kind"]["StringValue"] == "job"
    assert work.depth("plain").dead_letters is None


def test_dead_letters_are_listed_one_by_one_and_redriven_or_discarded_one_or_all(
    queues: tuple[Any, SqsWorkQueues, str],
) -> None:
    sqs, work, dlq = queues
    for number in range(14):
        sqs.send_message(QueueUrl=dlq, MessageBody=f'{{"n": {number}}}')

    listed = work.dead_letters("work", 100)
    first, second, third = (letter.message_id for letter in listed[:3])
    moved = work.redrive_dead_letter("work", first)
    discarded = work.discard_dead_letters("work", {second})
    unknown = work.redrive_dead_letter("work", "no-such-message"), work.discard_dead_letters("work", {"nope"})
    left = work.dead_letters("work", 100)

    assert len(listed) == 14 and len({letter.message_id for letter in listed}) == 14
    assert {letter.body for letter in listed} == {f'{{"n": {n}}}' for n in range(14)}
    assert all(letter.sent_at is not None and letter.receive_count >= 1 for letter in listed)
    assert (moved, discarded, unknown) == (True, 1, (False, 0))
    assert {letter.message_id for letter in left} == {letter.message_id for letter in listed} - {first, second}
    assert third in {letter.message_id for letter in left}
    assert work.depth("work").waiting == 1
    assert len(work.dead_letters("work", 5)) == 5
    assert work.discard_dead_letters("work", None) == 12
    assert work.depth("work").dead_letters == 0


# ---- orders' timeline notes ---------------------------------------------------------------------


@pytest.fixture(params=["moto", "dynamodb-local", "memory"])
def notes(request: pytest.FixtureRequest) -> OrderNotes:
    if request.param == "memory":
        return InMemoryOrderNotes()
    table = state_table(request, request.param)
    return DynamoOrderNotes(table.client, table.name)


def test_an_orders_notes_come_back_oldest_first_and_only_its_own(notes: OrderNotes, iid: str) -> None:
    def note(order_id: str, minutes: int, event: str) -> OrderNote:
        return OrderNote(
            integration_id=iid,
            store_order_id=order_id,
            at=T0 + timedelta(minutes=minutes),
            where="ogosync",
            event=event,
        )

    for added in (note("100", 5, "released by a person"), note("100", 1, "held: why"), note("1001", 2, "other")):
        notes.add_note(added)
    notes.add_note(note("100", 5, "released by a person"))  # the same moment twice: both kept

    assert [(n.at, n.event) for n in notes.notes(iid, "100")] == [
        (T0 + timedelta(minutes=1), "held: why"),
        (T0 + timedelta(minutes=5), "released by a person"),
        (T0 + timedelta(minutes=5), "released by a person"),
    ]
    assert [n.event for n in notes.notes(iid, "1001")] == ["other"]
    assert notes.notes(iid, "10") == []
