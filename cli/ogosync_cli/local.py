"""`ogosync local up|down`: the local stack (ogosync_local.serve) as a background process, found by its state file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ogosync_cli.client import ApiError
from ogosync_cli.target import STATE_FILE, read_local_state

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
LOG_FILE = "local.log"


def _alive(pid: int) -> bool:
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:  # our own child that ended (up and down in one process)
            return False
    except ChildProcessError:
        pass  # not our child: ask the kernel
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running(home: Path) -> dict[str, Any] | None:
    """The state of the local stack if it runs; a state file left by a dead one is removed."""
    state = read_local_state(home)
    if state is None:
        return None
    if _alive(int(state["pid"])):
        return state
    (home / STATE_FILE).unlink(missing_ok=True)
    return None


def up(home: Path, *, sample: bool) -> dict[str, Any]:
    existing = running(home)
    if existing is not None:
        return existing
    home.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "ogosync_local.serve", "--home", str(home)] + ([] if sample else ["--no-sample"])
    with (home / LOG_FILE).open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 (our own module, with our interpreter)
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        state = read_local_state(home)
        if state is not None and int(state["pid"]) == process.pid:
            return state
        if process.poll() is not None:
            raise ApiError(0, "local_stack_failed", f"the local stack stopped at start: see {home / LOG_FILE}")
        time.sleep(0.2)
    process.terminate()
    raise ApiError(0, "local_stack_failed", f"the local stack did not start in {START_TIMEOUT_S:.0f} s")


def down(home: Path) -> bool:
    """Stop the local stack; False when none was running."""
    state = running(home)
    if state is None:
        return False
    pid = int(state["pid"])
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    (home / STATE_FILE).unlink(missing_ok=True)
    return True
