"""EventBridge Scheduler (`ScheduleV2` events) locally: each schedule fires its function at
start-up, so a fresh stack has what a run would have made (the next business day's slots), then
at every fire time of its cron() in its `ScheduleExpressionTimezone`.

Fire times come from croniter, the most used and actively maintained cron library (release
2026-11): it iterates in an IANA time zone with zoneinfo and handles daylight-saving changes;
pyawscron (last release 2024) and dateutil.rrule would need the AWS grammar or a second
translation. AWS cron (minutes hours day-of-month month day-of-week year) becomes croniter's five
fields: `?` is `*`, the year must be `*`, AWS days 1=SUN … 7=SAT become 0=SUN … 6=SAT (names stay).
As EventBridge Scheduler documents, a wall time the spring change skips does not fire, and one
the autumn change repeats fires once. Only what the template declares is run; anything else
(rate(), at(), L, W, #, StartDate, EndDate, `Schedule` rule events) fails at start, naming the
property, rather than firing at the wrong times.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from infra.local.lambda_runtime import Invocation
from infra.local.template import FunctionSpec, References, resolve

_CRON = re.compile(r"cron\(([^()]*)\)")
_CRON_ITEM = r"(\*|[0-9]+|[A-Z]{3})(-([0-9]+|[A-Z]{3}))?(/[0-9]+)?"  # no L, W, # (nor H, R)
_CRON_FIELD = re.compile(rf"{_CRON_ITEM}(,{_CRON_ITEM})*")


@dataclass(frozen=True)
class Schedule:
    expression: str  # as the template has it
    zone: ZoneInfo
    cron: str  # croniter's five fields

    def next_after(self, moment: datetime) -> datetime:
        """The first fire time strictly after `moment` (aware), in UTC."""
        times = croniter(self.cron, moment.astimezone(self.zone))
        while True:
            local = times.get_next(datetime).astimezone(self.zone)
            # croniter moves a skipped wall time to the end of the gap and fires a repeated one
            # twice; EventBridge Scheduler does neither.
            if local.fold == 0 and croniter.match(self.cron, local.replace(tzinfo=None)):
                return local.astimezone(UTC)


def parse(expression: str, time_zone: str = "UTC") -> Schedule:
    """Raises ValueError naming the property the local scheduler cannot run."""
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"ScheduleExpressionTimezone {time_zone!r} is no IANA time zone") from None
    try:
        schedule = Schedule(expression, zone, _croniter_form(expression))
        schedule.next_after(datetime.now(UTC))  # croniter fails on a date that never comes
    except ValueError as error:
        raise ValueError(f"ScheduleExpression {expression!r}: {error}") from None
    return schedule


def _croniter_form(expression: str) -> str:
    match = _CRON.fullmatch(expression.strip())
    if match is None:
        raise ValueError("the local scheduler runs cron(...) only, not rate(...) or at(...)")
    fields = match[1].upper().split()
    if len(fields) != 6:
        raise ValueError("cron() takes six fields: minutes hours day-of-month month weekday year")
    minutes, hours, day_of_month, month, day_of_week, year = fields
    if year != "*":
        raise ValueError("the year must be '*' in the local scheduler")
    if (day_of_month == "?") == (day_of_week == "?"):
        raise ValueError("exactly one of day-of-month and day-of-week must be '?'")
    for index, text in enumerate(fields[:5]):
        if not (_CRON_FIELD.fullmatch(text) or (text == "?" and index in (2, 4))):
            raise ValueError(
                f"{text!r} is not supported: use values, names, *, a-b, /n, a,b (no L, W or #)"
            )
    if "/" in day_of_week:
        raise ValueError("AWS allows no '/' in day-of-week")
    if not all(1 <= int(number) <= 7 for number in re.findall("[0-9]+", day_of_week)):
        raise ValueError("day-of-week numbers run from 1 (SUN) to 7 (SAT)")
    day_of_week = re.sub("[0-9]+", lambda number: str(int(number[0]) - 1), day_of_week)
    form = " ".join((minutes, hours, day_of_month, month, day_of_week)).replace("?", "*")
    if not croniter.is_valid(form):
        raise ValueError("a value is out of range or unknown")
    return form


@dataclass(frozen=True)
class ScheduledFunction:
    function: str  # logical id
    event_name: str
    schedule: Schedule
    payload: dict[str, Any] | None  # the target's Input; None: the Scheduler's own event
    arn: str


def scheduled_functions(
    specs: list[FunctionSpec], references: References | None = None
) -> list[ScheduledFunction]:
    """The template's enabled schedules, with Ref/Sub in their properties resolved."""
    references = references or References()
    region, account = references.ref("AWS::Region"), references.ref("AWS::AccountId")
    found = []
    for spec in specs:
        for event_name, event in spec.events.items():
            where = f"{spec.logical_id} event {event_name}"
            if event.get("Type") == "Schedule":
                raise ValueError(f"{where}: Type Schedule (an EventBridge rule) is not run locally")
            if event.get("Type") != "ScheduleV2":
                continue
            # Only what is played is resolved: the DLQ and the retry policy are the Scheduler's
            # own (a local run that fails is logged by the stack).
            properties = {
                key: resolve(value, references)
                for key, value in event.get("Properties", {}).items()
                if key not in {"DeadLetterConfig", "RetryPolicy", "Description"}
            }
            if unsupported := sorted({"StartDate", "EndDate"} & properties.keys()):
                raise ValueError(f"{where}: {', '.join(unsupported)} is not run locally")
            if properties.get("State") == "DISABLED":
                continue
            try:
                schedule = parse(
                    properties["ScheduleExpression"],
                    properties.get("ScheduleExpressionTimezone", "UTC"),
                )
            except ValueError as error:
                raise ValueError(f"{where}: {error}") from None
            payload = json.loads(properties["Input"]) if "Input" in properties else None
            name = f"{references.ref('AWS::StackName')}-{spec.logical_id}{event_name}"
            arn = f"arn:aws:scheduler:{region}:{account}:schedule/default/{name}"
            found.append(ScheduledFunction(spec.logical_id, event_name, schedule, payload, arn))
    return found


