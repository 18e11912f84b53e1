"""Infrastructure tests: assert on template.yaml after an offline SAM -> CloudFormation translation.

Each test names one property of the stack; a template regression that breaks it fails here.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .conftest import Contract

REPO_ROOT = Path(__file__).resolve().parents[2]

Resources = dict[str, dict[str, Any]]

WORK_QUEUES = {  # what the operator shows and redrives: queue -> its DLQ
    "OrderQueue": "OrderDLQ",
    "OrderPollQueue": "OrderPollDLQ",
    "ProductSyncQueue": "ProductSyncDLQ",
    "StockSyncQueue": "StockSyncDLQ",
    "TrackingSyncQueue": "TrackingSyncDLQ",
}
ORDER_FUNCTIONS = ("StoreWebhookFunction", "OrderImportFunction", "SchedulerFunction", "OrderPollFunction")
PRODUCT_FUNCTIONS = ("ProductSyncFunction",)
STOCK_TRACKING_FUNCTIONS = ("StockSyncFunction", "TrackingSyncFunction", "WarehouseWebhookFunction")
OPERATOR_FUNCTIONS = ("OperatorApiFunction",)
CONSOLE_FUNCTIONS = ("ConsoleFunction",)
NOTIFY_FUNCTIONS = ("NotifyFunction",)
FUNCTIONS = (
    ORDER_FUNCTIONS
    + PRODUCT_FUNCTIONS
    + STOCK_TRACKING_FUNCTIONS
    + OPERATOR_FUNCTIONS
    + CONSOLE_FUNCTIONS
    + NOTIFY_FUNCTIONS
)
SCHEDULED = {
    "SchedulerFunction": ("rate(1 minute)", "SchedulerDLQ"),
    "NotifyFunction": ("rate(5 minutes)", "NotifyDLQ"),
}
THROTTLES_ALARMS = ("FunctionThrottlesAlarm", "MoreFunctionThrottlesAlarm")
SECRETS_ARN = {
    "Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}"
    ":secret:ogosync/${AWS::StackName}/*"
}
STACK_NAMESPACE = {"Fn::Sub": "ogosync/${AWS::StackName}"}
TABLE_ARN = {"Fn::GetAtt": ["StateTable", "Arn"]}
TABLE_INDEXES_ARN = {"Fn::Sub": "${StateTable.Arn}/index/*"}
STATE_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
)
# The product flow needs no transactions, updates or index: the lock and cursor, bindings and refusals.
PRODUCT_STATE_ACTIONS = (  # UpdateItem: the product page's run record (queued -> running once, progress)
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
    "dynamodb:BatchWriteItem",
)
# Actions that support no resource-level permissions, so Resource "*" is the only possible scope.
NO_RESOURCE_LEVEL_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "cloudwatch:PutMetricData"}
FOURTEEN_DAYS = 14 * 24 * 3600
# The console deletes nothing and writes no batch: pause/resume, "do not send" and reads.
CONSOLE_STATE_ACTIONS = [
    action for action in STATE_ACTIONS if action not in ("dynamodb:DeleteItem", "dynamodb:BatchWriteItem")
]
DEAD_LETTER_ACTIONS = [
    "sqs:GetQueueUrl",
    "sqs:GetQueueAttributes",
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
]
OPERATOR_SECRET_ACTIONS = [
    "secretsmanager:DescribeSecret",
    "secretsmanager:CreateSecret",
    "secretsmanager:PutSecretValue",
    "secretsmanager:GetSecretValue",
    "secretsmanager:DeleteSecret",
    "secretsmanager:RestoreSecret",
]


# ---------------------------------------------------------------- helpers


def of_type(resources: Resources, type_: str) -> Resources:
    return {lid: r for lid, r in resources.items() if r["Type"] == type_}


def props(resource: dict[str, Any]) -> dict[str, Any]:
    return resource.get("Properties") or {}


def getatt(value: Any) -> tuple[str, str] | None:
    """{"Fn::GetAtt": ["X", "Arn"]} or {"Fn::GetAtt": "X.Arn"} -> ("X", "Arn")."""
    if isinstance(value, dict) and set(value) == {"Fn::GetAtt"}:
        target = value["Fn::GetAtt"]
        if isinstance(target, str):
            target = target.split(".", 1)
        return (target[0], target[1])
    return None


def ref(value: Any) -> str | None:
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return value["Ref"]  # type: ignore[no-any-return]
    return None


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def when_true(value: Any) -> Any:
    """A statement under Fn::If [condition, statement, AWS::NoValue], as deployed when the condition holds."""
    if isinstance(value, dict) and set(value) == {"Fn::If"}:
        return value["Fn::If"][1]
    return value


def statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        when_true(st)
        for policy in props(role).get("Policies", [])
        for st in as_list(policy["PolicyDocument"]["Statement"])
    ]


def all_policy_statements(resources: Resources) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    for lid, res in resources.items():
        if res["Type"] == "AWS::IAM::Role":
            found += [(lid, st) for st in statements(res)]
        elif res["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            found += [(lid, st) for st in as_list(props(res)["PolicyDocument"]["Statement"])]
    return found


def grants(role: dict[str, Any]) -> set[tuple[str, str]]:
    """Set of (action, resource as canonical JSON) the role allows, logs and X-Ray left out."""
    out: set[tuple[str, str]] = set()
    for st in statements(role):
        assert st["Effect"] == "Allow"
        for action in as_list(st["Action"]):
            if action.split(":")[0] in ("logs", "xray"):
                continue
            for resource in as_list(st["Resource"]):
                out.add((action, json.dumps(resource, sort_keys=True)))
    return out


def pairs(actions: tuple[str, ...] | list[str], *resources_: Any) -> set[tuple[str, str]]:
    return {(a, json.dumps(r, sort_keys=True)) for a in actions for r in resources_}


def role_of(resources: Resources, function_id: str) -> dict[str, Any]:
    role_ref = getatt(props(resources[function_id])["Role"])
    assert role_ref is not None, f"{function_id}: Role must be !GetAtt <role>.Arn"
    assert role_ref[1] == "Arn", f"{function_id}: Role must be !GetAtt <role>.Arn"
    return resources[role_ref[0]]


def env(resources: Resources, function_id: str) -> dict[str, Any]:
    variables: dict[str, Any] = props(resources[function_id]).get("Environment", {}).get("Variables", {})
    return variables


def dead_letter_targets(resources: Resources) -> set[str]:
    """Logical ids of queues used as a dead-letter queue anywhere (SQS redrive, Lambda DLQ, schedule DLQ)."""
    targets: set[str] = set()
    for res in resources.values():
        p = props(res)
        arns = []
        if res["Type"] == "AWS::SQS::Queue" and "RedrivePolicy" in p:
            arns.append(p["RedrivePolicy"]["deadLetterTargetArn"])
        if res["Type"] == "AWS::Lambda::Function" and "DeadLetterConfig" in p:
            arns.append(p["DeadLetterConfig"]["TargetArn"])
        if res["Type"] == "AWS::Scheduler::Schedule" and "DeadLetterConfig" in p["Target"]:
            arns.append(p["Target"]["DeadLetterConfig"]["Arn"])
        for arn in arns:
            target = getatt(arn)
            assert target is not None, f"dead-letter target is not !GetAtt <queue>.Arn: {arn}"
            assert target[1] == "Arn", f"dead-letter target is not !GetAtt <queue>.Arn: {arn}"
            targets.add(target[0])
    return targets


def queue_alarms(resources: Resources, queue_id: str, metric: str) -> list[dict[str, Any]]:
    found = []
    for alarm in of_type(resources, "AWS::CloudWatch::Alarm").values():
        p = props(alarm)
        dims = {d["Name"]: d["Value"] for d in p.get("Dimensions", [])}
        if (
            p.get("Namespace") == "AWS/SQS"
            and p.get("MetricName") == metric
            and getatt(dims.get("QueueName")) == (queue_id, "QueueName")
        ):
            found.append(p)
    return found


def arrival_alarms(resources: Resources, queue_id: str) -> list[dict[str, Any]]:
    """Alarms that fire on each message that ARRIVES in the queue: the minute-to-minute increase of its visible
    messages (an alarm on "visible > 0" stays in ALARM while one message sits there, and tells of no second one)."""
    found = []
    for alarm in of_type(resources, "AWS::CloudWatch::Alarm").values():
        p = props(alarm)
        queries = {query["Id"]: query for query in p.get("Metrics", [])}
        returned = [query for query in queries.values() if query.get("ReturnData", True)]
        if len(returned) != 1 or "Expression" not in returned[0]:
            continue
        match = re.fullmatch(r"DIFF\(FILL\((\w+), 0\)\)", returned[0]["Expression"])
        source = queries.get(match.group(1)) if match else None
        if source is None or "MetricStat" not in source:
            continue
        metric = source["MetricStat"]["Metric"]
        dims = {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}
        if (
            (metric["Namespace"], metric["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
            and getatt(dims.get("QueueName")) == (queue_id, "QueueName")
            and (source["MetricStat"]["Stat"], source["MetricStat"]["Period"]) == ("Maximum", 60)
            and (p["ComparisonOperator"], p["Threshold"]) == ("GreaterThanThreshold", 0)
            and p["EvaluationPeriods"] >= 2  # the previous minute is in the window DIFF looks at
            and p.get("DatapointsToAlarm") == 1
            and notifies_topic(p)
        ):
            found.append(p)
    return found


def notifies_topic(alarm_props: dict[str, Any]) -> bool:
    return {"Ref": "AlarmTopic"} in alarm_props.get("AlarmActions", [])


# ---------------------------------------------------------------- functions and layers


def test_functions_are_the_contracts_functions(sam: dict[str, Any], resources: Resources, contract: Contract) -> None:
    assert set(of_type(resources, "AWS::Lambda::Function")) == set(contract.folders) == set(FUNCTIONS)
    for lid, folder in contract.folders.items():
        assert sam["Resources"][lid]["Properties"]["CodeUri"] == folder
        assert props(resources[lid])["Handler"] == "app.lambda_handler"


@pytest.mark.parametrize("function_id", FUNCTIONS)
def test_function_runtime_architecture_tracing_layers(resources: Resources, function_id: str) -> None:
    p = props(resources[function_id])
    assert p["Runtime"] == "python3.13"
    assert p["Architectures"] == ["arm64"]
    assert p["TracingConfig"] == {"Mode": {"Fn::If": ["TracingActive", "Active", "PassThrough"]}}
    assert p["LoggingConfig"]["LogFormat"] == "JSON"
    layer_ids = [ref(layer) for layer in p["Layers"]]
    assert len(layer_ids) == 2, p["Layers"]
    for layer_id, name in zip(layer_ids, ("CommonLayer", "DependenciesLayer"), strict=True):
        assert layer_id is not None, p["Layers"]
        assert layer_id.startswith(name), p["Layers"]
        assert resources[layer_id]["Type"] == "AWS::Lambda::LayerVersion"


@pytest.mark.parametrize(
    ("function_id", "timeout", "memory"),
    [
        ("StoreWebhookFunction", 10, 256),
        ("OrderImportFunction", 60, 256),
        ("SchedulerFunction", 30, 256),
        ("OrderPollFunction", 300, 256),
        ("ProductSyncFunction", 900, 512),
        ("StockSyncFunction", 300, 512),
        ("TrackingSyncFunction", 300, 256),
        ("WarehouseWebhookFunction", 10, 256),
        ("OperatorApiFunction", 29, 512),
        ("ConsoleFunction", 29, 512),
        ("NotifyFunction", 120, 256),
    ],
)
def test_function_timeout_and_memory(resources: Resources, function_id: str, timeout: int, memory: int) -> None:
    assert props(resources[function_id])["Timeout"] == timeout
    assert props(resources[function_id])["MemorySize"] == memory


@pytest.mark.parametrize("function_id", FUNCTIONS)
def test_function_has_own_log_group_with_retention(resources: Resources, function_id: str) -> None:
    p = props(resources[function_id])
    log_group_id = ref(p["LoggingConfig"].get("LogGroup"))
    assert log_group_id is not None, "LoggingConfig.LogGroup must !Ref the function's LogGroup (created first)"
    log_group = resources[log_group_id]
    assert log_group["Type"] == "AWS::Logs::LogGroup"
    assert props(log_group)["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    function_name = p["FunctionName"]["Fn::Sub"]
    assert props(log_group)["LogGroupName"] == {"Fn::Sub": f"/aws/lambda/{function_name}"}
    # The role may write to its own log group only.
    log_statements = [st for st in statements(role_of(resources, function_id)) if "logs:" in json.dumps(st["Action"])]
    assert log_statements, "no logs permission"
    for st in log_statements:
        assert as_list(st["Resource"]) == [{"Fn::GetAtt": [log_group_id, "Arn"]}]


def test_layers(sam: dict[str, Any], resources: Resources) -> None:
    common = sam["Resources"]["CommonLayer"]
    deps = sam["Resources"]["DependenciesLayer"]
    assert common["Properties"]["ContentUri"] == "layers/common"
    assert "BuildMethod" not in (common.get("Metadata") or {}), "CommonLayer is zipped as it is"
    assert (REPO_ROOT / "layers/common/python/ogosync/__init__.py").is_file()
    assert deps["Properties"]["ContentUri"] == "layers/deps"
    assert deps["Metadata"] == {"BuildMethod": "python3.13", "BuildArchitecture": "arm64"}
    for layer in of_type(resources, "AWS::Lambda::LayerVersion").values():
        assert props(layer)["CompatibleRuntimes"] == ["python3.13"]
        assert props(layer)["CompatibleArchitectures"] == ["arm64"]


def test_dependencies_layer_requirements() -> None:
    lines = (REPO_ROOT / "layers/deps/requirements.txt").read_text(encoding="utf-8").splitlines()
    names = {re.split(r"[\[<>=~! ;]", ln.strip(), maxsplit=1)[0].lower() for ln in lines if ln.strip()[:1].isalnum()}
    assert names == {"aws-lambda-powertools", "pydantic", "httpx", "tzdata"}
    assert any(ln.startswith("aws-lambda-powertools[tracer]") for ln in lines)
    assert not names & {"boto3", "botocore", "awscrt"}, "the Lambda runtime provides the AWS SDK"


def test_handler_files_expose_lambda_handler(contract: Contract) -> None:
    """functions/<name>/app.py exists and defines (or imports) lambda_handler. Checked by AST: nothing is imported."""
    missing = []
    for lid, folder in contract.folders.items():
        app = REPO_ROOT / folder / "app.py"
        if not app.is_file():
            missing.append(f"{lid}: {app.relative_to(REPO_ROOT)} does not exist")
            continue
        tree = ast.parse(app.read_text(encoding="utf-8"), filename=str(app))
        names: set[str] = set()
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                names.add(node.name)
            elif isinstance(node, ast.Assign):
                names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names.add(node.target.id)
            elif isinstance(node, ast.ImportFrom):
                names |= {alias.asname or alias.name for alias in node.names}
        if "lambda_handler" not in names:
            missing.append(f"{lid}: {app.relative_to(REPO_ROOT)} has no top-level lambda_handler")
    assert not missing, missing


# ---------------------------------------------------------------- environment


def test_contract_env_vars_are_set_on_the_right_functions(resources: Resources, contract: Contract) -> None:
    for lid, names in contract.env.items():
        variables = env(resources, lid)
        assert names <= set(variables), f"{lid} lacks {sorted(names - set(variables))}"
        for name, value in contract.common_env.items():
            assert variables.get(name) == value, f"{lid}: {name}"


@pytest.mark.parametrize(
    ("function_id", "expected"),
    [
        (
            "StoreWebhookFunction",
            {
                "OGOSYNC_TABLE": {"Ref": "StateTable"},
                "ORDER_QUEUE_URL": {"Ref": "OrderQueue"},
                "ORDER_POLL_QUEUE_URL": {"Ref": "OrderPollQueue"},
                "WEBHOOK_REPLAY_WINDOW_SECONDS": {"Ref": "WebhookReplayWindowSeconds"},
            },
        ),
        ("OrderImportFunction", {"OGOSYNC_TABLE": {"Ref": "StateTable"}}),
        (
            "SchedulerFunction",
            {
                "OGOSYNC_TABLE": {"Ref": "StateTable"},
                "ORDER_POLL_QUEUE_URL": {"Ref": "OrderPollQueue"},
                "PRODUCT_SYNC_QUEUE_URL": {"Ref": "ProductSyncQueue"},
                "STOCK_SYNC_QUEUE_URL": {"Ref": "StockSyncQueue"},
                "TRACKING_SYNC_QUEUE_URL": {"Ref": "TrackingSyncQueue"},
            },
        ),
        (
            "OrderPollFunction",
            {
                "OGOSYNC_TABLE": {"Ref": "StateTable"},
                "ORDER_QUEUE_URL": {"Ref": "OrderQueue"},
                "ORDER_POLL_QUEUE_URL": {"Ref": "OrderPollQueue"},
            },
        ),
        ("ProductSyncFunction", {"OGOSYNC_TABLE": {"Ref": "StateTable"}}),
        ("StockSyncFunction", {"OGOSYNC_TABLE": {"Ref": "StateTable"}}),
        ("TrackingSyncFunction", {"OGOSYNC_TABLE": {"Ref": "StateTable"}}),
        (
            "WarehouseWebhookFunction",
            {"OGOSYNC_TABLE": {"Ref": "StateTable"}, "TRACKING_SYNC_QUEUE_URL": {"Ref": "TrackingSyncQueue"}},
        ),
        (
            "OperatorApiFunction",
            {
                "OGOSYNC_TABLE": {"Ref": "StateTable"},
                "ORDER_QUEUE_URL": {"Ref": "OrderQueue"},
                "ORDER_POLL_QUEUE_URL": {"Ref": "OrderPollQueue"},
                "PRODUCT_SYNC_QUEUE_URL": {"Ref": "ProductSyncQueue"},
                "STOCK_SYNC_QUEUE_URL": {"Ref": "StockSyncQueue"},
                "TRACKING_SYNC_QUEUE_URL": {"Ref": "TrackingSyncQueue"},
                "WEBHOOK_BASE_URL": {"Fn::Sub": "https://${WebhookApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"},
            },
        ),
        ("NotifyFunction", {"OGOSYNC_TABLE": {"Ref": "StateTable"}, "NOTIFY_SENDER": {"Ref": "NotifySender"}}),
    ],
)
def test_env_var_values(resources: Resources, function_id: str, expected: dict[str, Any]) -> None:
    variables = env(resources, function_id)
    powertools = {k: v for k, v in variables.items() if k.startswith("POWERTOOLS_")}
    assert {k: v for k, v in variables.items() if k not in powertools} == expected | {
        "INTEGRATION_SECRET_PREFIX": {"Fn::Sub": "ogosync/${AWS::StackName}/"},
        "MYOGO_SHARED_RATE_PER_S": {"Ref": "MyOgoSharedRatePerSecond"},
    }
    assert powertools == {
        "POWERTOOLS_SERVICE_NAME": "ogosync",
        "POWERTOOLS_METRICS_NAMESPACE": STACK_NAMESPACE,
        "POWERTOOLS_TRACE_DISABLED": {"Fn::If": ["TracingActive", "false", "true"]},
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }


# ---------------------------------------------------------------- queues, event sources, schedules


def test_sqs_event_sources_report_batch_item_failures(resources: Resources) -> None:
    mappings = of_type(resources, "AWS::Lambda::EventSourceMapping")
    assert len(mappings) == 5
    for lid, esm in mappings.items():
        assert "ReportBatchItemFailures" in props(esm).get("FunctionResponseTypes", []), lid


def test_event_source_settings(resources: Resources) -> None:
    by_function = {
        ref(props(m)["FunctionName"]): props(m) for m in of_type(resources, "AWS::Lambda::EventSourceMapping").values()
    }
    imp = by_function["OrderImportFunction"]
    assert getatt(imp["EventSourceArn"]) == ("OrderQueue", "Arn")
    assert imp["BatchSize"] == 10
    assert imp["MaximumBatchingWindowInSeconds"] == 1
    assert imp["ScalingConfig"] == {"MaximumConcurrency": 10}
    poll = by_function["OrderPollFunction"]
    assert getatt(poll["EventSourceArn"]) == ("OrderPollQueue", "Arn")
    assert poll["BatchSize"] == 1
    for function_id, queue_id in (
        ("ProductSyncFunction", "ProductSyncQueue"),
        ("StockSyncFunction", "StockSyncQueue"),
        ("TrackingSyncFunction", "TrackingSyncQueue"),
    ):
        worker = by_function[function_id]  # one integration (or one order hint) per invocation
        assert (getatt(worker["EventSourceArn"]), worker["BatchSize"]) == ((queue_id, "Arn"), 1)


def test_queue_visibility_timeout_is_six_times_consumer_timeout(resources: Resources) -> None:
    for esm in of_type(resources, "AWS::Lambda::EventSourceMapping").values():
        queue = getatt(props(esm)["EventSourceArn"])
        function_id = ref(props(esm)["FunctionName"])
        assert queue is not None
        assert function_id is not None
        timeout = props(resources[function_id])["Timeout"]
        assert props(resources[queue[0]])["VisibilityTimeout"] == 6 * timeout, queue[0]


def test_every_source_queue_redrives_to_an_alarmed_dlq(resources: Resources) -> None:
    queues = of_type(resources, "AWS::SQS::Queue")
    dlqs = dead_letter_targets(resources)
    assert {lid for lid in queues if lid.endswith("DLQ")} == dlqs, "every *DLQ queue is used as a DLQ, and only those"
    sources = set(queues) - dlqs
    assert sources == {"OrderQueue", "OrderPollQueue", "ProductSyncQueue", "StockSyncQueue", "TrackingSyncQueue"}
    max_receive = {
        "OrderQueue": 5,
        "OrderPollQueue": 3,
        "ProductSyncQueue": 3,
        "StockSyncQueue": 3,
        "TrackingSyncQueue": 3,
    }
    for lid in sources:
        redrive = props(queues[lid]).get("RedrivePolicy")
        assert redrive, f"{lid} has no RedrivePolicy"
        assert redrive["maxReceiveCount"] == max_receive[lid]
        target = getatt(redrive["deadLetterTargetArn"])
        assert target is not None
        assert target[0] in queues
    for dlq in dlqs:
        assert arrival_alarms(resources, dlq), f"no alarm on new arrivals in {dlq}"


def test_queues_encrypted_and_dlqs_keep_messages_14_days(resources: Resources) -> None:
    dlqs = dead_letter_targets(resources)
    for lid, queue in of_type(resources, "AWS::SQS::Queue").items():
        assert props(queue).get("SqsManagedSseEnabled") is True, lid
        if lid in dlqs:
            assert props(queue)["MessageRetentionPeriod"] == FOURTEEN_DAYS, lid


def schedule_of(resources: Resources, function_id: str) -> dict[str, Any]:
    (schedule,) = [
        s
        for s in of_type(resources, "AWS::Scheduler::Schedule").values()
        if getatt(props(s)["Target"]["Arn"]) == (function_id, "Arn")
    ]
    return schedule


def test_schedules_have_dead_letter_config_and_retry_policy(resources: Resources) -> None:
    schedules = of_type(resources, "AWS::Scheduler::Schedule")
    assert len(schedules) == len(SCHEDULED)
    for lid, schedule in schedules.items():
        target = props(schedule)["Target"]
        function_id, _ = getatt(target["Arn"]) or ("", "")
        dlq = SCHEDULED[function_id][1]
        assert getatt(target.get("DeadLetterConfig", {}).get("Arn")) == (dlq, "Arn"), lid
        assert target.get("RetryPolicy") == {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 120}, lid
        assert "Name" not in props(schedule), f"{lid}: a fixed schedule name clashes between stacks"
    for rule in of_type(resources, "AWS::Events::Rule").values():
        for target in props(rule).get("Targets", []):
            assert "DeadLetterConfig" in target
            assert "RetryPolicy" in target


@pytest.mark.parametrize("function_id", sorted(SCHEDULED))
def test_scheduled_function_schedule_and_async_dlq(resources: Resources, function_id: str) -> None:
    rate, dlq = SCHEDULED[function_id]
    assert props(schedule_of(resources, function_id))["ScheduleExpression"] == rate
    assert getatt(props(resources[function_id])["DeadLetterConfig"]["TargetArn"]) == (dlq, "Arn")
    assert ("sqs:SendMessage", json.dumps({"Fn::GetAtt": [dlq, "Arn"]})) in grants(role_of(resources, function_id)), (
        "Lambda sends failed async events with the function's role"
    )


# ---------------------------------------------------------------- table


def test_state_table(resources: Resources) -> None:
    table = resources["StateTable"]
    p = props(table)
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"
    assert p["BillingMode"] == "PAY_PER_REQUEST"
    assert p["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
    assert {a["AttributeName"]: a["AttributeType"] for a in p["AttributeDefinitions"]} == {
        "pk": "S",
        "sk": "S",
        "gsi1pk": "S",
        "gsi1sk": "S",
    }
    assert p["GlobalSecondaryIndexes"] == [
        {
            "IndexName": "gsi1",
            "KeySchema": [
                {"AttributeName": "gsi1pk", "KeyType": "HASH"},
                {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }
    ]
    assert p["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert p["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert p["SSESpecification"] == {"SSEEnabled": True}


# ---------------------------------------------------------------- IAM


def test_no_iam_statement_grants_wildcard_actions(resources: Resources) -> None:
    for lid, st in all_policy_statements(resources):
        for action in as_list(st.get("Action", [])):
            assert "*" not in action, f"{lid}: {action}"
        assert "NotAction" not in st, lid
        assert "NotResource" not in st, lid


def test_resource_star_only_for_actions_without_resource_level_permissions(resources: Resources) -> None:
    for lid, st in all_policy_statements(resources):
        if "*" in as_list(st["Resource"]):
            assert set(as_list(st["Action"])) <= NO_RESOURCE_LEVEL_ACTIONS, f"{lid}: {st}"


def test_roles_use_no_managed_policies(resources: Resources) -> None:
    """AWS managed policies (AWSLambdaBasicExecutionRole, AWSXrayWriteOnlyAccess, ...) grant Resource "*"."""
    for lid, role in of_type(resources, "AWS::IAM::Role").items():
        assert not props(role).get("ManagedPolicyArns"), lid
    assert not of_type(resources, "AWS::IAM::ManagedPolicy")


NOTIFY_SENDER_IDENTITIES = (
    {"Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${NotifySender}"},
    {
        "Fn::Sub": [
            "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${Domain}",
            {"Domain": {"Fn::Select": [1, {"Fn::Split": ["@", {"Ref": "NotifySender"}]}]}},
        ]
    },
)


@pytest.mark.parametrize(
    ("function_id", "expected"),
    [
        (
            "StoreWebhookFunction",
            pairs(["dynamodb:GetItem", "dynamodb:UpdateItem"], TABLE_ARN)  # UpdateItem: the fair share's count
            | pairs(["sqs:SendMessage"], {"Fn::GetAtt": ["OrderQueue", "Arn"]})
            | pairs(["sqs:SendMessage"], {"Fn::GetAtt": ["OrderPollQueue", "Arn"]})
            | pairs(["secretsmanager:GetSecretValue"], SECRETS_ARN),
        ),
        (
            "OrderImportFunction",
            pairs(STATE_ACTIONS, TABLE_ARN, TABLE_INDEXES_ARN)
            | pairs(
                ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                {"Fn::GetAtt": ["OrderQueue", "Arn"]},
            )
            | pairs(["secretsmanager:GetSecretValue"], SECRETS_ARN),
        ),
        (
            "SchedulerFunction",
            pairs(["dynamodb:Scan"], {"Fn::Sub": "${StateTable.Arn}/index/gsi1"})
            | pairs(["dynamodb:BatchGetItem"], TABLE_ARN)  # the cursors of the overdue sweep
            | pairs(["sqs:SendMessage"], {"Fn::GetAtt": ["OrderPollQueue", "Arn"]})
            | pairs(["sqs:SendMessage"], {"Fn::GetAtt": ["ProductSyncQueue", "Arn"]})
            | pairs(["sqs:SendMessage"], {"Fn::GetAtt": ["StockSyncQueue", "Arn"]})
            | pairs(["sqs:SendMessage"], {"Fn::GetAtt": ["TrackingSyncQueue", "Arn"]})
            | pairs(["sqs:SendMessage"], {"Fn::GetAtt": ["SchedulerDLQ", "Arn"]}),
        ),
        (
            "OrderPollFunction",
            pairs(STATE_ACTIONS, TABLE_ARN, TABLE_INDEXES_ARN)
            | pairs(
                ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                {"Fn::GetAtt": ["OrderPollQueue", "Arn"]},
            )
            | pairs(["sqs:SendMessage"], {"Fn::GetAtt": ["OrderQueue", "Arn"]})
            | pairs(["sqs:SendMessage"], {"Fn::GetAtt": ["OrderPollQueue", "Arn"]})
            | pairs(["secretsmanager:GetSecretValue"], SECRETS_ARN),
        ),
        (
            "ProductSyncFunction",
            pairs(PRODUCT_STATE_ACTIONS, TABLE_ARN)
            | pairs(
                ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                {"Fn::GetAtt": ["ProductSyncQueue", "Arn"]},
            )
            | pairs(["secretsmanager:GetSecretValue"], SECRETS_ARN),
        ),
        (
            "StockSyncFunction",
            pairs(
                [
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",  # the rate buckets only: test_stock_sync_updates_only_rate_buckets
                    "dynamodb:DeleteItem",
                    "dynamodb:Query",
                    "dynamodb:BatchGetItem",
                    "dynamodb:BatchWriteItem",
                ],
                TABLE_ARN,
            )
            | pairs(
                ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                {"Fn::GetAtt": ["StockSyncQueue", "Arn"]},
            )
            | pairs(["secretsmanager:GetSecretValue"], SECRETS_ARN),
        ),
        (
            "TrackingSyncFunction",
            pairs(
                [
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:DeleteItem",
                    "dynamodb:Query",  # the shipments waiting for the store (WAITSTORE#)
                    "dynamodb:BatchGetItem",
                ],
                TABLE_ARN,
            )
            | pairs(
                ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                {"Fn::GetAtt": ["TrackingSyncQueue", "Arn"]},
            )
            | pairs(["secretsmanager:GetSecretValue"], SECRETS_ARN),
        ),
        (
            "WarehouseWebhookFunction",
            pairs(["dynamodb:GetItem"], TABLE_ARN)
            | pairs(["sqs:SendMessage"], {"Fn::GetAtt": ["TrackingSyncQueue", "Arn"]})
            | pairs(["secretsmanager:GetSecretValue"], SECRETS_ARN),
        ),
        (
            "OperatorApiFunction",
            pairs(STATE_ACTIONS, TABLE_ARN, TABLE_INDEXES_ARN)
            | pairs(OPERATOR_SECRET_ACTIONS, SECRETS_ARN)
            | pairs(
                ["sqs:SendMessage", "sqs:GetQueueAttributes"],
                *({"Fn::GetAtt": [queue, "Arn"]} for queue in WORK_QUEUES),
            )
            | pairs(
                DEAD_LETTER_ACTIONS,
                *({"Fn::GetAtt": [dlq, "Arn"]} for dlq in WORK_QUEUES.values()),
            ),
        ),
        (
            "ConsoleFunction",
            pairs(CONSOLE_STATE_ACTIONS, TABLE_ARN, TABLE_INDEXES_ARN)
            | pairs(["secretsmanager:GetSecretValue"], SECRETS_ARN, {"Ref": "ConsoleSessionKey"})
            | pairs(["cognito-idp:AdminUserGlobalSignOut"], {"Fn::GetAtt": ["ConsoleUserPool", "Arn"]})
            | pairs(
                ["sqs:SendMessage", "sqs:GetQueueAttributes"],
                *({"Fn::GetAtt": [queue, "Arn"]} for queue in WORK_QUEUES),
            )
            | pairs(
                DEAD_LETTER_ACTIONS,
                *({"Fn::GetAtt": [dlq, "Arn"]} for dlq in WORK_QUEUES.values()),
            ),
        ),
        (
            "NotifyFunction",
            pairs(["dynamodb:Query"], {"Fn::Sub": "${StateTable.Arn}/index/gsi1"})
            | pairs(["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:BatchGetItem"], TABLE_ARN)
            | pairs(["secretsmanager:GetSecretValue"], SECRETS_ARN)
            | pairs(["sqs:SendMessage"], {"Fn::GetAtt": ["NotifyDLQ", "Arn"]})
            | pairs(["ses:SendEmail"], *NOTIFY_SENDER_IDENTITIES),
        ),
    ],
)
def test_function_role_grants_exactly(resources: Resources, function_id: str, expected: set[tuple[str, str]]) -> None:
    role = role_of(resources, function_id)
    assert props(role)["AssumeRolePolicyDocument"]["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]
    assert grants(role) == expected
    xray = [st for st in statements(role) if any(a.startswith("xray:") for a in as_list(st["Action"]))]
    assert xray, "Tracing is Active: the role needs xray:PutTraceSegments"


def test_stock_sync_updates_only_rate_buckets(resources: Resources) -> None:
    """The stock flow updates no item of its own: UpdateItem is there for the shared rate buckets (LIMIT#...)."""
    updates = [
        st for st in statements(role_of(resources, "StockSyncFunction")) if "dynamodb:UpdateItem" in st["Action"]
    ]
    assert updates == [
        {
            "Sid": "RateBuckets",
            "Effect": "Allow",
            "Action": "dynamodb:UpdateItem",
            "Resource": TABLE_ARN,
            "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["LIMIT#*"]}},
        }
    ]


def test_the_deployments_myogo_rate_is_a_stack_parameter(cfn: dict[str, Any]) -> None:
    """Every function reads it as MYOGO_SHARED_RATE_PER_S (test_env_var_values)."""
    rate = cfn["Parameters"]["MyOgoSharedRatePerSecond"]
    assert (rate["Type"], rate["Default"], rate["MinValue"]) == ("Number", 100, 1)


def test_secrets_are_scoped_to_the_ogosync_prefix(resources: Resources) -> None:
    """Only the operator API writes secrets; every other function may only read them."""
    secret_statements = [
        (lid, st)
        for lid, st in all_policy_statements(resources)
        if any(a.startswith("secretsmanager:") for a in as_list(st["Action"]))
    ]
    assert secret_statements
    for lid, st in secret_statements:
        allowed = OPERATOR_SECRET_ACTIONS if lid == "OperatorApiRole" else ["secretsmanager:GetSecretValue"]
        assert as_list(st["Action"]) == allowed, lid
        if lid == "ConsoleRole" and st.get("Sid") == "SessionKey":
            assert as_list(st["Resource"]) == [{"Ref": "ConsoleSessionKey"}]
        else:
            assert as_list(st["Resource"]) == [SECRETS_ARN]


@pytest.mark.parametrize("function_id", sorted(SCHEDULED))
def test_a_schedule_role_may_only_invoke_its_function(resources: Resources, function_id: str) -> None:
    role_id = getatt(props(schedule_of(resources, function_id))["Target"]["RoleArn"])
    assert role_id is not None
    assert grants(resources[role_id[0]]) == pairs(
        ["lambda:InvokeFunction"], {"Fn::GetAtt": [function_id, "Arn"]}
    ) | pairs(["sqs:SendMessage"], {"Fn::GetAtt": [SCHEDULED[function_id][1], "Arn"]})


# ---------------------------------------------------------------- HTTP API


WEBHOOK_ROUTES = {
    "StoreWebhookFunction": "/webhooks/{platform}/{integrationId}",
    "WarehouseWebhookFunction": "/webhooks/myogo/{integrationId}",
}


def test_webhook_route(resources: Resources, contract: Contract) -> None:
    assert set(of_type(resources, "AWS::ApiGatewayV2::Api")) == {"WebhookApi", "OperatorApi", "ConsoleApi"}
    api_id = "WebhookApi"
    paths = props(resources[api_id])["Body"]["paths"]
    assert set(paths) == set(WEBHOOK_ROUTES.values())
    for function_id, path in WEBHOOK_ROUTES.items():
        match = re.search(r"`POST (\S+)`", contract.triggers[function_id])
        assert match, contract.triggers[function_id]
        assert match.group(1) == path
        operation = paths[path]["post"]
        integration = operation["x-amazon-apigateway-integration"]
        assert f"${{{function_id}.Arn}}" in integration["uri"]["Fn::Sub"]
        assert integration["payloadFormatVersion"] == "2.0"
        assert "security" not in operation, "the signature is verified in code; no authorizer"


@pytest.mark.parametrize(
    ("api_id", "burst", "rate"), [("WebhookApi", 200, 100), ("OperatorApi", 20, 10), ("ConsoleApi", 20, 10)]
)
def test_api_stage_throttling_and_access_logs(resources: Resources, api_id: str, burst: int, rate: int) -> None:
    (stage,) = [
        st for st in of_type(resources, "AWS::ApiGatewayV2::Stage").values() if ref(props(st)["ApiId"]) == api_id
    ]
    p = props(stage)
    assert p["DefaultRouteSettings"]["ThrottlingBurstLimit"] == burst
    assert p["DefaultRouteSettings"]["ThrottlingRateLimit"] == rate
    log_group = getatt(p["AccessLogSettings"]["DestinationArn"])
    assert log_group is not None
    assert props(resources[log_group[0]])["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    json.loads(p["AccessLogSettings"]["Format"])  # a JSON access-log line


def test_webhook_permission_is_scoped_to_the_api(resources: Resources) -> None:
    for lid, perm in of_type(resources, "AWS::Lambda::Permission").items():
        assert props(perm)["Principal"] == "apigateway.amazonaws.com", lid
        assert "SourceArn" in props(perm), lid


# ---------------------------------------------------------------- alarms, parameters, outputs


def test_alarms(resources: Resources) -> None:
    alarms = of_type(resources, "AWS::CloudWatch::Alarm")
    for lid, alarm in alarms.items():
        assert props(alarm)["TreatMissingData"] == "notBreaching", lid
        assert notifies_topic(props(alarm)), lid
    error_alarms = {}
    for alarm in alarms.values():
        p = props(alarm)
        if p.get("Namespace") == "AWS/Lambda" and p.get("MetricName") == "Errors":
            (dim,) = p["Dimensions"]
            error_alarms[ref(dim["Value"])] = p
    assert set(error_alarms) == set(FUNCTIONS)
    for p in error_alarms.values():
        assert (p["Statistic"], p["Period"], p["Threshold"], p["ComparisonOperator"]) == (
            "Sum",
            300,
            0,
            "GreaterThanThreshold",
        )
    (age,) = queue_alarms(resources, "OrderQueue", "ApproximateAgeOfOldestMessage")
    assert (age["Threshold"], age["ComparisonOperator"]) == (900, "GreaterThanThreshold")
    api_5xx = [
        props(a)
        for a in alarms.values()
        if props(a).get("Namespace") == "AWS/ApiGateway" and props(a).get("MetricName") == "5xx"
    ]
    assert sorted(ref(dim["Value"]) or "" for alarm in api_5xx for dim in alarm["Dimensions"]) == [
        "ConsoleApi",
        "OperatorApi",
        "WebhookApi",
    ]


def test_a_refused_shipment_raises_an_alarm(resources: Resources) -> None:
    alarm = props(resources["ShipmentRefusedAlarm"])
    source = (REPO_ROOT / "functions/tracking_sync/app.py").read_text(encoding="utf-8")
    assert (alarm["Namespace"], alarm["MetricName"]) == (STACK_NAMESPACE, "ShipmentsRefused")
    assert 'REFUSED_METRIC = "ShipmentsRefused"' in source, "the metric the tracking worker emits"
    assert alarm["Dimensions"] == [{"Name": "service", "Value": "ogosync"}]  # Powertools' default dimension
    assert (alarm["Statistic"], alarm["Threshold"], alarm["ComparisonOperator"]) == ("Sum", 0, "GreaterThanThreshold")
    assert notifies_topic(alarm)


@pytest.mark.parametrize(
    ("alarm_id", "metric", "function", "constant", "statistic"),
    [
        ("OrderNeedsPersonAlarm", "OrdersNeedingPerson", "order_poll", "NEEDS_PERSON_METRIC", "Sum"),
        (
            "ShipmentWaitingForStoreAlarm",
            "ShipmentsWaitingOverdue",
            "tracking_sync",
            "WAITING_OVERDUE_METRIC",
            "Maximum",
        ),
    ],
)
def test_orders_needing_a_person_and_shipments_waiting_too_long_raise_alarms(
    resources: Resources, alarm_id: str, metric: str, function: str, constant: str, statistic: str
) -> None:
    """Issue 10 items 9 and 10: a cancel/edit too late for myOGO, and a shipment the store refused for 48 h."""
    alarm = props(resources[alarm_id])
    source = (REPO_ROOT / f"functions/{function}/app.py").read_text(encoding="utf-8")
    assert (alarm["Namespace"], alarm["MetricName"]) == (STACK_NAMESPACE, metric)
    assert f'{constant} = "{metric}"' in source, "the metric the worker emits"
    assert alarm["Dimensions"] == [{"Name": "service", "Value": "ogosync"}]
    assert (alarm["Statistic"], alarm["Threshold"], alarm["ComparisonOperator"]) == (
        statistic,
        0,
        "GreaterThanThreshold",
    )
    assert notifies_topic(alarm)


@pytest.mark.parametrize(
    ("alarm_id", "metric", "sources"),
    [
        (
            "UnreadableStoreOrdersAlarm",
            "UnreadableStoreOrders",
            ["functions/order_poll/app.py", "functions/order_import/app.py"],
        ),
        (
            "UnreadableWarehouseRecordsAlarm",
            "UnreadableWarehouseRecords",
            ["functions/tracking_sync/app.py", "functions/stock_sync/app.py"],
        ),
    ],
)
def test_unreadable_records_raise_an_alarm(
    resources: Resources, alarm_id: str, metric: str, sources: list[str]
) -> None:
    alarm = props(resources[alarm_id])
    assert (alarm["Namespace"], alarm["MetricName"]) == (STACK_NAMESPACE, metric)
    for source in sources:
        assert f'UNREADABLE_METRIC = "{metric}"' in (REPO_ROOT / source).read_text(encoding="utf-8"), source
    assert alarm["Dimensions"] == [{"Name": "service", "Value": "ogosync"}]  # Powertools' default dimension
    assert (alarm["Statistic"], alarm["Threshold"], alarm["ComparisonOperator"]) == ("Sum", 0, "GreaterThanThreshold")
    assert notifies_topic(alarm)


def test_an_overdue_flow_raises_an_alarm_on_the_metric_the_scheduler_emits(resources: Resources) -> None:
    alarm = props(resources["FlowsOverdueAlarm"])
    source = (REPO_ROOT / "functions/scheduler/app.py").read_text(encoding="utf-8")
    assert (alarm["Namespace"], alarm["MetricName"]) == (STACK_NAMESPACE, "FlowsOverdue")
    assert 'OVERDUE_METRIC = "FlowsOverdue"' in source, "the metric the scheduler emits"
    assert alarm["Dimensions"] == [{"Name": "service", "Value": "ogosync"}]  # Powertools' default dimension
    # The sweep checks each integration once in 10 minutes: the Sum over 600 s counts each overdue flow once.
    assert (alarm["Statistic"], alarm["Period"], alarm["EvaluationPeriods"]) == ("Sum", 600, 1)
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")
    assert notifies_topic(alarm)


def test_throttling_of_any_function_of_the_stack_raises_an_alarm(resources: Resources) -> None:
    throttled = []
    for alarm_id in THROTTLES_ALARMS:
        alarm = props(resources[alarm_id])
        queries = alarm["Metrics"]
        metrics = [q["MetricStat"] for q in queries if "MetricStat" in q]
        assert all(not q["ReturnData"] for q in queries if "MetricStat" in q)
        assert {(m["Metric"]["Namespace"], m["Metric"]["MetricName"], m["Stat"]) for m in metrics} == {
            ("AWS/Lambda", "Throttles", "Sum")
        }
        throttled += [ref(d["Value"]) or "" for m in metrics for d in m["Metric"]["Dimensions"]]
        assert len(metrics) <= 10  # the most metrics one alarm may take
        (total,) = [q for q in queries if q.get("ReturnData", True)]
        assert total["Expression"] == "SUM(METRICS())"
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")
        assert notifies_topic(alarm)
    assert sorted(throttled) == sorted(of_type(resources, "AWS::Lambda::Function"))  # each function, once


def test_notices_are_sent_by_ses_only_from_the_configured_sender(cfn: dict[str, Any], resources: Resources) -> None:
    (ses,) = [st for st in statements(role_of(resources, "NotifyFunction")) if st["Action"] == "ses:SendEmail"]
    assert ses["Condition"] == {"StringEquals": {"ses:FromAddress": {"Ref": "NotifySender"}}}
    (conditional,) = [
        st
        for policy in props(role_of(resources, "NotifyFunction"))["Policies"]
        for st in policy["PolicyDocument"]["Statement"]
        if "Fn::If" in st
    ]
    assert conditional["Fn::If"][0] == "HasNotifySender" and conditional["Fn::If"][2] == {"Ref": "AWS::NoValue"}
    assert cfn["Conditions"]["HasNotifySender"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "NotifySender"}, ""]}]}


