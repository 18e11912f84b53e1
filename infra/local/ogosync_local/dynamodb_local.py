"""Amazon's DynamoDB Local on loopback, so that the state layer's conditional writes are also proven against the
real engine, not only against moto (and so that the benchmarks time DynamoDB work on an engine whose writes do
not copy the whole table, as moto's transactions do). The jar ships inside the npm package
amplify-dynamodb-simulator; Java 17 runs it (reference: tooling-on-these-machines.md §7). Test equipment only."""

from __future__ import annotations

import fcntl
import shutil
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from ogosync_local.aws import free_port
from ogosync_local.lambdas import ROOT

PACKAGE = "amplify-dynamodb-simulator@2.9.30"
CACHE = ROOT / ".cache" / "dynamodb-local"
EMULATOR = CACHE / "package" / "emulator"


def ensure_jar() -> Path:
    """DynamoDBLocal.jar, fetched once from the npm registry into .cache/ (about 57 MB). Test workers running at
    once (pytest-xdist) take a file lock, so that one fetches and the others wait for it, never reading a half
    unpacked jar."""
    jar = EMULATOR / "DynamoDBLocal.jar"
    if jar.exists():
        return jar
    npm, java = shutil.which("npm"), shutil.which("java")
    if npm is None or java is None:
        raise RuntimeError("DynamoDB Local needs npm (to fetch it) and java (to run it) on PATH")
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not jar.exists():
            _fetch(npm)
    return jar


def _fetch(npm: str) -> None:
    """npm pack into a fresh folder, unpack the emulator beside it, then move it into place in one rename."""
    work = Path(tempfile.mkdtemp(dir=CACHE))
    try:
        subprocess.run([npm, "pack", PACKAGE, "--silent"], cwd=work, check=True, capture_output=True, timeout=600)  # noqa: S603
        tarball = next(work.glob("amplify-dynamodb-simulator-*.tgz"))
        with tarfile.open(tarball) as archive:
            wanted = [member for member in archive.getmembers() if member.name.startswith("package/emulator/")]
            archive.extractall(work, members=wanted, filter="data")
        shutil.rmtree(CACHE / "package", ignore_errors=True)
        (work / "package").rename(CACHE / "package")
    finally:
        shutil.rmtree(work, ignore_errors=True)


class DynamoDBLocal:
    """`with DynamoDBLocal() as db: db.client()`: an in-memory DynamoDB Local, stopped on exit."""

    def __enter__(self) -> DynamoDBLocal:
        jar = ensure_jar()
        port = free_port()
        self.endpoint = f"http://127.0.0.1:{port}"
        command = [
            shutil.which("java") or "java",
            f"-Djava.library.path={EMULATOR / 'DynamoDBLocal_lib'}",
            "-jar",
            str(jar),
            "-inMemory",
            "-sharedDb",
            "-port",
            str(port),
        ]
        self._process = subprocess.Popen(command, cwd=EMULATOR, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
        self._wait_until_ready()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self._process.terminate()
        self._process.wait(timeout=10)

    def client(self) -> Any:
        client: Any = boto3.client(
            "dynamodb",
            endpoint_url=self.endpoint,
            region_name="eu-north-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        return client

    def _wait_until_ready(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"DynamoDB Local exited with {self._process.returncode}")
            try:
                self.client().list_tables()
            except (BotoCoreError, ClientError):
                time.sleep(0.2)
                continue
            return
        raise RuntimeError("DynamoDB Local did not start within a minute")
