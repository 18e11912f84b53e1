"""The dependencies layer ships tzdata, so time zones never depend on the runtime image's zone files.

The layer's pinned tzdata (layers/deps/requirements.txt) is installed with pip, from its cache or PyPI, into a
temporary directory, as `sam build` puts it into the layer. A fresh interpreter with no site-packages and the
system zone files hidden (PYTHONTZPATH empty: zoneinfo searches no directory) resolves a zone from that directory
alone, and fails to without it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = REPO_ROOT / "layers" / "deps" / "requirements.txt"
# Helsinki keeps summer time (UTC+3) on 1 July: the answer comes from the zone's rules, not a fixed offset.
RESOLVE = (
    "import datetime, zoneinfo; "
    "assert zoneinfo.TZPATH == (), zoneinfo.TZPATH; "
    "zone = zoneinfo.ZoneInfo('Europe/Helsinki'); "
    "print(datetime.datetime(2026, 7, 1, 12, tzinfo=zone).utcoffset())"
)


def _pinned(name: str) -> str:
    lines = [line.strip() for line in REQUIREMENTS.read_text(encoding="utf-8").splitlines()]
    (pin,) = [line for line in lines if re.match(rf"{name}\s*==", line)]
    return pin


@pytest.fixture(scope="module")
def layer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("deps-layer")
    pip = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-compile", "--disable-pip-version-check"]
    subprocess.run(  # noqa: S603 (our own interpreter, a pinned requirement)
        [*pip, "--quiet", "--target", str(target), _pinned("tzdata")], check=True, timeout=180
    )
    return target


def _resolve_helsinki(path: Path | None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONTZPATH": ""}
    if path is not None:
        env["PYTHONPATH"] = str(path)
    return subprocess.run(  # noqa: S603 (our own interpreter and code)
        [sys.executable, "-S", "-c", RESOLVE], env=env, capture_output=True, text=True, timeout=60
    )


def test_the_layer_pins_tzdata() -> None:
    assert re.fullmatch(r"tzdata==\d{4}\.\d+", _pinned("tzdata"))


def test_with_the_system_zone_files_hidden_no_zone_resolves_without_the_layer() -> None:
    done = _resolve_helsinki(None)
    assert done.returncode != 0 and "ZoneInfoNotFoundError" in done.stderr


def test_the_layer_alone_resolves_europe_helsinki(layer_dir: Path) -> None:
    done = _resolve_helsinki(layer_dir)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "3:00:00"
