"""Running `python -m infra.local` as a user does, and looking at the processes it leaves."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import httpx
from botocore.config import Config

from infra.local.dynamodb_local import free_port
from tests.helpers import REPO_ROOT

STARTUP_SECONDS = 180
TRUSTED_ADDRESS = "127.0.0.1"
RATE_LIMITED_ADDRESS = "127.0.0.2"  # any loopback address reaches the stack
OTHER_NETWORK_ADDRESS = "127.0.0.5"  # a network of its own, for the per-network limit


class RunningStack:
    def __init__(
        self, data_dir: Path, log_path: Path, environment: dict[str, str] | None = None
    ) -> None:
        self.ports = {name: free_port() for name in ("api", "dynamodb", "moto")}
        self.data_dir = data_dir
        self.log_path = log_path
        self.environment = environment or {}
        self.process: subprocess.Popen[bytes] | None = None
        self.seen_processes: set[int] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports['api']}"

    def launch(self) -> subprocess.Popen[bytes]:
        environment = {
            **os.environ,
            # The tests' own address skips the per-IP rate limits (the contact center's case);
            # the rate-limit tests send from another loopback address (RATE_LIMITED_ADDRESS).
            "LOCAL_PARAMETERS": f"TrustedNetworks={TRUSTED_ADDRESS}/32",
            "LOCAL_API_PORT": str(self.ports["api"]),
            "LOCAL_DYNAMODB_PORT": str(self.ports["dynamodb"]),
            "LOCAL_MOTO_PORT": str(self.ports["moto"]),
            "LOCAL_DATA_DIR": str(self.data_dir),
            **self.environment,
        }
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "infra.local"],
                cwd=REPO_ROOT,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self.process

    def start(self) -> None:
        process = self.launch()
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"the stack exited:\n{self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/_local/health", timeout=1).status_code == 200:
                    self.seen_processes |= descendants(process.pid)
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        self.kill()  # not left running after the tests give up on it
        raise AssertionError(f"the stack did not start:\n{self.log_path.read_text()[-3000:]}")

    def stop(self, timeout: float = 60) -> int:
        assert self.process is not None
        self.seen_processes |= descendants(self.process.pid)
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout=timeout)
        self.process = None
        return code

    def kill(self) -> None:
        if self.process is not None:
            self.seen_processes |= descendants(self.process.pid)
            self.process.kill()
            self.process.wait()
            self.process = None


@contextmanager
def started_stack(root: Path) -> Iterator[RunningStack]:
    """A started stack with its data under `root`, stopped at the end unless a test did."""
    running = RunningStack(root / "data", root / "stack.log")
    running.start()
    try:
        yield running
    finally:
        if running.process is not None:
            running.stop()


@contextmanager
def shared_stack(meeting_place: Path) -> Iterator[str]:
    """The URL of one stack for every process of a test run (each xdist worker) that meets at
    `meeting_place`: the first to come starts it, the last to leave stops it."""
    meeting_place.mkdir(parents=True, exist_ok=True)
    state_path = meeting_place / "stack.json"
    started: RunningStack | None = None
    with _locked(meeting_place / "stack.lock"):
        if state_path.exists():
            state = json.loads(state_path.read_text())
        else:
            started = RunningStack(meeting_place / "data", meeting_place / "stack.log")
            started.start()
            assert started.process is not None
            state = {"url": started.url, "pid": started.process.pid, "users": 0}
        state["users"] += 1
        state_path.write_text(json.dumps(state))
    try:
        yield state["url"]
    finally:
        with _locked(meeting_place / "stack.lock"):
            state = json.loads(state_path.read_text())
            state["users"] -= 1
            if state["users"]:
                state_path.write_text(json.dumps(state))
            else:
                state_path.unlink()
                if started is not None and started.process is not None:
                    started.stop()
                else:  # started by a process that has finished its tests
                    os.kill(state["pid"], signal.SIGINT)
                    wait_until(lambda: not alive(state["pid"]), 60)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def descendants(pid: int) -> set[int]:
    """Every process below `pid`, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found: set[int] = set()
    pending = [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            if child not in found:
                found.add(child)
                pending.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def command_line(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def wait_until(condition: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.1)
    return False


def local_dynamodb(endpoint_url: str, connections: int = 10) -> Any:
    """A client of the stack's DynamoDB Local, with the local stack's credentials."""
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(parameter_validation=False, max_pool_connections=connections),
    )
