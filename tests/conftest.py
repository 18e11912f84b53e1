"""Test-wide environment: no real AWS, no tracing, no network beyond loopback."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# Before anything imports boto3 or Powertools: dummy credentials, a region, tracing off.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-north-1",
        "AWS_REGION": "eu-north-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "ogosync",
        "POWERTOOLS_METRICS_NAMESPACE": "ogosync",
        "POWERTOOLS_DEV": "false",
    }
)

# Property tests are bounded by their number of examples, never by time: on a busy 2-core CI machine one example
# (or generating its data) can take longer than Hypothesis' default 200 ms deadline and too_slow health check.
settings.register_profile("ogosync", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ogosync")