def test_undelivered_notices_raise_an_alarm_on_the_metric_the_notify_function_emits(resources: Resources) -> None:
    alarm = props(resources["NoticesNotDeliveredAlarm"])
    source = (REPO_ROOT / "functions/notify/app.py").read_text(encoding="utf-8")
    assert (alarm["Namespace"], alarm["MetricName"]) == (STACK_NAMESPACE, "NoticesNotDelivered")
    assert 'NOT_DELIVERED_METRIC = "NoticesNotDelivered"' in source, "the metric the notify function emits"
    assert alarm["Dimensions"] == [{"Name": "service", "Value": "ogosync"}]
    assert (alarm["Statistic"], alarm["Threshold"], alarm["ComparisonOperator"]) == ("Sum", 0, "GreaterThanThreshold")
    assert notifies_topic(alarm)


def test_metric_namespace_and_secret_prefix_come_from_the_stack(resources: Resources) -> None:
    """Two stacks in one account share neither metrics (nor alarms on them) nor secrets."""
    for function_id in of_type(resources, "AWS::Lambda::Function"):
        variables = env(resources, function_id)
        assert variables["POWERTOOLS_METRICS_NAMESPACE"] == STACK_NAMESPACE, function_id
        assert variables["INTEGRATION_SECRET_PREFIX"] == {"Fn::Sub": "ogosync/${AWS::StackName}/"}, function_id
    for lid, alarm in of_type(resources, "AWS::CloudWatch::Alarm").items():
        namespaces = [props(alarm).get("Namespace")] + [
            q["MetricStat"]["Metric"]["Namespace"] for q in props(alarm).get("Metrics", []) if "MetricStat" in q
        ]
        assert all(ns is None or ns == STACK_NAMESPACE or ns.startswith("AWS/") for ns in namespaces), lid
    for lid, st in all_policy_statements(resources):
        if any(a.startswith("secretsmanager:") for a in as_list(st["Action"])):
            console_key = lid == "ConsoleRole" and st.get("Sid") == "SessionKey"  # its own secret, by reference
            assert as_list(st["Resource"]) == ([{"Ref": "ConsoleSessionKey"}] if console_key else [SECRETS_ARN]), lid


