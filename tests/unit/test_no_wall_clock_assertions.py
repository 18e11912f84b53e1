"""No test asserts on wall-clock time (house rule; issue 10 item 17): a busy machine must not fail the suite. Work is
bounded by examples and calls instead, and timings belong in docs/benchmarks.md. This looks at every assert in
tests/ for a reading of the clock inside it."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
CLOCK_READINGS = {"monotonic", "perf_counter", "time", "now", "utcnow", "monotonic_ns", "perf_counter_ns", "time_ns"}
CLOCK_OWNERS = {"time", "datetime"}


def _reads_the_clock(node: ast.AST) -> bool:
    for call in ast.walk(node):
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute):
            owner = call.func.value
            owner_name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", "")
            if call.func.attr in CLOCK_READINGS and owner_name in CLOCK_OWNERS:
                return True
    return False


def test_no_assert_reads_the_wall_clock() -> None:
    offenders = [
        f"{path.relative_to(TESTS)}:{node.lineno}"
        for path in sorted(TESTS.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Assert) and _reads_the_clock(node.test)
    ]
    assert offenders == []
