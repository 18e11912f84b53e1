"""What each function's module loads when Lambda imports it (docs/benchmarks.md, "Cold imports and memory").

Each import runs in a fresh interpreter, as a cold start does; the modules loaded are read from its sys.modules.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = sorted(path.parent.name for path in (ROOT / "functions").glob("*/app.py"))
SQS_WORKERS = ("order_import", "order_poll", "product_sync", "stock_sync", "tracking_sync")
WEBHOOKS = ("store_webhook", "warehouse_webhook")
# Powertools' parser models and data classes of every event source, loaded by its batch and parser utilities.
ALL_EVENT_SOURCES = ("aws_lambda_powertools.utilities.parser.models", "aws_lambda_powertools.utilities.data_classes")
OTHER_FLOWS = {
    "console": (  # pages name the engines' constants, which live in models, not the engines
        "httpx",
        "ogosync.sync.orders",
        "ogosync.sync.stock",
        "ogosync.sync.tracking",
        "ogosync.stores.centra",
        "ogosync.warehouse.myogo",
        "ogosync.operator.api",
    ),
    "scheduler": ("httpx", "ogosync.sync.orders", "ogosync.stores.centra", "ogosync.warehouse.myogo"),
    "store_webhook": ("httpx", "ogosync.sync.tracking", "ogosync.sync.products", "ogosync.state.tracking"),
    "warehouse_webhook": ("httpx", "ogosync.sync.orders", "ogosync.sync.products", "ogosync.stores.centra"),
    "order_import": ("ogosync.sync.products", "ogosync.sync.stock", "ogosync.sync.tracking", "ogosync.operator.api"),
    "stock_sync": ("ogosync.sync.products", "ogosync.sync.tracking", "ogosync.operator.api"),
    "tracking_sync": ("ogosync.sync.products", "ogosync.sync.stock", "ogosync.operator.api"),
    "notify": (
        "httpx",
        "ogosync.sync.orders",
        "ogosync.stores.centra",
        "ogosync.warehouse.myogo",
        "ogosync.operator.api",
    ),
}


@cache
def loaded_modules(function: str, tracing: bool) -> frozenset[str]:
    app = ROOT / "functions" / function / "app.py"
    code = (
        "import importlib.util, json, sys; "
        f"spec = importlib.util.spec_from_file_location('app', {str(app)!r}); "
        "spec.loader.exec_module(importlib.util.module_from_spec(spec)); "
        "print(json.dumps(sorted(sys.modules)))"
    )
    env = {
        **{name: value for name, value in os.environ.items() if name not in ("AWS_SAM_LOCAL", "AWS_CHALICE_CLI_MODE")},
        "PYTHONPATH": str(ROOT / "layers" / "common" / "python"),
        "AWS_DEFAULT_REGION": "eu-north-1",
        "POWERTOOLS_SERVICE_NAME": "ogosync",
        "LAMBDA_TASK_ROOT": str(app.parent),  # as in Lambda: Powertools traces only there
        "POWERTOOLS_TRACE_DISABLED": "false" if tracing else "true",
    }
    done = subprocess.run(  # noqa: S603 (our own interpreter and code)
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, timeout=120
    )
    return frozenset(json.loads(done.stdout.splitlines()[-1]))


def _any_of(modules: frozenset[str], prefix: str) -> list[str]:
    return sorted(name for name in modules if name == prefix or name.startswith(prefix + "."))


@pytest.mark.parametrize("function", FUNCTIONS)
def test_no_function_loads_the_xray_sdk_with_tracing_disabled(function: str) -> None:
    assert _any_of(loaded_modules(function, tracing=False), "aws_xray_sdk") == []


@pytest.mark.parametrize("function", ["scheduler", "order_import"])
def test_a_function_traced_loads_the_xray_sdk(function: str) -> None:
    assert "aws_xray_sdk.core" in loaded_modules(function, tracing=True)


@pytest.mark.parametrize(
    ("function", "libraries"),
    [
        ("order_import", {"botocore", "httpx"}),
        ("console", {"botocore", "httpx"}),
        ("scheduler", {"botocore"}),
        ("store_webhook", {"botocore"}),
        ("warehouse_webhook", {"botocore"}),
    ],
)
def test_a_traced_function_patches_only_the_libraries_it_calls_out_through(function: str, libraries: set[str]) -> None:
    modules = loaded_modules(function, tracing=True)
    patches = [name for name in modules if name.startswith("aws_xray_sdk.ext.")]
    assert {name.split(".")[2] for name in patches if name.endswith(".patch")} == libraries
    assert ("httpx" in modules) == ("httpx" in libraries)  # the receivers and the scheduler never load httpx


@pytest.mark.parametrize("function", FUNCTIONS)
def test_no_function_loads_the_models_of_every_event_source(function: str) -> None:
    modules = loaded_modules(function, tracing=False)
    assert [name for prefix in ALL_EVENT_SOURCES for name in _any_of(modules, prefix)] == []


@pytest.mark.parametrize(("function", "foreign"), sorted(OTHER_FLOWS.items()))
def test_a_function_loads_no_module_of_another_flow(function: str, foreign: tuple[str, ...]) -> None:
    modules = loaded_modules(function, tracing=False)
    assert [name for name in foreign if name in modules] == []


def test_no_function_loads_the_operator_routes_as_it_is_imported() -> None:
    loading = [name for name in FUNCTIONS if "ogosync.operator.api" in loaded_modules(name, tracing=False)]
    assert loading == []  # the operator function loads them on its first request (jobs.operator_request)
