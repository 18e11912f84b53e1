"""Fixtures for the template tests: template.yaml translated offline to CloudFormation.

The translation uses samtranslator (the library behind `sam validate`, a dev dependency) with no AWS
credentials and no network.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import pytest
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"
CONTRACTS_PATH = REPO_ROOT / "docs" / "contracts.md"


def translate_offline(template_text: str) -> dict[str, Any]:
    """SAM YAML -> {"sam": parsed SAM template, "cfn": CloudFormation}."""
    sam = yaml_parse(template_text)
    to_translate = copy.deepcopy(sam)
    for resource in to_translate.get("Resources", {}).values():
        props = resource.get("Properties") or {}
        for key in ("CodeUri", "ContentUri"):  # local folders -> fake S3 URIs, as `sam validate` does
            if isinstance(props.get(key), str):
                props[key] = "s3://bucket/" + props[key]
    cfn = Translator(
        managed_policy_map=None,
        sam_parser=Parser(),
        boto_session=boto3.session.Session(region_name="eu-north-1"),
    ).translate(to_translate, parameter_values={}, get_managed_policy_map=lambda: {})
    return {"sam": sam, "cfn": cfn}


@cache
def _translated() -> dict[str, Any]:
    # Round-trip through JSON: plain data, as CloudFormation would see it.
    text = TEMPLATE_PATH.read_text(encoding="utf-8")
    return json.loads(json.dumps(translate_offline(text), default=str))  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Contract:
    """What docs/contracts.md says about each Lambda function."""

    folders: dict[str, str]  # logical id -> functions/<name>
    triggers: dict[str, str]  # logical id -> trigger text
    env: dict[str, set[str]]  # logical id -> env var names it reads
    common_env: dict[str, str]  # NAME -> value, set on every function


def _parse_contract(text: str) -> Contract:
    folders: dict[str, str] = {}
    triggers: dict[str, str] = {}
    env: dict[str, set[str]] = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and re.fullmatch(r"[A-Z]\w*Function", cells[0]):
            logical_id, folder, trigger, env_text = cells
            folders[logical_id] = folder.strip("`")
            triggers[logical_id] = trigger
            env[logical_id] = {name.strip(" `") for name in env_text.split(",") if name.strip(" `")}
    common_line = next((ln for ln in text.splitlines() if ln.startswith("Common env:")), "")
    common_env = dict(re.findall(r"([A-Z][A-Z0-9_]*)=([\w.-]*[\w-])", common_line))
    return Contract(folders=folders, triggers=triggers, env=env, common_env=common_env)


@pytest.fixture(scope="session")
def sam() -> dict[str, Any]:
    """template.yaml as parsed by samtranslator's yaml_parse (SAM form, local CodeUri/ContentUri)."""
    return _translated()["sam"]  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def cfn() -> dict[str, Any]:
    """template.yaml translated to plain CloudFormation."""
    return _translated()["cfn"]  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def resources(cfn: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return cfn["Resources"]  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def contract() -> Contract:
    parsed = _parse_contract(CONTRACTS_PATH.read_text(encoding="utf-8"))
    assert parsed.folders, f"no function table found in {CONTRACTS_PATH}"
    assert parsed.common_env, f"no 'Common env:' line found in {CONTRACTS_PATH}"
    return parsed
