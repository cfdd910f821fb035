"""Scheduled functions fire at start-up and then on their template schedules."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from infra.local.lambda_runtime import Invocation
from infra.local.schedule_runner import ScheduleRunner, scheduled_functions
from infra.local.schedules import parse
from infra.local.template import FunctionSpec
from tests.helpers import REPO_ROOT


def spec_with(events: dict[str, Any]) -> FunctionSpec:
    return FunctionSpec(
        logical_id="ReleaseFunction",
        code_dir=REPO_ROOT,
        handler="app.lambda_handler",
        runtime="python3.12",
        timeout_seconds=3,
        memory_mb=128,
        layer_dirs=(),
        environment={},
        events=events,
    )


def test_scheduler_v2_events_are_read_with_their_time_zone_and_input() -> None:
    spec = spec_with(
        {
            "Daily": {
                "Type": "ScheduleV2",
                "Properties": {
                    "ScheduleExpression": "cron(0 17 ? * MON-FRI *)",
                    "ScheduleExpressionTimezone": "America/New_York",
                    "Input": '{"horizon": 1}',
                },
            },
            "Api": {"Type": "Api", "Properties": {"Path": "/x", "Method": "GET"}},
        }
    )
    (scheduled,) = scheduled_functions([spec])
    assert scheduled.function == "ReleaseFunction"
    assert scheduled.schedule == parse("cron(0 17 ? * MON-FRI *)", "America/New_York")
    assert scheduled.payload == {"horizon": 1}


def test_disabled_schedules_do_not_fire() -> None:
    spec = spec_with(
        {
            "Off": {
                "Type": "ScheduleV2",
                "Properties": {"ScheduleExpression": "rate(1 minute)", "State": "DISABLED"},
            }
        }
    )
    assert scheduled_functions([spec]) == []


def test_fires_once_at_start_up_then_at_the_next_fire_time() -> None:
    # Given a schedule every minute and a clock 50 ms before the next fire time
    spec = spec_with(
        {"Tick": {"Type": "ScheduleV2", "Properties": {"ScheduleExpression": "cron(* * * * ? *)"}}}
    )
    start = datetime(2026, 11, 25, 22, 0, 59, 950000, tzinfo=UTC)
    fired = threading.Event()
    calls: list[dict[str, Any]] = []

    def invoke(function: str, event: dict[str, Any]) -> Invocation:
        calls.append(event)
        if len(calls) == 2:
            fired.set()
        return Invocation(True, None, 1.0)

    offset = datetime.now(UTC) - start
    runner = ScheduleRunner(
        scheduled_functions([spec]),
        invoke,
        log=lambda _: None,
        clock=lambda: datetime.now(UTC) - offset,
    )
    # When the runner starts
    runner.start()
    try:
        assert fired.wait(timeout=5)
    finally:
        runner.stop()
    # Then it fired at start-up and again at 22:01:00, each time with the scheduler's input
    assert calls == [{}, {}]


def test_rule_schedules_get_the_scheduled_event_shape() -> None:
    spec = spec_with({"Rule": {"Type": "Schedule", "Properties": {"Schedule": "rate(1 day)"}}})
    got: list[dict[str, Any]] = []
    done = threading.Event()

    def invoke(function: str, event: dict[str, Any]) -> Invocation:
        got.append(event)
        done.set()
        return Invocation(True, None, 1.0)

    runner = ScheduleRunner(scheduled_functions([spec]), invoke, log=lambda _: None)
    runner.start()
    assert done.wait(timeout=5)
    runner.stop()
    assert got[0]["detail-type"] == "Scheduled Event"
    assert got[0]["source"] == "aws.events"
    assert datetime.fromisoformat(got[0]["time"]) - datetime.now(UTC) < timedelta(minutes=1)
