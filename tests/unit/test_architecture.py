"""The arrows between the shared package's parts: handlers -> engines -> ports <- adapters, none running back up.

Read from the source (ast), so a new import that breaks an arrow fails here before it tangles the layers:
- engines (`ogosync.sync`) name no adapter, no platform, no AWS and no composition root;
- adapters (`stores`, `warehouse`, `state`, `aws`) import no engine, operator, console or composition root; the
  console's ports (`console.deps`, `console.session`) are the one part of the console an adapter may name;
- the operator API and the console are handed their dependencies: only `ogosync.console.runtime` (the console's
  composition root) imports `ogosync.runtime`;
- a platform's package names no other platform's.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parents[2] / "layers" / "common" / "python"
ADAPTERS = ("stores", "warehouse", "state", "aws")
COMPOSITION_ROOTS = ("runtime", "jobs")
CONSOLE_PORTS = ("ogosync.console.deps", "ogosync.console.session")
PLATFORMS = ("centra", "shopify", "woocommerce")


@cache
def imports_by_module() -> dict[str, frozenset[str]]:
    found: dict[str, frozenset[str]] = {}
    for path in sorted(PACKAGE_ROOT.rglob("ogosync/**/*.py")):
        module = ".".join(path.relative_to(PACKAGE_ROOT).with_suffix("").parts).removesuffix(".__init__")
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)  # and each name, which may be a module: `from ogosync import runtime`
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        found[module] = frozenset(name for name in names if name.startswith("ogosync"))
    return found


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _broken(rule: str) -> list[tuple[str, str]]:
    broken = []
    for module, imported in imports_by_module().items():
        for name in imported:
            if _breaks(rule, module, name):
                broken.append((module, name))
    return sorted(broken)


def _breaks(rule: str, module: str, name: str) -> bool:
    source, target = _part(module), _part(name)
    if rule == "engines":
        return source == "sync" and target in (*ADAPTERS, *COMPOSITION_ROOTS, "operator", "console")
    if rule == "adapters":
        upward = target in ("sync", "operator", *COMPOSITION_ROOTS) or (
            target == "console" and not name.startswith(CONSOLE_PORTS)
        )
        return source in ADAPTERS and upward
    if rule == "handed":
        return source in ("operator", "console") and module != "ogosync.console.runtime" and target in COMPOSITION_ROOTS
    if rule == "platforms":
        own = module.split(".")[2] if source == "stores" and len(module.split(".")) > 2 else None
        other = name.split(".")[2] if _part(name) == "stores" and len(name.split(".")) > 2 else None
        return own in PLATFORMS and other in PLATFORMS and own != other
    raise ValueError(rule)


def test_the_package_is_read() -> None:
    modules = imports_by_module()
    assert "ogosync.sync.orders" in modules and "ogosync.models" in modules["ogosync.sync.orders"]
    assert "ogosync.runtime" in modules["ogosync.jobs"]  # from ogosync import runtime


@pytest.mark.parametrize("rule", ["engines", "adapters", "handed", "platforms"])
def test_no_import_breaks_an_arrow(rule: str) -> None:
    assert _broken(rule) == []


def test_a_broken_arrow_would_be_found() -> None:
    assert _breaks("engines", "ogosync.sync.orders", "ogosync.stores.centra.client")
    assert _breaks("adapters", "ogosync.state.dynamo", "ogosync.sync.orders")
    assert not _breaks("adapters", "ogosync.aws.cognito", "ogosync.console.deps")
    assert _breaks("handed", "ogosync.operator.routes.status", "ogosync.runtime")
    assert _breaks("platforms", "ogosync.stores.shopify.store", "ogosync.stores.centra.client")
    assert not _breaks("platforms", "ogosync.stores.shopify.store", "ogosync.stores.signed_json")