def scheduler_event(scheduled: ScheduledFunction, moment: datetime) -> dict[str, Any]:
    """The target's Input, else the notification EventBridge Scheduler sends a Lambda target."""
    if scheduled.payload is not None:
        return scheduled.payload
    _, _, _, region, account, _ = scheduled.arn.split(":", 5)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.scheduler",
        "account": account,
        "time": moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [scheduled.arn],
        "detail": "{}",  # a JSON string, unlike EventBridge rules' object
    }


@dataclass
class ScheduleRunner:
    """One thread per schedule: fire at start-up, then at every fire time until stopped."""

    scheduled: list[ScheduledFunction]
    invoke: Callable[[str, dict[str, Any]], Invocation]
    log: Callable[[str], None] = print
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        for scheduled in self.scheduled:
            name = f"schedule:{scheduled.function}"
            thread = threading.Thread(target=self._run, args=(scheduled,), name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def _run(self, scheduled: ScheduledFunction) -> None:
        moment = self.clock()
        while True:
            invocation = self.invoke(scheduled.function, scheduler_event(scheduled, moment))
            outcome = "ok" if invocation.ok else f"failed ({invocation.payload.get('errorType')})"
            moment = scheduled.schedule.next_after(moment)
            self.log(
                f"schedule {scheduled.function}.{scheduled.event_name}: {outcome}; next at "
                f"{moment.astimezone(scheduled.schedule.zone).isoformat()}"
            )
            if self._stop.wait(max(0.0, (moment - self.clock()).total_seconds())):
                return

    def stop(self, timeout: float = 5) -> None:
        """No schedule fires after this; a run in flight gets up to `timeout` seconds in all."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