def test_alarm_email_subscription_is_conditional(cfn: dict[str, Any], resources: Resources) -> None:
    (sub_id,) = of_type(resources, "AWS::SNS::Subscription")
    sub = resources[sub_id]
    assert sub["Condition"] == "HasAlarmEmail"
    assert props(sub)["Endpoint"] == {"Ref": "AlarmEmail"}
    assert props(sub)["TopicArn"] == {"Ref": "AlarmTopic"}
    assert cfn["Conditions"]["HasAlarmEmail"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}


def test_parameters(cfn: dict[str, Any]) -> None:
    params = cfn["Parameters"]
    assert params["LogRetentionDays"]["Default"] == 30
    assert params["AlarmEmail"]["Default"] == ""
    assert params["WebhookReplayWindowSeconds"]["Default"] == 300
    assert params["NotifySender"]["Default"] == ""  # no e-mail: notices go to webhooks only
    assert (params["XRayTracing"]["Default"], params["XRayTracing"]["AllowedValues"]) == (
        "Active",
        ["Active", "PassThrough"],
    )


def test_outputs(cfn: dict[str, Any]) -> None:
    outputs = {name: out["Value"] for name, out in cfn["Outputs"].items()}
    assert outputs == {
        "WebhookBaseUrl": {"Fn::Sub": "https://${WebhookApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"},
        "StateTableName": {"Ref": "StateTable"},
        "OrderQueueUrl": {"Ref": "OrderQueue"},
        "OrderDLQUrl": {"Ref": "OrderDLQ"},
        "OrderPollQueueUrl": {"Ref": "OrderPollQueue"},
        "AlarmTopicArn": {"Ref": "AlarmTopic"},
        "OperatorApiUrl": {"Fn::Sub": "https://${OperatorApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"},
        "ConsoleUrl": {"Fn::Sub": "https://${ConsoleApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"},
        "ConsoleUserPoolId": {"Ref": "ConsoleUserPool"},
    }


