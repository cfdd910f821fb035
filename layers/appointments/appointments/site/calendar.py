"""A month of the days with free seats, laid out as a calendar (weeks from Monday)."""

from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass
from datetime import date, timedelta

from appointments.languages import month_text, weekday_names
from appointments.slots import FreeDay


@dataclass(frozen=True)
class CalendarDay:
    day: date
    available: int  # free seats; 0: nothing to book that day


@dataclass(frozen=True)
class Month:
    first: date  # the month's first day
    title: str  # "December 2026", in the page's language
    weekdays: tuple[str, ...]  # column heads, Monday first
    weekday_names: tuple[str, ...]  # the same, written out (for screen readers)
    weeks: list[list[CalendarDay | None]]  # None: a day of another month
    previous: date | None  # first day of the month before, if it can be shown
    next: date | None

    @property
    def has_free_days(self) -> bool:
        return any(day and day.available for week in self.weeks for day in week)


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def previous_month(day: date) -> date:
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


def month_end(day: date) -> date:
    return next_month(day) - timedelta(days=1)


def month_of(
    first: date, free_days: list[FreeDay], language: str, *, earliest: date, latest: date
) -> Month:
    """The calendar of `first`'s month; months outside earliest..latest are not offered."""
    seats = {free.day: free.available for free in free_days}
    weeks = [
        [CalendarDay(day, seats.get(day, 0)) if day.month == first.month else None for day in week]
        for week in _calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    ]
    before, after = previous_month(first), next_month(first)
    return Month(
        first=first,
        title=month_text(first, language),
        weekdays=weekday_names(language),
        weekday_names=weekday_names(language, wide=True),
        weeks=weeks,
        previous=before if month_end(before) >= earliest else None,
        next=after if after <= latest else None,
    )
