"""The cost model of issue 14: what a month of ogosync costs, computed from counted calls and the AWS prices below.

Every price is a named constant with its source: the AWS public pricing page of the service, on-demand list prices
in US East (N. Virginia), us-east-1, as published in 2025 (DynamoDB's on-demand prices after the reduction of
1 November 2024). Uncertain: ogosync is deployed in eu-north-1, whose list prices are within a few percent of these
for these services; free tiers are left out (they are per account, not per merchant); prices change, so the tables
in docs/benchmarks.md give the counts beside the dollars, to be re-priced.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import astuple, dataclass
from typing import Protocol

# https://aws.amazon.com/lambda/pricing/ (arm64, as template.yaml deploys every function)
LAMBDA_GB_SECOND = 0.0000133334
LAMBDA_REQUEST = 0.20 / 1e6
# https://aws.amazon.com/dynamodb/pricing/on-demand/
DYNAMODB_READ_UNIT = 0.125 / 1e6
DYNAMODB_WRITE_UNIT = 0.625 / 1e6
DYNAMODB_GB_MONTH = 0.25
# https://aws.amazon.com/sqs/pricing/ (standard queues; a request of up to 64 KB)
SQS_REQUEST = 0.40 / 1e6
# https://aws.amazon.com/eventbridge/pricing/ (EventBridge Scheduler invocations)
SCHEDULER_INVOCATION = 1.00 / 1e6
# https://aws.amazon.com/secrets-manager/pricing/
SECRET_MONTH = 0.40
SECRETS_API_CALL = 0.05 / 10_000
# https://aws.amazon.com/cloudwatch/pricing/ (logs ingested and stored; custom metrics; standard alarms)
LOG_INGESTED_GB = 0.50
LOG_STORED_GB_MONTH = 0.03
CUSTOM_METRIC_MONTH = 0.30
ALARM_MONTH = 0.10
# https://aws.amazon.com/api-gateway/pricing/ (HTTP APIs)
HTTP_API_REQUEST = 1.00 / 1e6

MINUTES_A_MONTH = 30 * 24 * 60
PRICE_NOTE = (
    "Prices: AWS on-demand list prices, us-east-1, 2025 (ogosync_local.cost, each with its pricing page); "
    "free tiers left out."
)
SCHEDULER_MB = 256  # template.yaml SchedulerFunction (the Globals' MemorySize)


class TickCounts(Protocol):
    """What one fleet's measured ticks counted (bench_fleet.TickFigures)."""

    seconds: list[float]
    read_units: float
    ticks: int

    @property
    def sqs_sends(self) -> float: ...


def tick_month(figures: TickCounts, scale: float = 1.0) -> dict[str, float]:
    """USD a month of the scheduler's minute tick, from the mean of the measured ticks; `scale` extrapolates the
    fleet (linear in everything but the one invocation a minute)."""
    ticks = max(1, figures.ticks)
    seconds = sum(figures.seconds) / ticks * scale
    return {
        "DynamoDB": figures.read_units / ticks * scale * DYNAMODB_READ_UNIT * MINUTES_A_MONTH,
        "SQS": figures.sqs_sends / ticks * scale * SQS_REQUEST * MINUTES_A_MONTH,
        "Lambda": (seconds * SCHEDULER_MB / 1024 * LAMBDA_GB_SECOND + LAMBDA_REQUEST) * MINUTES_A_MONTH,
        "EventBridge": SCHEDULER_INVOCATION * MINUTES_A_MONTH,
    }


def total(usd: Mapping[str, float]) -> float:
    return sum(usd.values())


# ---- an integration-month ------------------------------------------------------------------------------

LOG_BYTES_PER_INVOCATION = 1200  # assumed: Lambda's START/END/REPORT lines (~400 B) and ogosync's own lines
SECRET_READS_PER_INVOCATION = 1.0  # assumed: in a fleet a container rarely meets the same integration within the
# 5-minute cache (ogosync/aws/secrets.py), so each invocation that needs credentials reads them
SECRET_CACHE_MINUTES = 5  # ogosync/aws/secrets.py: a busy merchant's orders meet a warm cache: at most one read
ORDER_FUNCTIONS = 2  # per 5 minutes in each of the webhook and the order worker (assumed: one container each)
BINDING_BYTES = 400  # an SKU binding or an order binding, about (docs/contracts.md)
ORDER_BINDINGS_KEPT_MONTHS = 3  # assumed: how long an order's binding stays in the table
ALARMS = 27  # template.yaml, AWS::CloudWatch::Alarm
CUSTOM_METRICS = 30  # metric names the functions publish (EMF, dimension "service" only: per deployment)
SQS_TRIGGERED_FUNCTIONS = 6  # each event source mapping long-polls its queue even when it is empty
ESM_REQUESTS_A_MINUTE = 15  # assumed: 5 pollers, one 20 s long poll each, per queue


