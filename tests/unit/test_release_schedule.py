"""The release rule over a whole year: every business day of every office is opened by exactly
one scheduled run, before it starts at the office, whatever the office's offset from the
release time zone, across daylight-saving changes and around holidays."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from appointments.business_days import is_business_day
from appointments.config import settings
from appointments.offices import INTERNATIONAL_OFFICE, Address, Office
from appointments.release import ReleaseSchedule, day_starts, days_to_release, opened_at
from tests.helpers import sample_offices

DEFAULT_SCHEDULE = ReleaseSchedule(at=time(17, 0), time_zone=ZoneInfo("America/New_York"))
FIRST_RUN_DAY = date(2026, 11, 30)  # a Monday; the year ahead spans every DST change of 2027


def synthetic_office(office_id: str, time_zone: str, country: str) -> Office:
    """An office abroad, open Monday to Friday, following its host country's holidays."""
    template = sample_offices()["nairobi"]
    return dataclasses.replace(
        template,
        office_id=office_id,
        kind=INTERNATIONAL_OFFICE,
        time_zone=time_zone,
        address=Address(street="1 Main St", city=office_id, state=None, postal_code=None,
                        country=country),
        closures=(),
    )  # fmt: skip


OFFICES = [
    *sample_offices().values(),
    synthetic_office("utc-minus-10", "Pacific/Tahiti", "PF"),
    synthetic_office("utc-plus-5-30", "Asia/Kolkata", "IN"),
    synthetic_office("utc-plus-9", "Asia/Tokyo", "JP"),
    synthetic_office("utc-plus-14", "Pacific/Kiritimati", "KI"),
    synthetic_office("london", "Europe/London", "GB"),
    synthetic_office("sydney", "Australia/Sydney", "AU"),
    synthetic_office("auckland", "Pacific/Auckland", "NZ"),
]


def scheduled_runs(schedule: ReleaseSchedule, days: int) -> list[datetime]:
    runs = []
    for offset in range(days):
        day = FIRST_RUN_DAY + timedelta(days=offset)
        if day.weekday() < 5:
            runs.append(datetime.combine(day, schedule.at, schedule.time_zone).astimezone(UTC))
    return runs


def openings(office: Office, runs: list[datetime], schedule: ReleaseSchedule,
             horizon: int = 1) -> dict[date, list[datetime]]:  # fmt: skip
    opened: dict[date, list[datetime]] = defaultdict(list)
    for run in runs:
        for day in days_to_release(office, run, horizon, schedule):
            opened[day].append(run)
    return opened


def business_days_between(office: Office, first: datetime, last: datetime) -> list[date]:
    zone = ZoneInfo(office.time_zone)
    day, end = first.astimezone(zone).date(), last.astimezone(zone).date()
    found = []
    while day <= end:
        if is_business_day(office, day) and first < day_starts(office, day) <= last:
            found.append(day)
        day += timedelta(days=1)
    return found


# The template's default schedule for every office; other release time zones for offices on
# both sides of them.
SCHEDULES = [(DEFAULT_SCHEDULE, office) for office in OFFICES] + [
    (ReleaseSchedule(at=at, time_zone=ZoneInfo(zone)), office)
    for at, zone in ((time(9, 30), "Asia/Tokyo"), (time(0, 0), "Pacific/Honolulu"))
    for office in OFFICES
    if office.office_id in {"honolulu", "new-york", "nairobi", "utc-plus-14", "sydney"}
]


@pytest.mark.parametrize(
    ("schedule", "office"),
    SCHEDULES,
    ids=[f"{s.at:%H:%M} {s.time_zone.key}-{o.office_id}" for s, o in SCHEDULES],
)
def test_every_business_day_opens_exactly_once_before_it_starts(
    schedule: ReleaseSchedule, office: Office
) -> None:
    # Given a year of scheduled runs, Monday to Friday
    runs = scheduled_runs(schedule, 366)
    # When each run opens what the rule says
    opened = openings(office, runs, schedule)
    # Then every business day between the first and the last run is opened, by one run only,
    # before the day starts at the office, and nothing else is opened
    expected = business_days_between(office, runs[0], runs[-1])
    assert sorted(day for day in opened if day_starts(office, day) <= runs[-1]) == expected
    for day, by in opened.items():
        assert is_business_day(office, day), f"{day} is not a business day"
        assert len(by) == 1, f"{day} opened {len(by)} times"
        assert by[0] < day_starts(office, day), f"{day} opened after it started"


