"""The daily slot release: which days of which office open, and when.

The release runs on a schedule of its own (Monday to Friday at one time of one time zone, as
`template.yaml` schedules it), while every office lives in its own time zone. The rule that
ties them together: **a business day of an office is opened by the last scheduled release
before that day starts at the office** (local midnight). The scheduled runs cut time into
consecutive windows (run, next run]; each run opens the office days that start inside its
window. Every day starts in exactly one window, so it is opened exactly once and before it
starts, whatever the office's offset from the release time zone and across daylight-saving
changes on either side: Friday's run opens Monday for New York and both Monday and Tuesday
for Nairobi, whose Tuesday starts before Monday's run.

A run belongs to the last scheduled time at or before it, so a run retried late still opens
its own days rather than losing them. With a horizon of N, a run also opens what the next
N - 1 runs would, so a missed run is caught up by the next one. Opening a day never writes
over an existing slot: running twice (or two runs at once) creates nothing twice and keeps
every booking.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from appointments.business_days import is_business_day
from appointments.config import settings
from appointments.offices import Office, catalogue
from appointments.slots import OpenedDay, open_day, plan_day

# The release's weekdays, Monday to Friday (the template's schedule: cron(… MON-FRI …)).
RELEASE_WEEKDAYS = frozenset(range(5))


@dataclass(frozen=True)
class ReleaseSchedule:
    """When the release runs: on the release weekdays at `at` in `time_zone`."""

    at: time
    time_zone: ZoneInfo

    @classmethod
    def configured(cls) -> ReleaseSchedule:
        return cls(
            at=time.fromisoformat(settings().release_time),
            time_zone=ZoneInfo(settings().release_time_zone),
        )

    def _run_on(self, day: date) -> datetime | None:
        if day.weekday() not in RELEASE_WEEKDAYS:
            return None
        return datetime.combine(day, self.at, self.time_zone).astimezone(UTC)

    def latest_run(self, now: datetime) -> datetime:
        """The scheduled run `now` belongs to: the last one at or before it."""
        day = now.astimezone(self.time_zone).date()
        while (run := self._run_on(day)) is None or run > now:
            day -= timedelta(days=1)
        return run

    def run_before(self, run: datetime, count: int) -> datetime:
        """The `count`-th scheduled run before `run` (`run` itself for 0)."""
        day = run.astimezone(self.time_zone).date()
        while count:
            day -= timedelta(days=1)
            if self._run_on(day) is not None:
                count -= 1
        earlier = self._run_on(day)
        assert earlier is not None
        return earlier

    def run_after(self, run: datetime, count: int) -> datetime:
        """The `count`-th scheduled run after `run`."""
        day = run.astimezone(self.time_zone).date()
        while count:
            day += timedelta(days=1)
            if self._run_on(day) is not None:
                count -= 1
        next_run = self._run_on(day)
        assert next_run is not None
        return next_run


def opened_at(office: Office, day: date, schedule: ReleaseSchedule | None = None) -> datetime:
    """When the scheduled release that opens `day` of the office runs: the earliest run whose
    window (with the configured horizon) holds the day's start (see days_to_release)."""
    schedule = schedule or ReleaseSchedule.configured()
    last_before = schedule.latest_run(day_starts(office, day) - timedelta(microseconds=1))
    return schedule.run_before(last_before, settings().release_horizon_days - 1)


def seconds_after_release(office: Office, day: date, now: datetime) -> float:
    """How long after the release that opened `day` a seat of it is taken now: the seconds
    the released seats took to go (metric SecondsAfterRelease)."""
    return max(0.0, (now - opened_at(office, day)).total_seconds())


def day_starts(office: Office, day: date) -> datetime:
    """The instant `day` begins at the office (its local midnight)."""
    return datetime.combine(day, time.min, ZoneInfo(office.time_zone)).astimezone(UTC)


def _office_days(office: Office, since: datetime, until: datetime) -> Iterator[date]:
    zone = ZoneInfo(office.time_zone)
    day, last = since.astimezone(zone).date(), until.astimezone(zone).date()
    while day <= last:
        yield day
        day += timedelta(days=1)


