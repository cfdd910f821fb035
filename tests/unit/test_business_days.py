"""Business days per office, 2026-2027: weekends, federal holidays with observed dates, the
host country's holidays abroad, closures, and each office's own time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from appointments.business_days import is_business_day
from appointments.release import ReleaseSchedule, days_to_release
from tests.helpers import business_days_after, sample_offices

OFFICES = sample_offices()
NEW_YORK = OFFICES["new-york"]
SCHEDULE = ReleaseSchedule(at=time(17, 0), time_zone=ZoneInfo("America/New_York"))


@pytest.mark.parametrize(
    ("run_on", "opens", "why"),
    [
        (date(2026, 11, 25), date(2026, 11, 27), "Thursday is Thanksgiving"),
        (date(2026, 12, 24), date(2026, 12, 28), "Christmas falls on a Friday"),
        (date(2027, 6, 17), date(2027, 6, 21), "Juneteenth (Saturday) observed on Friday"),
        (date(2027, 12, 30), date(2028, 1, 3), "New Year's Day 2028 observed on 2027-12-31"),
        (date(2027, 12, 23), date(2027, 12, 27), "Christmas 2027 observed on Friday 24th"),
        (date(2026, 7, 2), date(2026, 7, 6), "Independence Day observed on Friday 3rd"),
        (date(2026, 11, 13), date(2026, 11, 16), "a plain Friday opens Monday"),
        (date(2026, 11, 10), date(2026, 11, 12), "Veterans Day on Wednesday"),
    ],
)
def test_next_business_day_of_a_domestic_office(run_on: date, opens: date, why: str) -> None:
    assert business_days_after(NEW_YORK, run_on, 1) == [opens], why


def test_no_weekend_or_federal_holiday_is_a_business_day_in_2026_and_2027() -> None:
    federal_2026_2027 = {
        date(2026, 1, 1), date(2026, 1, 19), date(2026, 2, 16), date(2026, 5, 25),
        date(2026, 6, 19), date(2026, 7, 3), date(2026, 9, 7), date(2026, 10, 12),
        date(2026, 11, 11), date(2026, 11, 26), date(2026, 12, 25), date(2027, 1, 1),
        date(2027, 1, 18), date(2027, 2, 15), date(2027, 5, 31), date(2027, 6, 18),
        date(2027, 7, 5), date(2027, 9, 6), date(2027, 10, 11), date(2027, 11, 11),
        date(2027, 11, 25), date(2027, 12, 24), date(2027, 12, 31),
    }  # fmt: skip
    day = date(2026, 1, 1)
    while day.year < 2028:
        expected = day.weekday() < 5 and day not in federal_2026_2027
        assert is_business_day(NEW_YORK, day) is expected, day
        day += timedelta(days=1)


def test_international_office_follows_its_host_countrys_holidays() -> None:
    # Mexico's Revolution Day is observed on Monday 2026-11-16; Thanksgiving is not a holiday
    mexico_city = OFFICES["mexico-city"]
    assert business_days_after(mexico_city, date(2026, 11, 13), 1) == [date(2026, 11, 17)]
    assert business_days_after(mexico_city, date(2026, 11, 25), 1) == [date(2026, 11, 26)]


def test_closure_day_is_skipped_for_that_office_only() -> None:
    # Chicago is closed on Wednesday 2026-12-30 (sample catalogue)
    assert business_days_after(OFFICES["chicago"], date(2026, 12, 29), 1) == [date(2026, 12, 31)]
    assert business_days_after(NEW_YORK, date(2026, 12, 29), 1) == [date(2026, 12, 30)]


def test_a_run_opens_the_days_that_start_before_the_next_run_at_each_office() -> None:
    # Given Tuesday's run at 17:00 in New York: 12:00 in Honolulu, 01:00 Wednesday in Nairobi
    tuesday = datetime(2026, 12, 1, 22, 0, tzinfo=UTC)
    # Then Honolulu gets Wednesday, and Nairobi, whose Wednesday has begun, gets Thursday
    assert days_to_release(OFFICES["honolulu"], tuesday, 1, SCHEDULE) == [date(2026, 12, 2)]
    assert days_to_release(OFFICES["nairobi"], tuesday, 1, SCHEDULE) == [date(2026, 12, 3)]


def test_horizon_counts_release_days() -> None:
    thanksgiving = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)  # Thursday 17:00 in New York
    # Three release days ahead: what Thursday's, Friday's and Monday's runs open
    assert days_to_release(NEW_YORK, thanksgiving, 3, SCHEDULE) == [
        date(2026, 11, 27),
        date(2026, 11, 30),
        date(2026, 12, 1),
    ]
