"""A function's warm processes: scaling out up to its concurrency, the queue above it, cold
starts, replacing a process that crashed or timed out, and stopping while they are busy."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.local.lambda_runtime import FunctionPool, Invocation
from infra.local.template import FunctionSpec

STAND_IN = """
import os, time, uuid

COLD_START = uuid.uuid4().hex  # drawn once per process, when the handler is imported


def lambda_handler(event, context):
    if event.get("crash"):
        os._exit(3)
    if event.get("environment"):
        return dict(os.environ)
    began = time.time()
    time.sleep(event.get("sleep", 0))
    met = None
    if "meet_in" in event:  # wait (20 s at most) until `others` handlers are inside too
        open(os.path.join(event["meet_in"], COLD_START), "w").close()
        deadline = time.time() + 20
        while len(os.listdir(event["meet_in"])) < event["others"] and time.time() < deadline:
            time.sleep(0.02)
        met = len(os.listdir(event["meet_in"])) >= event["others"]
    return {"cold_start": COLD_START, "began": began, "n": event.get("n"), "met": met}
"""


def stand_in_pool(root: Path, concurrency: int, timeout_seconds: int = 10) -> FunctionPool:
    (root / "app.py").write_text(STAND_IN)
    spec = FunctionSpec(
        logical_id="StandInFunction",
        code_dir=root,
        handler="app.lambda_handler",
        runtime="python3.12",
        timeout_seconds=timeout_seconds,
        memory_mb=128,
        layer_dirs=(),
        environment={},
    )
    return FunctionPool(spec, {"PATH": "/usr/bin:/bin"}, "stand-in", concurrency, log=print)


@pytest.fixture
def pool_of(tmp_path: Path) -> Iterator[Any]:
    pools: list[FunctionPool] = []

    def started(concurrency: int, timeout_seconds: int = 10) -> FunctionPool:
        pool = stand_in_pool(tmp_path, concurrency, timeout_seconds)
        pool.start()
        pools.append(pool)
        return pool

    yield started
    for pool in pools:
        pool.kill()
        pool.stop(grace_seconds=0)


def invoke_all(pool: FunctionPool, events: list[dict[str, Any]], gap: float = 0.0) -> list[Any]:
    """Invoke concurrently, one thread per event, started `gap` seconds apart (in order)."""
    results: list[Any] = [None] * len(events)

    def invoke(index: int) -> None:
        results[index] = pool.invoke(events[index])

    threads = [threading.Thread(target=invoke, args=(index,)) for index in range(len(events))]
    for thread in threads:
        thread.start()
        time.sleep(gap)
    for thread in threads:
        thread.join(timeout=60)
    return results


def payloads(invocations: list[Invocation]) -> list[dict[str, Any]]:
    assert all(invocation.ok for invocation in invocations), invocations
    return [invocation.payload for invocation in invocations]


def test_concurrent_events_run_at_once_each_on_a_process_with_its_own_cold_start(
    pool_of: Any, tmp_path: Path
) -> None:
    # Given a function that may scale out to 3 processes, with one warm
    pool = pool_of(3)
    (tmp_path / "meeting").mkdir()
    # When 3 events arrive together, each waiting until all 3 handlers are running
    meet = {"meet_in": str(tmp_path / "meeting"), "others": 3}
    results = payloads(invoke_all(pool, [meet] * 3))
    # Then they ran at the same time, on 3 processes, each with its own cold start
    assert [r["met"] for r in results] == [True] * 3
    assert len({r["cold_start"] for r in results}) == 3
    assert pool.size == 3


def test_a_process_sees_only_the_environment_it_was_given(
    pool_of: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a stack whose own process has settings of its own (credentials, say)
    monkeypatch.setenv("AWS_PROFILE", "the-developers-own")
    # When a function's process reads its environment
    seen = payloads([pool_of(1).invoke({"environment": True})])[0]
    # Then it holds what the function was given and nothing of the stack's, nor of the
    # server its process was forked from
    assert seen == {"PATH": "/usr/bin:/bin"}


def test_one_event_at_a_time_reuses_the_warm_process(pool_of: Any) -> None:
    # Given a function with one warm process
    pool = pool_of(4)
    # When events arrive one after the other
    results = payloads([pool.invoke({}) for _ in range(5)])
    # Then the warm process serves them all: no scaling out without need
    assert len({r["cold_start"] for r in results}) == 1
    assert pool.size == 1


def test_above_the_cap_events_wait_and_are_taken_in_arrival_order(pool_of: Any) -> None:
    # Given a function capped at 2 processes
    pool = pool_of(2)
    # When 8 events arrive one after the other, faster than they are handled
    results = payloads(invoke_all(pool, [{"sleep": 0.3, "n": n} for n in range(8)], gap=0.05))
    # Then all complete, on no more than 2 processes, started in the order they came
    assert [r["n"] for r in sorted(results, key=lambda r: r["began"])] == list(range(8))
    assert len({r["cold_start"] for r in results}) <= 2
    assert pool.size <= 2


def test_a_crashed_process_is_replaced_by_a_new_one(pool_of: Any) -> None:
    # Given a warm process
    pool = pool_of(1)
    first = pool.invoke({})
    # When its handler brings the process down
    crashed = pool.invoke({"crash": True})
    # Then that event fails, and the next one is served by a new process (a new cold start)
    after = pool.invoke({})
    assert (crashed.ok, crashed.payload) == (False, {"errorType": "RuntimeExited"})
    assert after.ok
    assert after.payload["cold_start"] != first.payload["cold_start"]


def test_a_timed_out_process_is_replaced_by_a_new_one(pool_of: Any) -> None:
    # Given a function with a 1 s timeout and a warm process
    pool = pool_of(1, timeout_seconds=1)
    first = pool.invoke({})
    # When an event takes longer than the timeout
    timed_out = pool.invoke({"sleep": 30})
    # Then it fails as timed out, and the next event gets a new process
    after = pool.invoke({})
    assert (timed_out.ok, timed_out.payload) == (False, {"errorType": "TimeoutError"})
    assert timed_out.duration_ms < 5000
    assert after.ok
    assert after.payload["cold_start"] != first.payload["cold_start"]


def test_stop_ends_busy_processes_after_the_grace_and_fails_the_queued_events(
    pool_of: Any,
) -> None:
    # Given both processes of a function busy with long events, and more events queued
    pool = pool_of(2)
    results: list[Any] = []
    thread = threading.Thread(
        target=lambda: results.extend(invoke_all(pool, [{"sleep": 30}] * 5, gap=0.05))
    )
    thread.start()
    time.sleep(2)
    # When the function is stopped with a grace of half a second
    began = time.monotonic()
    pool.stop(grace_seconds=0.5)
    thread.join(timeout=10)
    # Then it stopped within seconds, and every caller got an answer: none succeeded
    assert time.monotonic() - began < 3
    assert len(results) == 5
    assert {result.payload["errorType"] for result in results} == {"Stopped"}
    assert pool.size == 0


def test_a_function_whose_handler_cannot_be_imported_does_not_start(tmp_path: Path) -> None:
    # Given a function whose code fails on import
    pool = stand_in_pool(tmp_path, 2)
    (tmp_path / "app.py").write_text("raise ImportError('no such module')\n")
    # When it is started, then it says so
    with pytest.raises(RuntimeError, match=r"ImportError while importing app\.lambda_handler"):
        pool.start()
    pool.stop(grace_seconds=0)
