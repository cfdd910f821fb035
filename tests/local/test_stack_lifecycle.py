"""Stopping and starting `make run` (python -m infra.local): Ctrl-C with a stream backlog, a
second Ctrl-C, kill -9, and a DynamoDB port some other process holds.

The stack runs a copy of template.yaml whose only function is a fast stand-in for the notice
renderer on the appointments table's stream, recording each record it is handed: rendering
1,000 real PDFs would take minutes, and the stopping and resuming are the stack's, not the
renderer's.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import yaml

from infra.local.dynamodb_local import DynamoDBLocal, free_port, java_available
from infra.local.template import create_tables, load_template, table_names
from tests.e2e.running import (
    RunningStack,
    alive,
    command_line,
    descendants,
    local_dynamodb,
    port_open,
    wait_until,
)
from tests.helpers import REPO_ROOT

pytestmark = pytest.mark.skipif(not java_available(), reason="DynamoDB Local needs Java 17+")

STAND_IN = """
import json, os, time


def lambda_handler(event, context):
    if "Records" not in event:  # an API request: held as long as the stream's batches
        with open(os.path.join(os.environ["BUSY_IN"], str(os.getpid())), "w"):
            pass
        while os.path.exists(os.environ["HOLD_WHILE"]):
            time.sleep(0.05)
        return {"statusCode": 200, "body": "done"}
    while os.path.exists(os.environ["HOLD_WHILE"]):
        time.sleep(0.05)
    if os.path.exists(os.environ["SLOW_WHILE"]):
        time.sleep(0.3)
    keys = [r["dynamodb"]["Keys"]["confirmation"]["S"] for r in event["Records"]]
    with open(os.environ["DELIVERED_TO"], "a") as out:
        out.write("".join(key + "\\n" for key in keys))
    return {"batchItemFailures": []}
