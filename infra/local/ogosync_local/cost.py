"""The cost model of issue 14: what a month of ogosync costs, computed from counted calls and the AWS prices below.

Every price is a named constant with its source: the AWS public pricing page of the service, on-demand list prices
in US East (N. Virginia), us-east-1, as published in 2025 (DynamoDB's on-demand prices after the reduction of
1 November 2024). Uncertain: ogosync is deployed in eu-north-1, whose list prices are within a few percent of these
for these services; free tiers are left out (they are per account, not per merchant); prices change, so the tables
in docs/benchmarks.md give the counts beside the dollars, to be re-priced.
"""

from __future__ import annotations

from collections.abc import Mapping
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
