"""The daily slot release: every office's next business day opens for booking.

Each office is handled in its own time zone: its "today" is its local date at the moment of
the release, and the days released are its next `horizon` business days (weekends, the
office's public holidays and its closures skipped). Every run releases every business day
inside the horizon that is not open yet, so a missed run is caught up by the next one, and
since opening a day never writes over an existing slot, running twice (or two runs at once)
creates nothing twice and keeps every booking.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from appointments.business_days import business_days_after, local_today
from appointments.offices import Office, catalogue
from appointments.slots import OpenedDay, open_day, plan_day


@dataclass(frozen=True)
class ReleaseSummary:
    horizon: int
    dry_run: bool
    days: list[OpenedDay] = field(default_factory=list)

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


def days_to_release(office: Office, now: datetime, horizon: int) -> list[date]:
    """The office's next `horizon` business days after its own today."""
    return business_days_after(office, local_today(office, now), horizon)


def release(
    now: datetime,
    *,
    horizon: int = 1,
    dry_run: bool = False,
    offices: list[Office] | None = None,
) -> ReleaseSummary:
    if horizon < 1:
        raise ValueError("the horizon is at least one business day")
    chosen = (
        offices
        if offices is not None
        else sorted(catalogue.all().values(), key=lambda office: office.office_id)
    )
    act = plan_day if dry_run else open_day
    days = [act(office, day) for office in chosen for day in days_to_release(office, now, horizon)]
    return ReleaseSummary(horizon=horizon, dry_run=dry_run, days=days)
