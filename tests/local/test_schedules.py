"""AWS schedule expressions and their fire times (infra/local/schedules.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from infra.local.schedules import Schedule, parse

NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS_17_NEW_YORK = "cron(0 17 ? * MON-FRI *)"


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def new_york(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, *, fold: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK, fold=fold)


def firings(schedule: Schedule, after: datetime, count: int) -> list[datetime]:
    """The next `count` firings, each found from the one before."""
    found: list[datetime] = []
    moment = after
    for _ in range(count):
        fire = schedule.next_after(moment)
        assert fire is not None
        found.append(fire)
        moment = fire
    return found


# cron in a time zone


def test_weekday_schedule_fires_monday_after_friday_firing() -> None:
    schedule = parse(WEEKDAYS_17_NEW_YORK, "America/New_York")
    friday_firing = new_york(2027, 1, 15, 17, 0)

    assert schedule.next_after(friday_firing) == new_york(2027, 1, 18, 17, 0)


def test_weekday_schedule_fires_at_17_new_york_in_winter() -> None:
    schedule = parse(WEEKDAYS_17_NEW_YORK, "America/New_York")

    assert schedule.next_after(utc(2027, 1, 12, 12, 0)) == utc(2027, 1, 12, 22, 0)


def test_weekday_schedule_fires_at_17_new_york_in_summer() -> None:
    schedule = parse(WEEKDAYS_17_NEW_YORK, "America/New_York")

    assert schedule.next_after(utc(2027, 7, 13, 12, 0)) == utc(2027, 7, 13, 21, 0)


def test_next_after_returns_utc() -> None:
    fire = parse(WEEKDAYS_17_NEW_YORK, "America/New_York").next_after(new_york(2027, 1, 12, 9))

    assert fire is not None
    assert fire.tzinfo is UTC


def test_next_after_is_strictly_after_the_moment() -> None:
    schedule = parse("cron(0 12 * * ? *)")

    assert schedule.next_after(utc(2027, 1, 12, 12, 0)) == utc(2027, 1, 13, 12, 0)


def test_default_time_zone_is_utc() -> None:
    assert parse("cron(0 12 * * ? *)").next_after(utc(2027, 1, 12, 0)) == utc(2027, 1, 12, 12)


# special day forms


def test_last_day_of_month_in_a_common_year() -> None:
    schedule = parse("cron(0 12 L * ? *)")

    assert schedule.next_after(utc(2027, 2, 1)) == utc(2027, 2, 28, 12, 0)


def test_last_day_of_month_in_a_leap_year() -> None:
    schedule = parse("cron(0 12 L * ? *)")

    assert schedule.next_after(utc(2028, 2, 1)) == utc(2028, 2, 29, 12, 0)


def test_last_friday_of_month() -> None:
    schedule = parse("cron(0 9 ? * 6L *)")

    assert firings(schedule, utc(2027, 1, 1), 2) == [utc(2027, 1, 29, 9), utc(2027, 2, 26, 9)]


def test_last_weekday_accepts_a_day_name() -> None:
    assert parse("cron(0 9 ? * FRIL *)").next_after(utc(2027, 1, 1)) == utc(2027, 1, 29, 9)


def test_l_alone_in_day_of_week_is_saturday() -> None:
    assert parse("cron(0 9 ? * L *)").next_after(utc(2027, 1, 12)) == utc(2027, 1, 16, 9)


def test_first_monday_of_month() -> None:
    schedule = parse("cron(0 9 ? * 2#1 *)")

    assert firings(schedule, utc(2026, 12, 31), 2) == [utc(2027, 1, 4, 9), utc(2027, 2, 1, 9)]


def test_nth_weekday_accepts_a_day_name() -> None:
    assert parse("cron(0 9 ? * MON#1 *)").next_after(utc(2026, 12, 31)) == utc(2027, 1, 4, 9)


def test_fifth_weekday_skips_months_without_one() -> None:
    # February 2027 has four Mondays; March 2027 has five (1, 8, 15, 22, 29).
    assert parse("cron(0 9 ? * 2#5 *)").next_after(utc(2027, 2, 1)) == utc(2027, 3, 29, 9)


def test_nearest_weekday_of_a_saturday_is_the_friday_before() -> None:
    # 15 May 2027 is a Saturday.
    assert parse("cron(0 9 15W * ? *)").next_after(utc(2027, 5, 1)) == utc(2027, 5, 14, 9)


def test_nearest_weekday_of_a_sunday_is_the_monday_after() -> None:
    # 15 August 2027 is a Sunday.
    assert parse("cron(0 9 15W * ? *)").next_after(utc(2027, 8, 1)) == utc(2027, 8, 16, 9)


def test_nearest_weekday_of_a_weekday_is_that_day() -> None:
    # 15 June 2027 is a Tuesday.
    assert parse("cron(0 9 15W * ? *)").next_after(utc(2027, 6, 1)) == utc(2027, 6, 15, 9)


def test_nearest_weekday_never_leaves_the_month() -> None:
    # 1 May 2027 is a Saturday: Monday the 3rd, not Friday 30 April.
    assert parse("cron(0 9 1W * ? *)").next_after(utc(2027, 4, 2)) == utc(2027, 5, 3, 9)


def test_day_missing_from_a_month_does_not_fire_that_month() -> None:
    assert parse("cron(0 9 31 * ? *)").next_after(utc(2027, 4, 1)) == utc(2027, 5, 31, 9)


# fields, steps and names


def test_every_15_minutes() -> None:
    schedule = parse("cron(*/15 * * * ? *)")

    assert firings(schedule, utc(2027, 1, 12, 10, 7), 4) == [
        utc(2027, 1, 12, 10, 15),
        utc(2027, 1, 12, 10, 30),
        utc(2027, 1, 12, 10, 45),
        utc(2027, 1, 12, 11, 0),
    ]


def test_step_from_a_start_value() -> None:
    schedule = parse("cron(5/20 9 * * ? *)")

    assert firings(schedule, utc(2027, 1, 12), 3) == [
        utc(2027, 1, 12, 9, 5),
        utc(2027, 1, 12, 9, 25),
        utc(2027, 1, 12, 9, 45),
    ]


def test_step_over_a_range() -> None:
    schedule = parse("cron(0 8-12/2 * * ? *)")

    assert firings(schedule, utc(2027, 1, 12), 4) == [
        utc(2027, 1, 12, 8),
        utc(2027, 1, 12, 10),
        utc(2027, 1, 12, 12),
        utc(2027, 1, 13, 8),
    ]


def test_lists_of_values() -> None:
    schedule = parse("cron(0,30 9 * * ? *)")

    assert firings(schedule, utc(2027, 1, 12), 3) == [
        utc(2027, 1, 12, 9, 0),
        utc(2027, 1, 12, 9, 30),
        utc(2027, 1, 13, 9, 0),
    ]


def test_day_of_week_counts_from_sunday() -> None:
    # 1 is Sunday in AWS cron: 17 January 2027 is a Sunday.
    assert parse("cron(0 9 ? * 1 *)").next_after(utc(2027, 1, 12)) == utc(2027, 1, 17, 9)


def test_month_names_are_case_insensitive() -> None:
    assert parse("cron(0 9 1 jul ? *)").next_after(utc(2027, 1, 12)) == utc(2027, 7, 1, 9)


def test_year_field_limits_firings() -> None:
    assert parse("cron(0 9 1 1 ? 2029)").next_after(utc(2027, 1, 12)) == utc(2029, 1, 1, 9)


def test_exhausted_years_give_none() -> None:
    assert parse("cron(0 9 1 1 ? 2027)").next_after(utc(2027, 1, 1, 9)) is None


def test_yearly_cron_finds_next_year() -> None:
    schedule = parse("cron(0 12 25 DEC ? *)", "America/New_York")

    assert schedule.next_after(utc(2026, 12, 26)) == new_york(2027, 12, 25, 12)


def test_cron_in_a_distant_year_jumps_straight_there() -> None:
    assert parse("cron(0 0 1 1 ? 2199)").next_after(utc(2027, 1, 12)) == utc(2199, 1, 1)


def test_impossible_date_gives_none() -> None:
    assert parse("cron(0 9 30 2 ? *)").next_after(utc(2027, 1, 1)) is None


# rate and at


def test_rate_minutes_is_relative_to_the_moment() -> None:
    schedule = parse("rate(5 minutes)")

    assert schedule.next_after(utc(2027, 1, 12, 10, 7, 30)) == utc(2027, 1, 12, 10, 12, 30)


def test_rate_accepts_singular_unit() -> None:
    assert parse("rate(1 day)").next_after(utc(2027, 1, 12, 10)) == utc(2027, 1, 13, 10)


def test_rate_returns_utc_for_a_local_moment() -> None:
    fire = parse("rate(2 hours)").next_after(new_york(2027, 1, 12, 10))

    assert fire == utc(2027, 1, 12, 17)
    assert fire is not None
    assert fire.tzinfo is UTC


def test_at_fires_once_in_its_time_zone() -> None:
    schedule = parse("at(2026-12-24T08:00:00)", "America/New_York")

    first = schedule.next_after(utc(2026, 12, 1))

    assert first == utc(2026, 12, 24, 13)
    assert schedule.next_after(first) is None


def test_at_in_the_past_gives_none() -> None:
    assert parse("at(2026-12-24T08:00:00)").next_after(utc(2027, 1, 1)) is None


# daylight-saving changes (America/New_York)


def test_wall_time_in_spring_forward_gap_is_skipped() -> None:
    # 2027-03-14 02:30 does not exist in New York: clocks jump from 02:00 to 03:00.
    schedule = parse("cron(30 2 * * ? *)", "America/New_York")

    assert schedule.next_after(new_york(2027, 3, 13, 12)) == utc(2027, 3, 15, 6, 30)  # 02:30 EDT


def test_repeated_wall_time_at_fall_back_fires_once() -> None:
    # 2026-11-01 01:30 happens twice in New York (EDT, then EST); it fires at the first.
    schedule = parse("cron(30 1 * * ? *)", "America/New_York")

    assert firings(schedule, utc(2026, 11, 1, 0), 2) == [
        utc(2026, 11, 1, 5, 30),  # 01:30 EDT
        utc(2026, 11, 2, 6, 30),  # next day, 01:30 EST; not 06:30Z on 1 November
    ]


def test_moment_between_repeated_wall_times_skips_the_second() -> None:
    schedule = parse("cron(30 1 * * ? *)", "America/New_York")
    between = new_york(2026, 11, 1, 1, 25, fold=1)  # 01:25 EST, after the 01:30 EDT firing

    assert schedule.next_after(between) == utc(2026, 11, 2, 6, 30)


def test_hourly_cron_fires_once_in_the_repeated_hour() -> None:
    schedule = parse("cron(0 * * * ? *)", "America/New_York")

    assert firings(schedule, utc(2026, 11, 1, 4, 30), 2) == [
        utc(2026, 11, 1, 5),  # 01:00 EDT
        utc(2026, 11, 1, 7),  # 02:00 EST; 01:00 EST (06:00Z) is a repeat
    ]


# invalid input


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        pytest.param("cron(0 9 ? * ? *)", "exactly one", id="both-question-marks"),
        pytest.param("cron(0 9 * * * *)", "exactly one", id="no-question-mark"),
        pytest.param("cron(0 9 * * ?)", "six fields", id="five-fields"),
        pytest.param("cron(0 9 ? FOO MON *)", "month", id="bad-month-name"),
        pytest.param("cron(0 9 ? * FUN *)", "day-of-week", id="bad-day-name"),
        pytest.param("cron(MON 9 * * ? *)", "minutes", id="name-in-minutes"),
        pytest.param("cron(60 9 * * ? *)", "minutes", id="minute-60"),
        pytest.param("cron(0 24 * * ? *)", "hours", id="hour-24"),
        pytest.param("cron(0 9 32 * ? *)", "day-of-month", id="day-32"),
        pytest.param("cron(0 9 ? * 8 *)", "day-of-week", id="weekday-8"),
        pytest.param("cron(0 9 * * ? 2200)", "year", id="year-2200"),
        pytest.param("cron(0 9 * * ? 1969)", "year", id="year-1969"),
        pytest.param("cron(0 ? * * ? *)", "'?'", id="question-mark-in-hours"),
        pytest.param("cron(*/0 9 * * ? *)", "step", id="zero-step"),
        pytest.param("cron(0 17-9 * * ? *)", "low to high", id="backwards-range"),
        pytest.param("cron(0 9 ? * 2#6 *)", "#", id="sixth-weekday"),
        pytest.param("cron(0 9 ? * */2 *)", "'/'", id="step-in-day-of-week"),
        pytest.param("cron(0 9 L,1 * ? *)", "stand alone", id="l-in-a-list"),
        pytest.param("cron(0 9 ? * 2#1,3 *)", "stand alone", id="hash-in-a-list"),
        pytest.param("rate(0 minutes)", "positive", id="rate-zero"),
        pytest.param("rate(-5 minutes)", "positive", id="rate-negative"),
        pytest.param("rate(5 weeks)", "unit", id="rate-weeks"),
        pytest.param("at(2026-02-30T08:00:00)", "out of range", id="at-february-30"),
        pytest.param("at(2026-12-24 08:00:00)", "yyyy-mm-ddThh:mm:ss", id="at-without-t"),
        pytest.param("every 5 minutes", "expected", id="not-an-expression"),
    ],
)
def test_invalid_expression_raises_value_error(expression: str, message: str) -> None:
    with pytest.raises(ValueError, match="invalid schedule expression") as raised:
        parse(expression)

    assert message in str(raised.value)


def test_unknown_time_zone_raises_value_error() -> None:
    with pytest.raises(ValueError, match="time zone"):
        parse("cron(0 9 * * ? *)", "Mars/Olympus_Mons")


def test_naive_moment_raises_value_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse("cron(0 9 * * ? *)").next_after(datetime(2027, 1, 12, 9))


def test_schedules_compare_by_expression_and_time_zone() -> None:
    assert parse("rate(5 minutes)") == Schedule("rate(5 minutes)", "UTC")
    assert parse("rate(5 minutes)") != parse("rate(5 minutes)", "America/New_York")
