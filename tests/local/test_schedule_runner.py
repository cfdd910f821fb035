"""Scheduled functions fire at start-up and then on their template schedules."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from infra.local.lambda_runtime import Invocation
from infra.local.schedule_runner import ScheduleRunner, parse, scheduled_functions
from infra.local.template import FunctionSpec
from tests.helpers import REPO_ROOT

EVERY_MINUTE = {"ScheduleExpression": "cron(* * * * ? *)"}


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


def every_minute(**properties: Any) -> FunctionSpec:
    return spec_with({"Tick": {"Type": "ScheduleV2", "Properties": EVERY_MINUTE | properties}})


class Recorder:
    """Records the events a runner invokes with; `fired(n)` waits for the n-th."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self._changed = threading.Condition()

    def invoke(self, function: str, event: dict[str, Any]) -> Invocation:
        with self._changed:
            self.events.append(event)
            self._changed.notify_all()
        return Invocation(True, None, 1.0)

    def fired(self, count: int, timeout: float = 5) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: len(self.events) >= count, timeout)


def runner_at(start: datetime, spec: FunctionSpec, recorder: Recorder) -> ScheduleRunner:
    """A runner whose clock starts at `start` and runs at real speed."""
    offset = datetime.now(UTC) - start
    return ScheduleRunner(
        scheduled_functions([spec]),
        recorder.invoke,
        log=lambda _: None,
        clock=lambda: datetime.now(UTC) - offset,
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
    assert scheduled_functions([every_minute(State="DISABLED")]) == []


def test_fires_once_at_start_up_then_at_the_next_fire_time() -> None:
    # Given a schedule every minute and a clock 50 ms before the next fire time
    recorder = Recorder()
    runner = runner_at(
        datetime(2026, 11, 25, 22, 0, 59, 950000, tzinfo=UTC), every_minute(), recorder
    )

    # When the runner starts
    runner.start()
    try:
        assert recorder.fired(2)
    finally:
        runner.stop()

    # Then it fired at start-up and again at 22:01:00
    assert [event["time"] for event in recorder.events] == [
        "2026-11-25T22:00:59Z",
        "2026-11-25T22:01:00Z",
    ]


def test_input_is_the_event_when_the_schedule_has_one() -> None:
    # Given a schedule with an Input
    recorder = Recorder()
    runner = runner_at(datetime.now(UTC), every_minute(Input='{"dryRun": true}'), recorder)

    # When the runner starts
    runner.start()
    try:
        assert recorder.fired(1)
    finally:
        runner.stop()

    # Then the function gets the Input alone
    assert recorder.events == [{"dryRun": True}]


def test_without_input_the_event_is_the_scheduler_notification() -> None:
    # Given a schedule without Input, in the default stack
    recorder = Recorder()
    runner = runner_at(datetime(2026, 11, 25, 22, 0, 30, tzinfo=UTC), every_minute(), recorder)

    # When the runner starts
    runner.start()
    try:
        assert recorder.fired(1)
    finally:
        runner.stop()

    # Then the function gets the notification EventBridge Scheduler sends a Lambda target
    (event,) = recorder.events
    assert event | {"id": "any"} == {
        "version": "0",
        "id": "any",
        "detail-type": "Scheduled Event",
        "source": "aws.scheduler",
        "account": "123456789012",
        "time": "2026-11-25T22:00:30Z",
        "region": "us-east-1",
        "resources": [
            "arn:aws:scheduler:us-east-1:123456789012:schedule/default/local-ReleaseFunctionTick"
        ],
        "detail": "{}",
    }


def test_nothing_fires_after_stop() -> None:
    # Given a runner that fired at start-up, 300 ms before its next fire time
    recorder = Recorder()
    runner = runner_at(
        datetime(2026, 11, 25, 22, 0, 59, 700000, tzinfo=UTC), every_minute(), recorder
    )
    runner.start()
    assert recorder.fired(1)

    # When it stops, and the fire time passes
    runner.stop()
    time.sleep(0.5)

    # Then it fired only at start-up
    assert len(recorder.events) == 1


def test_unsupported_expression_fails_naming_the_function_event_and_property() -> None:
    # Given a schedule with a rate() expression, which the template does not use
    spec = spec_with(
        {"Tick": {"Type": "ScheduleV2", "Properties": {"ScheduleExpression": "rate(1 day)"}}}
    )

    # When the schedules are read, then the error names where and what
    with pytest.raises(
        ValueError, match=r"ReleaseFunction event Tick: ScheduleExpression 'rate\(1 day\)'"
    ):
        scheduled_functions([spec])


def test_eventbridge_rule_schedules_fail() -> None:
    spec = spec_with({"Rule": {"Type": "Schedule", "Properties": {"Schedule": "rate(1 day)"}}})

    with pytest.raises(ValueError, match="ReleaseFunction event Rule: Type Schedule"):
        scheduled_functions([spec])


def test_start_and_end_dates_fail() -> None:
    spec = every_minute(StartDate="2027-01-01T00:00:00Z")

    with pytest.raises(ValueError, match="ReleaseFunction event Tick: StartDate"):
        scheduled_functions([spec])