@dataclass
class Usage:
    """Counted use of the AWS services, for one unit of work (a run, an order) or a month."""

    invocations: float = 0.0
    gb_seconds: float = 0.0
    read_units: float = 0.0
    write_units: float = 0.0
    sqs_requests: float = 0.0
    secret_reads: float = 0.0
    api_requests: float = 0.0

    def times(self, factor: float) -> Usage:
        return Usage(*(value * factor for value in astuple(self)))

    def plus(self, other: Usage) -> Usage:
        return Usage(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))


def usage_cost(usage: Usage) -> dict[str, float]:
    """USD by service of `usage`."""
    log_gb = usage.invocations * LOG_BYTES_PER_INVOCATION / 1e9
    return {
        "Lambda": usage.gb_seconds * LAMBDA_GB_SECOND + usage.invocations * LAMBDA_REQUEST,
        "DynamoDB": usage.read_units * DYNAMODB_READ_UNIT + usage.write_units * DYNAMODB_WRITE_UNIT,
        "SQS": usage.sqs_requests * SQS_REQUEST,
        "Secrets Manager": usage.secret_reads * SECRETS_API_CALL,
        "CloudWatch": log_gb * (LOG_INGESTED_GB + LOG_STORED_GB_MONTH),
        "API Gateway": usage.api_requests * HTTP_API_REQUEST,
    }


@dataclass(frozen=True)
class Merchant:
    """A merchant profile: orders a month, catalog size and each flow's scheduled runs a month."""

    name: str
    orders_a_month: float
    sizes: int
    runs_a_month: Mapping[str, float]  # flow -> scheduled runs a month


def runs_a_month(interval_minutes: Mapping[str, int]) -> dict[str, float]:
    return {flow: MINUTES_A_MONTH / minutes if minutes else 0.0 for flow, minutes in interval_minutes.items()}


@dataclass(frozen=True)
class Measured:
    """What the local stack counted: a scheduled run of each flow with nothing to do (at `sizes` sizes), and one
    order through webhook, worker and its share of the poll."""

    sizes: int
    quiet_run: Mapping[str, Usage]
    per_order: Usage
    catalog_flows: frozenset[str]  # flows whose quiet run reads the whole catalog (grows with sizes)


def merchant_month(merchant: Merchant, measured: Measured) -> dict[str, float]:
    """USD of one integration-month by service, with the integration's secret and its storage."""
    usage = measured.per_order.times(merchant.orders_a_month)
    usage.secret_reads = min(usage.secret_reads, ORDER_FUNCTIONS * MINUTES_A_MONTH / SECRET_CACHE_MINUTES)
    for flow, runs in merchant.runs_a_month.items():
        per_run = measured.quiet_run[flow]
        if flow in measured.catalog_flows:
            per_run = per_run.times(max(1.0, merchant.sizes / measured.sizes))
        usage = usage.plus(per_run.times(runs))
    month = usage_cost(usage)
    stored_gb = (merchant.sizes + merchant.orders_a_month * ORDER_BINDINGS_KEPT_MONTHS) * BINDING_BYTES / 1e9
    month["DynamoDB"] += stored_gb * DYNAMODB_GB_MONTH
    month["Secrets Manager"] += SECRET_MONTH
    return month


def deployment_month(tick_usd: float) -> dict[str, float]:
    """USD a month one deployment costs whatever its fleet: alarms, custom metrics, the queues' pollers, the tick."""
    return {
        "CloudWatch": ALARMS * ALARM_MONTH + CUSTOM_METRICS * CUSTOM_METRIC_MONTH,
        "SQS": SQS_TRIGGERED_FUNCTIONS * ESM_REQUESTS_A_MINUTE * MINUTES_A_MONTH * SQS_REQUEST,
        "scheduler tick": tick_usd,
    }
