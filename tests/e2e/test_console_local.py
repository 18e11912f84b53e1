"""`ogosync local up` serves the web console on loopback, prints its URL, and writes its users where only the owner
reads them; they sign in (moto's Cognito) and see the pages."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.e2e


def test_local_up_prints_the_console_url_and_its_users_sign_in(tmp_path: Path) -> None:
    env = os.environ | {"OGOSYNC_HOME": str(tmp_path), "POWERTOOLS_LOG_LEVEL": "WARNING"}
    env.pop("OGOSYNC_API_URL", None)

    def run(*args: str) -> str:
        return subprocess.run(  # noqa: S603 (our own CLI)
            [sys.executable, "-m", "ogosync_cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=90,
            check=True,
        ).stdout

    printed = run("local", "up")
    try:
        state = json.loads(run("local", "status", "--json"))
        users_file = Path(state["console_users_file"])
        users = json.loads(users_file.read_text())
        with httpx.Client(base_url=state["console_url"], follow_redirects=False) as browser:
            form = browser.get("/sign-in")
            token = re.search(r'name="csrf" value="([^"]+)"', form.text)
            assert token is not None
            signed_in = browser.post(
                "/sign-in",
                data={"csrf": token.group(1), "username": "operator", "password": users["operator"]["password"]},
            )
            home = browser.get("/")
    finally:
        run("local", "down")

    assert state["console_url"].startswith("http://127.0.0.1:") and state["console_url"] in printed
    assert (users_file.stat().st_mode & 0o777) == 0o600 and users["demo"]["merchant"] == "Demo Apparel"
    assert "Secure" not in form.headers["set-cookie"]  # plain http on loopback
    assert (signed_in.status_code, signed_in.headers["location"]) == (303, "/")
    assert home.status_code == 200 and "operator (operator)" in home.text
