"""Test-wide environment: no real AWS, no tracing, no network beyond loopback."""

from __future__ import annotations

import os

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