# ---------------------------------------------------------------- operator API


def test_operator_api_routes_everything_to_its_function_behind_iam(resources: Resources, contract: Contract) -> None:
    assert "AWS_IAM" in contract.triggers["OperatorApiFunction"]
    body = props(resources["OperatorApi"])["Body"]
    assert set(body["paths"]) == {"/{proxy+}"}
    (operation,) = body["paths"]["/{proxy+}"].values()
    assert "${OperatorApiFunction.Arn}" in operation["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
    assert operation["x-amazon-apigateway-integration"]["payloadFormatVersion"] == "2.0"
    assert operation["security"] == [{"AWS_IAM": []}], "every route is IAM-authorised"
    scheme = body["components"]["securitySchemes"]["AWS_IAM"]
    assert scheme["x-amazon-apigateway-authtype"] == "awsSigv4"


# ---------------------------------------------------------------- web console


def test_console_has_its_own_api_and_function_without_an_authoriser(resources: Resources) -> None:
    body = props(resources["ConsoleApi"])["Body"]
    assert set(body["paths"]) == {"/{proxy+}", "/"}
    for operations in body["paths"].values():
        for operation in operations.values():
            integration = operation["x-amazon-apigateway-integration"]
            assert "${ConsoleFunction.Arn}" in integration["uri"]["Fn::Sub"]
            assert integration["payloadFormatVersion"] == "2.0"
            assert "security" not in operation, "the console checks its own signed session"
    assert env(resources, "ConsoleFunction")["CONSOLE_USER_POOL_CLIENT_ID"] == {"Ref": "ConsoleUserPoolClient"}
    assert env(resources, "ConsoleFunction")["CONSOLE_SESSION_KEY_SECRET"] == {"Ref": "ConsoleSessionKey"}
    assert env(resources, "ConsoleFunction")["CONSOLE_USER_POOL_ID"] == {"Ref": "ConsoleUserPool"}


def test_console_users_are_invited_and_sign_in_with_a_password_to_a_client_without_secret(resources: Resources) -> None:
    pool = props(resources["ConsoleUserPool"])
    client = props(resources["ConsoleUserPoolClient"])
    group = props(resources["ConsoleOperatorsGroup"])
    assert pool["AdminCreateUserConfig"] == {"AllowAdminCreateUserOnly": True}
    assert {"Name": "merchant", "AttributeDataType": "String", "Mutable": True} in pool["Schema"]
    assert client["GenerateSecret"] is False
    assert "ALLOW_USER_PASSWORD_AUTH" in client["ExplicitAuthFlows"]
    assert (group["GroupName"], ref(group["UserPoolId"])) == ("operators", "ConsoleUserPool")
    secret = props(resources["ConsoleSessionKey"])
    assert secret["GenerateSecretString"]["PasswordLength"] >= 32