"""
BACKLOG = 1000


class Files:
    def __init__(self, root: Path) -> None:
        self.delivered = root / "delivered.txt"
        self.hold = root / "hold"
        self.slow = root / "slow"
        self.busy = root / "busy"  # a file per process handling an API request

    def delivered_keys(self) -> list[str]:
        return self.delivered.read_text().split() if self.delivered.exists() else []


def stand_in_template(root: Path, files: Files, *, api_path: str | None = None) -> Path:
    """template.yaml with its functions replaced by the stand-in on the appointments stream
    (and, with `api_path`, on that GET route too)."""
    template = load_template()
    resources = template["Resources"]
    for logical_id in [k for k, v in resources.items() if v["Type"].endswith("::Function")]:
        del resources[logical_id]
    resources["NoticeStandInFunction"] = {
        "Type": "AWS::Serverless::Function",
        "Properties": {
            "CodeUri": "stand_in",
            "Timeout": 60,
            "Environment": {
                "Variables": {
                    "DELIVERED_TO": str(files.delivered),
                    "HOLD_WHILE": str(files.hold),
                    "SLOW_WHILE": str(files.slow),
                    "BUSY_IN": str(files.busy),
                }
            },
            "Events": {
                "AppointmentChanges": {
                    "Type": "DynamoDB",
                    "Properties": {
                        "Stream": {"Fn::GetAtt": ["AppointmentsTable", "StreamArn"]},
                        "StartingPosition": "TRIM_HORIZON",
                        "BatchSize": 10,
                        "FunctionResponseTypes": ["ReportBatchItemFailures"],
                    },
                }
            },
        },
    }
    if api_path is not None:
        events = resources["NoticeStandInFunction"]["Properties"]["Events"]
        events["Busy"] = {
            "Type": "Api",
            "Properties": {"RestApiId": {"Ref": "Api"}, "Path": api_path, "Method": "GET"},
        }
    (root / "stand_in").mkdir()
    (root / "stand_in" / "app.py").write_text(STAND_IN)
    (root / "layers").symlink_to(REPO_ROOT / "layers")
    path = root / "template.yaml"
    path.write_text(yaml.safe_dump(template, sort_keys=False))
    return path


@pytest.fixture
def files(tmp_path: Path) -> Files:
    return Files(tmp_path)


@pytest.fixture
def stand_in_stack(tmp_path: Path, files: Files) -> Iterator[RunningStack]:
    template = stand_in_template(tmp_path, files)
    stack = RunningStack(
        tmp_path / "data",
        tmp_path / "stack.log",
        {"LOCAL_TEMPLATE": str(template), "LOCAL_SEED": "0"},
    )
    yield stack
    stack.kill()


def write_appointments(endpoint_url: str, count: int) -> list[str]:
    client = local_dynamodb(endpoint_url)
    keys = [f"TEST{index:06d}" for index in range(count)]
    for start in range(0, count, 25):
        items = [
            {"PutRequest": {"Item": {"confirmation": {"S": key}, "status": {"S": "booked"}}}}
            for key in keys[start : start + 25]
        ]
        client.batch_write_item(RequestItems={"appointments-AppointmentsTable": items})
    return keys


def stack_processes(stack: RunningStack) -> list[int]:
    return [pid for pid in stack.seen_processes if alive(pid)]


def java_of(stack: RunningStack) -> int:
    (java,) = [pid for pid in stack.seen_processes if "DynamoDBLocal.jar" in command_line(pid)]
    return java


def test_ctrl_c_stops_mid_backlog_and_the_next_start_delivers_the_rest_once(
    stand_in_stack: RunningStack, files: Files
) -> None:
    stack = stand_in_stack
    # Given a backlog of 1,000 stream records, written before the stack starts, and a slow
    # stream function
    with DynamoDBLocal(db_path=stack.data_dir / "dynamodb") as dynamodb:
        template = load_template(Path(stack.environment["LOCAL_TEMPLATE"]))
        create_tables(
            local_dynamodb(dynamodb.endpoint_url), table_names(template, "appointments"), template
        )
        keys = write_appointments(dynamodb.endpoint_url, BACKLOG)
    files.slow.touch()
    stack.start()
    assert wait_until(lambda: len(files.delivered_keys()) >= 30, 30)
    # When Ctrl-C is pressed
    began = time.monotonic()
    code = stack.stop(timeout=120)
    stopped_in = time.monotonic() - began
    before_restart = files.delivered_keys()
    # Then the stack stopped within seconds, with most of the backlog still to deliver
    assert code == 0
    assert stopped_in < 12, f"stopping took {stopped_in:.1f}s"
    assert len(before_restart) < BACKLOG / 2
    assert wait_until(lambda: stack_processes(stack) == [], 5), stack_processes(stack)

    # When it is started again, fast this time
    files.slow.unlink()
    stack.start()
    assert wait_until(lambda: len(files.delivered_keys()) >= BACKLOG, 30)
    time.sleep(1)  # a record delivered twice would show up now
    assert stack.stop() == 0
    # Then every record was delivered exactly once across the two runs
    counts = Counter(files.delivered_keys())
    assert set(counts) == set(keys)
    assert [key for key, seen in counts.items() if seen != 1] == []


def test_a_second_ctrl_c_stops_at_once(stand_in_stack: RunningStack, files: Files) -> None:
    stack = stand_in_stack
    # Given a stack whose stream function is busy with a batch that will not end soon
    files.hold.touch()
    stack.start()
    write_appointments(f"http://127.0.0.1:{stack.ports['dynamodb']}", 10)
    assert stack.process is not None
    process = stack.process
    stack.seen_processes |= descendants(process.pid)
    time.sleep(1)
    # When Ctrl-C is pressed twice
    process.send_signal(signal.SIGINT)
    time.sleep(0.3)
    began = time.monotonic()
    process.send_signal(signal.SIGINT)
    code = process.wait(timeout=30)
    stopped_in = time.monotonic() - began
    stack.process = None
    # Then it stopped without waiting for the batch, and left nothing running
    assert code == 128 + signal.SIGINT
    assert stopped_in < 2, f"stopping took {stopped_in:.1f}s"
    assert wait_until(lambda: stack_processes(stack) == [], 5), stack_processes(stack)


def test_ctrl_c_with_every_function_process_busy_stops_within_5_seconds(
    tmp_path: Path, files: Files
) -> None:
    # Given a stack whose function may scale out to 4 processes, all 4 held by API requests,
    # and 4 more requests waiting for them
    template = stand_in_template(tmp_path, files, api_path="/busy")
    environment = {"LOCAL_TEMPLATE": str(template), "LOCAL_SEED": "0", "LOCAL_CONCURRENCY": "4"}
    stack = RunningStack(tmp_path / "data", tmp_path / "stack.log", environment)
    files.busy.mkdir()
    files.hold.touch()
    try:
        stack.start()
        with ThreadPoolExecutor(max_workers=8) as clients:
            for _ in range(8):
                clients.submit(
                    lambda: suppress_transport_errors(lambda: httpx.get(f"{stack.url}/busy"))
                )
            assert wait_until(lambda: len(list(files.busy.iterdir())) == 4, 30)
            # When Ctrl-C is pressed
            began = time.monotonic()
            code = stack.stop(timeout=60)
            stopped_in = time.monotonic() - began
    finally:
        stack.kill()
    # Then the stack stopped within 5 s, and left no process running
    assert code == 0
    assert stopped_in < 5, f"stopping took {stopped_in:.1f}s"
    assert wait_until(lambda: stack_processes(stack) == [], 5), stack_processes(stack)


def suppress_transport_errors(request: Callable[[], object]) -> None:
    with contextlib.suppress(httpx.TransportError):
        request()


def test_dynamodb_local_dies_with_a_stack_killed_hard(stand_in_stack: RunningStack) -> None:
    stack = stand_in_stack
    # Given a running stack and its DynamoDB Local
    stack.start()
    java = java_of(stack)
    # When the stack is killed with SIGKILL (no chance to clean up)
    stack.kill()
    # Then DynamoDB Local and the function processes die with it, and the ports are free
    assert wait_until(lambda: not alive(java), 10), command_line(java)
    assert wait_until(lambda: stack_processes(stack) == [], 10), stack_processes(stack)
    assert not port_open(stack.ports["dynamodb"])


def test_a_dynamodb_port_held_by_another_process_is_refused_by_name(
    stand_in_stack: RunningStack,
) -> None:
    stack = stand_in_stack
    # Given another process answering on the DynamoDB port
    port = free_port()
    stack.ports["dynamodb"] = port
    squatter = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import socket, time\n"
            f"s = socket.create_server(('127.0.0.1', {port}))\n"
            "print('listening', flush=True)\n"
            "time.sleep(120)",
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert squatter.stdout is not None
        assert squatter.stdout.readline() == b"listening\n"
        # When the stack is started
        process = stack.launch()
        code = process.wait(timeout=60)
        stack.process = None
        output = stack.log_path.read_text()
    finally:
        squatter.kill()
        squatter.wait()
    # Then it refuses, naming the port and the process, and starts no DynamoDB Local
    assert code != 0
    assert f"Port {port}" in output
    assert f"process {squatter.pid}" in output
    assert "Traceback" not in output
    java_on_port = [
        pid
        for pid in map(int, filter(str.isdigit, (p.name for p in Path("/proc").iterdir())))
        if f"-port {port} " in command_line(pid) + " "
    ]
    assert java_on_port == []
