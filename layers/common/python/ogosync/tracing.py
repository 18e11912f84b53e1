"""X-Ray tracing of the handlers, loaded only when tracing is on.

Powertools' Tracer imports the X-Ray SDK as it is built, even when tracing is disabled: about a third of a cold
start (docs/benchmarks.md, "Cold imports and memory"). The handlers decorate with `trace_handler` (or
`trace_aws_handler`) and `trace_method`, which build the Tracer (and so import the SDK) only when tracing is on,
and otherwise return the function as it is.

Tracing is on as Powertools decides it (`Tracer._is_tracer_disabled`): inside Lambda (LAMBDA_TASK_ROOT set), not
under SAM local or Chalice local, and unless POWERTOOLS_TRACE_DISABLED is true. The template sets
POWERTOOLS_TRACE_DISABLED from its XRayTracing parameter. uncertain: this copies a private rule of Powertools
3.x; tests/unit/test_tracing.py compares the two, so a change of the rule in Powertools fails there.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar, cast

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

F = TypeVar("F", bound=Callable[..., Any])

# What ogosync calls out through: AWS (botocore) and the stores and myOGO (httpx). Powertools patches every library
# X-Ray knows of by default, importing each (requests, sqlite3, ...): a third of what tracing adds to a cold start.
TRACED_LIBRARIES = ("botocore", "httpx")
# The scheduler and the webhook receivers call AWS only: patching httpx would import it for nothing.
AWS_ONLY = ("botocore",)

# Powertools reads POWERTOOLS_TRACE_DISABLED with strtobool: these are its true values.
_TRUE = frozenset({"1", "y", "yes", "t", "true", "on"})


def tracing_enabled() -> bool:
    if os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").strip().lower() in _TRUE:
        return False
    if not os.environ.get("LAMBDA_TASK_ROOT"):
        return False
    return not (os.environ.get("AWS_SAM_LOCAL") or os.environ.get("AWS_CHALICE_CLI_MODE"))


@cache
def _tracer(libraries: tuple[str, ...] = TRACED_LIBRARIES) -> Tracer:
    from aws_lambda_powertools import Tracer

    return Tracer(patch_modules=libraries)


def trace_handler(handler: F) -> F:
    """The Lambda handler in an X-Ray segment when tracing is on. The response is never recorded (it may carry
    order data); errors are."""
    return _traced(handler, TRACED_LIBRARIES)


def trace_aws_handler(handler: F) -> F:
    """trace_handler for a function that calls nothing but AWS (only botocore is patched)."""
    return _traced(handler, AWS_ONLY)


def _traced(handler: F, libraries: tuple[str, ...]) -> F:
    if not tracing_enabled():
        return handler
    return cast(F, _tracer(libraries).capture_lambda_handler(handler, capture_response=False))


def trace_method(method: F) -> F:
    """A function in its own X-Ray subsegment when tracing is on (its return value is not recorded)."""
    if not tracing_enabled():
        return method
    return _tracer().capture_method(capture_response=False)(method)
