"""AWS on loopback: moto in server mode, with the table and queues created from template.yaml itself,
so local runs and tests use the same keys, indexes and redrive limits as the deployed stack."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from moto.server import ThreadedMotoServer
from samtranslator.yaml_helper import yaml_parse

REGION = "eu-north-1"


def load_template(path: Path) -> dict[str, Any]:
    template: dict[str, Any] = yaml_parse(path.read_text())
    return template


def _resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: res.get("Properties", {}) for name, res in template["Resources"].items() if res["Type"] == kind}


@dataclass
class LocalAws:
    """One stack's resources. moto keeps one backend per process, so names carry a suffix unique to the stack."""

    endpoint: str
    suffix: str
    queue_urls: dict[str, str] = field(default_factory=dict)  # logical id -> URL
    dynamodb_endpoint: str | None = None  # DynamoDB elsewhere than moto (the benchmarks: DynamoDB Local)

    @property
    def table_name(self) -> str:
        return f"ogosync-state-{self.suffix}"

    @property
    def secret_prefix(self) -> str:
        return f"ogosync/{self.suffix}/"

    def secret_name(self, integration_id: str) -> str:
        return f"{self.secret_prefix}{integration_id}"

    @property
    def notify_sender(self) -> str:
        """The stack's NotifySender: an address verified in SES (moto), unique to the stack."""
        return f"notices-{self.suffix}@ogosync.local"

    def sent_emails(self) -> list[dict[str, Any]]:
        """The e-mails SES took from this stack's sender (moto's record of them: source, destinations, subject,
        body), in the order they were sent."""
        with urllib.request.urlopen(f"{self.endpoint}/moto-api/data.json", timeout=30) as answer:  # noqa: S310
            models = json.load(answer)
        return [message for message in models["ses"]["Message"] if message["source"] == self.notify_sender]

    _server: ThreadedMotoServer | MotoProcess | None = None

    def client(self, service: str) -> Any:
        client: Any = boto3.client(  # type: ignore[call-overload]
            service,
            endpoint_url=self.dynamodb_endpoint if service == "dynamodb" and self.dynamodb_endpoint else self.endpoint,
            region_name=REGION,
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        return client

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()


def start_local_aws(
    template_path: Path,
    *,
    visibility_timeout_s: int = 1,
    own_process: bool = False,
    dynamodb_endpoint: str | None = None,
) -> LocalAws:
    """Start moto on a free loopback port and create the template's table and queues in it.

    Every queue gets `visibility_timeout_s` (the template's maxReceiveCount and DLQs are kept): the local stack's
    default outlasts any run, so redeliveries happen only when asked (stack.py); chaos and serve pass a short one
    so that redeliveries come by the clock. With `own_process`, moto runs in its own interpreter (the benchmarks: its
    work then neither competes for this process's GIL nor counts in its traced memory, as AWS would not). With
    `dynamodb_endpoint`, the table is made there instead of in moto.
    """
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request access log
    server: ThreadedMotoServer | MotoProcess
    if own_process:
        server = MotoProcess()
    else:
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
    host, port = server.get_host_and_port()
    endpoint, suffix = f"http://{host}:{port}", uuid.uuid4().hex[:8]
    local = LocalAws(endpoint=endpoint, suffix=suffix, dynamodb_endpoint=dynamodb_endpoint, _server=server)
    template = load_template(template_path)
    create_state_table(local.client("dynamodb"), local.table_name, template)
    _create_queues(local, _resources(template, "AWS::SQS::Queue"), visibility_timeout_s)
    local.client("ses").verify_email_identity(EmailAddress=local.notify_sender)  # as NotifySender is verified
    return local


def free_port() -> int:
    """A loopback port the OS says is free (the server started next binds it a moment later)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class MotoProcess:
    """`python -m moto.server` on a free loopback port, as a child process."""

    def __init__(self, start_timeout_s: float = 30.0) -> None:
        self._port = free_port()
        command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self._port)]
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
        deadline = time.monotonic() + start_timeout_s
        while not self._listening():
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"moto did not start on port {self._port}")
            time.sleep(0.1)

    def _listening(self) -> bool:
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", self._port)) == 0

    def get_host_and_port(self) -> tuple[str, int]:
        return "127.0.0.1", self._port

    def stop(self) -> None:
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def create_state_table(dynamodb: Any, table_name: str, template: dict[str, Any]) -> None:
    """Create the template's StateTable (keys, indexes, billing, TTL) under `table_name`."""
    props = _resources(template, "AWS::DynamoDB::Table")["StateTable"]
    dynamodb.create_table(
        TableName=table_name,
        AttributeDefinitions=props["AttributeDefinitions"],
        KeySchema=props["KeySchema"],
        GlobalSecondaryIndexes=props.get("GlobalSecondaryIndexes", []),
        BillingMode=props["BillingMode"],
    )
    dynamodb.update_time_to_live(TableName=table_name, TimeToLiveSpecification=props["TimeToLiveSpecification"])


def _create_queues(local: LocalAws, queues: dict[str, dict[str, Any]], visibility_timeout_s: int) -> None:
    sqs = local.client("sqs")
    arns: dict[str, str] = {}
    # Dead-letter queues first: the others point at them.
    for name in sorted(queues, key=lambda queue: "RedrivePolicy" in queues[queue]):
        attributes = {"VisibilityTimeout": str(visibility_timeout_s)}
        redrive = queues[name].get("RedrivePolicy")
        if redrive:
            target = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]
            attributes["RedrivePolicy"] = (
                f'{{"deadLetterTargetArn":"{arns[target]}","maxReceiveCount":"{redrive["maxReceiveCount"]}"}}'
            )
        url = sqs.create_queue(QueueName=f"{name}-{local.suffix}", Attributes=attributes)["QueueUrl"]
        local.queue_urls[name] = url
        arns[name] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