def days_to_release(
    office: Office, now: datetime, horizon: int, schedule: ReleaseSchedule
) -> list[date]:
    """The office's business days that start after the run `now` belongs to and no later than
    the `horizon`-th run after it."""
    since = schedule.latest_run(now)
    until = schedule.run_after(since, horizon)
    return [
        day
        for day in _office_days(office, since, until)
        if since < day_starts(office, day) <= until and is_business_day(office, day)
    ]


@dataclass(frozen=True)
class ReleaseSummary:
    horizon: int
    dry_run: bool
    days: list[OpenedDay] = field(default_factory=list)
    offices_listed: int = 0  # offices the run looked at (none: the offices table is empty)

    @property
    def offices(self) -> int:
        return len({day.office_id for day in self.days})

    @property
    def slots_opened(self) -> int:
        return sum(day.created for day in self.days)

    @property
    def slots_present(self) -> int:
        return sum(day.already_present for day in self.days)

    @property
    def furthest_day(self) -> date | None:
        return max((day.day for day in self.days), default=None)

    def log_fields(self) -> dict[str, Any]:
        """The run's one structured log line."""
        return {
            "dry_run": self.dry_run,
            "horizon": self.horizon,
            "offices": self.offices,
            "office_days": len(self.days),
            "slots_opened": self.slots_opened,
            "slots_already_present": self.slots_present,
            "furthest_day": self.furthest_day.isoformat() if self.furthest_day else None,
        }

    @property
    def shortfall(self) -> int:
        """Office days due that the run left without a slot, and one more if it found no office
        at all: a release that opened nothing where it should have."""
        empty_days = sum(1 for day in self.days if day.created + day.already_present == 0)
        return empty_days + (0 if self.offices_listed else 1)

    def metrics(self) -> dict[str, int]:
        # Every completed run beats, the weekend's dry runs included: the release alarms
        # (template.yaml) fire on a day without a beat, and on a shortfall.
        if self.dry_run:
            return {"ReleaseHeartbeat": 1, "DryRunReleases": 1}
        return {
            "ReleaseHeartbeat": 1,
            "OfficeDaysReleased": len(self.days),
            "SlotsOpened": self.slots_opened,
            "SlotsAlreadyPresent": self.slots_present,
            "ReleaseShortfall": self.shortfall,
        }

    def as_response(self) -> dict[str, Any]:
        """What the release function returns (camelCase, like the API)."""
        return {
            "dryRun": self.dry_run,
            "horizon": self.horizon,
            "offices": self.offices,
            "slotsOpened": self.slots_opened,
            "slotsAlreadyPresent": self.slots_present,
            "days": [
                {
                    "officeId": day.office_id,
                    "date": day.day.isoformat(),
                    "slotsOpened": day.created,
                    "slotsAlreadyPresent": day.already_present,
                }
                for day in self.days
            ],
        }


class ScheduleInput(BaseModel):
    """The schedule's input: {} normally, {"dryRun": true} to list what would open without
    writing, {"horizon": N} to open N release days ahead for this run."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    dry_run: bool = Field(default=False, alias="dryRun")
    horizon: int | None = Field(default=None, ge=1, le=60)


def release_on_schedule(schedule_input: dict[str, Any] | None, now: datetime) -> ReleaseSummary:
    """The scheduled run: the configured horizon unless the input names one."""
    given = ScheduleInput.model_validate(schedule_input or {})
    horizon = given.horizon or settings().release_horizon_days
    return release(now, horizon=horizon, dry_run=given.dry_run)


def release(
    now: datetime,
    *,
    horizon: int = 1,
    dry_run: bool = False,
    offices: list[Office] | None = None,
    schedule: ReleaseSchedule | None = None,
) -> ReleaseSummary:
    if horizon < 1:
        raise ValueError("the horizon is at least one release")
    chosen = (
        offices
        if offices is not None
        else sorted(catalogue.all().values(), key=lambda office: office.office_id)
    )
    when = schedule or ReleaseSchedule.configured()
    act = plan_day if dry_run else open_day
    days = [
        act(office, day) for office in chosen for day in days_to_release(office, now, horizon, when)
    ]
    return ReleaseSummary(horizon=horizon, dry_run=dry_run, days=days, offices_listed=len(chosen))
