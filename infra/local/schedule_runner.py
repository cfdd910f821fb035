"""Firing the template's scheduled functions locally, on the schedules they declare.

EventBridge Scheduler (`ScheduleV2`) and EventBridge rule (`Schedule`) events both fire here,
in the schedule's own time zone, and once at start-up so a fresh local stack has the data a
schedule would have made (for example the next business day's slots).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from infra.local.lambda_runtime import Invocation
from infra.local.schedules import Schedule, parse
from infra.local.template import FunctionSpec, References, resolve

SCHEDULE_EVENT_TYPES = ("ScheduleV2", "Schedule")


@dataclass(frozen=True)
class ScheduledFunction:
    function: str  # logical id
    event_name: str
    schedule: Schedule
    payload: dict[str, Any] | None  # the target's Input; None means the scheduled-event shape
    kind: str


def scheduled_functions(
    specs: list[FunctionSpec], references: References | None = None
) -> list[ScheduledFunction]:
    """The schedules of the template's functions, with Ref/Sub in their settings resolved."""
    found = []
    for spec in specs:
        for event_name, event in spec.events.items():
            kind = event.get("Type")
            if kind not in SCHEDULE_EVENT_TYPES:
                continue
            properties = resolve(event.get("Properties", {}), references or References())
            if properties.get("State", "ENABLED") == "DISABLED" or not properties.get(
                "Enabled", True
            ):
                continue
            expression = properties.get("ScheduleExpression") or properties["Schedule"]
            time_zone = properties.get("ScheduleExpressionTimezone", "UTC")
            raw_input = properties.get("Input")
            payload = json.loads(raw_input) if isinstance(raw_input, str) else raw_input
            if payload is None and kind == "ScheduleV2":
                payload = {}
            found.append(
                ScheduledFunction(
                    spec.logical_id, event_name, parse(expression, time_zone), payload, kind
                )
            )
    return found


def _event(scheduled: ScheduledFunction, moment: datetime) -> dict[str, Any]:
    if scheduled.payload is not None:
        return scheduled.payload
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": [f"arn:aws:events:us-east-1:123456789012:rule/{scheduled.event_name}"],
        "detail": {},
    }


class ScheduleRunner:
    """One thread per schedule: fire at start-up, then at every fire time until stopped."""

    def __init__(
        self,
        scheduled: list[ScheduledFunction],
        invoke: Callable[[str, dict[str, Any]], Invocation],
        log: Callable[[str], None] = print,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.scheduled = scheduled
        self.invoke = invoke
        self.log = log
        self.clock = clock
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for scheduled in self.scheduled:
            thread = threading.Thread(
                target=self._run, args=(scheduled,), name=f"schedule:{scheduled.function}"
            )
            thread.daemon = True
            thread.start()
            self._threads.append(thread)

    def _fire(self, scheduled: ScheduledFunction, moment: datetime) -> None:
        invocation = self.invoke(scheduled.function, _event(scheduled, moment))
        outcome = "ok" if invocation.ok else f"failed ({invocation.payload.get('errorType')})"
        self.log(f"schedule {scheduled.function}.{scheduled.event_name}: {outcome}")

    def _run(self, scheduled: ScheduledFunction) -> None:
        previous = self.clock()
        self._fire(scheduled, previous)
        while not self._stop.is_set():
            upcoming = scheduled.schedule.next_after(previous)
            if upcoming is None:
                return
            self.log(
                f"schedule {scheduled.function}.{scheduled.event_name}: next at "
                f"{upcoming.isoformat()} ({scheduled.schedule.expression}, "
                f"{scheduled.schedule.time_zone})"
            )
            if self._stop.wait(max(0.0, (upcoming - self.clock()).total_seconds())):
                return
            self._fire(scheduled, upcoming)
            previous = upcoming

    def stop(self, timeout: float = 5) -> None:
        """No schedule fires after this; a run in flight gets up to `timeout` seconds in all."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