@pytest.mark.parametrize("office", OFFICES, ids=lambda office: office.office_id)
def test_a_longer_horizon_opens_each_day_earlier_and_reopens_nothing_new(office: Office) -> None:
    # Given three release days of horizon
    runs = scheduled_runs(DEFAULT_SCHEDULE, 366)
    opened = openings(office, runs, DEFAULT_SCHEDULE, horizon=3)
    # Then each business day is first opened before it starts, and at most three runs see it
    for day in business_days_between(office, runs[2], runs[-1]):
        assert day in opened, f"{day} never opened"
        assert opened[day][0] < day_starts(office, day)
        assert len(opened[day]) <= 3


@pytest.mark.parametrize("office_id", ["nairobi", "new-delhi"])
def test_fridays_run_opens_monday_and_tuesday_east_of_new_york(office_id: str) -> None:
    # Given an office whose Tuesday starts before Monday's 17:00 run in New York
    office = sample_offices()[office_id]
    friday = datetime(2026, 12, 4, 22, 0, tzinfo=UTC)
    monday = datetime(2026, 12, 7, 22, 0, tzinfo=UTC)
    # Then Friday's run opens both Monday and Tuesday, and Monday's run opens Wednesday
    assert days_to_release(office, friday, 1, DEFAULT_SCHEDULE) == [date(2026, 12, 7),
                                                                    date(2026, 12, 8)]  # fmt: skip
    assert days_to_release(office, monday, 1, DEFAULT_SCHEDULE) == [date(2026, 12, 9)]


def test_thanksgivings_run_opens_friday_for_a_domestic_office() -> None:
    # Given the run on Thanksgiving (the schedule runs on holidays too)
    new_york = sample_offices()["new-york"]
    wednesday = datetime(2026, 11, 25, 22, 0, tzinfo=UTC)
    thursday = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)
    # Then Wednesday's run opens nothing (Thursday is a holiday) and Thursday's opens Friday
    assert days_to_release(new_york, wednesday, 1, DEFAULT_SCHEDULE) == []
    assert days_to_release(new_york, thursday, 1, DEFAULT_SCHEDULE) == [date(2026, 11, 27)]


def test_a_late_run_opens_the_days_of_the_run_it_belongs_to() -> None:
    # Given Monday's run, retried 40 minutes late, after an office's Tuesday has begun
    cairo = synthetic_office("cairo", "Africa/Cairo", "EG")
    on_time = datetime(2026, 12, 7, 22, 0, tzinfo=UTC)  # 17:00 New York, 00:00 Cairo
    late = on_time + timedelta(minutes=40)
    # Then it still opens what the on-time run would have, rather than losing a day
    assert days_to_release(cairo, late, 1, DEFAULT_SCHEDULE) == days_to_release(
        cairo, on_time, 1, DEFAULT_SCHEDULE
    )


@pytest.mark.parametrize("horizon", [1, 3])
@pytest.mark.parametrize("office", OFFICES, ids=lambda office: office.office_id)
def test_each_day_names_the_release_that_opened_it(
    office: Office, horizon: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a year of runs with a horizon
    monkeypatch.setattr(settings(), "release_horizon_days", horizon)
    runs = scheduled_runs(DEFAULT_SCHEDULE, 366)
    opened = openings(office, runs, DEFAULT_SCHEDULE, horizon)
    # Then the release a day names (for the seconds its seats took to go) is the run that
    # opened it first
    for day, by in opened.items():
        if by[0] != runs[0]:  # days the first run opened were due to earlier runs
            assert opened_at(office, day, DEFAULT_SCHEDULE) == by[0], day
