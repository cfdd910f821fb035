"""Fire times of AWS cron() schedules in their time zones (infra/local/schedule_runner.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from infra.local.schedule_runner import Schedule, parse, scheduled_functions
from infra.local.template import References, function_specs, load_template, parameter_defaults
from tests.helpers import REPO_ROOT

NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS_17_NEW_YORK = "cron(0 17 ? * MON-FRI *)"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def new_york(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, *, fold: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK, fold=fold)


def firings(schedule: Schedule, after: datetime, count: int) -> list[datetime]:
    """The next `count` firings, each found from the one before."""
    found = [schedule.next_after(after)]
    while len(found) < count:
        found.append(schedule.next_after(found[-1]))
    return found


# the template's schedule


def template_schedule() -> Schedule:
    template = load_template()
    specs = function_specs(template, REPO_ROOT)
    schedules = scheduled_functions(specs, References(refs=parameter_defaults(template)))
    (scheduled,) = [s for s in schedules if s.event_name == "DailyRelease"]
    assert scheduled.function == "ReleaseSlotsFunction"
    return scheduled.schedule


def test_template_schedule_fires_weekdays_at_17_new_york_over_thanksgiving() -> None:
    # Given the template's release schedule with its parameter defaults
    schedule = template_schedule()

    # When it runs from Wednesday 25 November 2026, mid-morning
    fires = firings(schedule, new_york(2026, 11, 25, 10), 4)

    # Then it fires Wednesday, Thursday (a holiday too), Friday and Monday at 17:00 EST
    assert fires == [
        utc(2026, 11, 25, 22),
        utc(2026, 11, 26, 22),
        utc(2026, 11, 27, 22),
        utc(2026, 11, 30, 22),
    ]


def test_template_schedule_keeps_17_new_york_when_clocks_go_forward() -> None:
    # Given the template's release schedule; clocks go forward on Sunday 14 March 2027
    schedule = template_schedule()

    # When it runs from the Friday before
    fires = firings(schedule, new_york(2027, 3, 12, 10), 2)

    # Then Friday's run is at 17:00 EST and Monday's at 17:00 EDT
    assert fires == [utc(2027, 3, 12, 22), utc(2027, 3, 15, 21)]


def test_template_schedule_keeps_17_new_york_when_clocks_go_back() -> None:
    # Given the template's release schedule; clocks go back on Sunday 1 November 2026
    schedule = template_schedule()

    # When it runs from the Friday before
    fires = firings(schedule, new_york(2026, 10, 30, 10), 2)

    # Then Friday's run is at 17:00 EDT and Monday's at 17:00 EST
    assert fires == [utc(2026, 10, 30, 21), utc(2026, 11, 2, 22)]


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

    assert fire.tzinfo is UTC


def test_next_after_is_strictly_after_the_moment() -> None:
    schedule = parse("cron(0 12 * * ? *)")

    assert schedule.next_after(utc(2027, 1, 12, 12, 0)) == utc(2027, 1, 13, 12, 0)


def test_default_time_zone_is_utc() -> None:
    assert parse("cron(0 12 * * ? *)").next_after(utc(2027, 1, 12, 0)) == utc(2027, 1, 12, 12)


def test_yearly_cron_finds_next_year() -> None:
    schedule = parse("cron(0 12 25 DEC ? *)", "America/New_York")

    assert schedule.next_after(utc(2026, 12, 26)) == new_york(2027, 12, 25, 12)


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


def test_day_of_week_seven_is_saturday() -> None:
    # 16 January 2027 is a Saturday.
    assert parse("cron(0 9 ? * 7 *)").next_after(utc(2027, 1, 12)) == utc(2027, 1, 16, 9)


def test_day_of_week_range_of_numbers_is_aws_numbered() -> None:
    # 2-6 is MON-FRI in AWS cron: from Friday 15 January 2027, next is Monday 18.
    schedule = parse("cron(0 9 ? * 2-6 *)")

    assert firings(schedule, utc(2027, 1, 15, 10), 2) == [utc(2027, 1, 18, 9), utc(2027, 1, 19, 9)]


def test_month_names_are_case_insensitive() -> None:
    assert parse("cron(0 9 1 jul ? *)").next_after(utc(2027, 1, 12)) == utc(2027, 7, 1, 9)


# daylight-saving changes (America/New_York), as EventBridge Scheduler documents them


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


def test_hourly_cron_skips_the_hour_that_does_not_exist() -> None:
    schedule = parse("cron(0 * * * ? *)", "America/New_York")

    assert firings(schedule, utc(2027, 3, 14, 5, 30), 2) == [
        utc(2027, 3, 14, 6),  # 01:00 EST
        utc(2027, 3, 14, 7),  # 03:00 EDT; 02:00 does not exist
    ]


# what the local scheduler does not run


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        pytest.param("rate(5 minutes)", "cron(...) only", id="rate"),
        pytest.param("at(2026-12-24T08:00:00)", "cron(...) only", id="at"),
        pytest.param("every 5 minutes", "cron(...) only", id="not-an-expression"),
        pytest.param("cron(0 9 1 1 ? 2027)", "year", id="year-value"),
        pytest.param("cron(0 12 L * ? *)", "no L, W or #", id="last-day-of-month"),
        pytest.param("cron(0 9 15W * ? *)", "no L, W or #", id="nearest-weekday"),
        pytest.param("cron(0 9 ? * 6L *)", "no L, W or #", id="last-friday"),
        pytest.param("cron(0 9 ? * 2#1 *)", "no L, W or #", id="first-monday"),
        pytest.param("cron(0 9 ? * ? *)", "exactly one", id="both-question-marks"),
        pytest.param("cron(0 9 * * * *)", "exactly one", id="no-question-mark"),
        pytest.param("cron(0 9 * * ?)", "six fields", id="five-fields"),
        pytest.param("cron(0 ? * * ? *)", "'?' is not supported", id="question-mark-in-hours"),
        pytest.param("cron(0 9 ? * */2 *)", "'/'", id="step-in-day-of-week"),
        pytest.param("cron(0 9 ? * 8 *)", "1 (SUN) to 7 (SAT)", id="weekday-8"),
        pytest.param("cron(0 9 ? * 0 *)", "1 (SUN) to 7 (SAT)", id="weekday-0"),
        pytest.param("cron(0 9 ? FOO * *)", "out of range or unknown", id="bad-month-name"),
        pytest.param("cron(0 9 ? * FUN *)", "out of range or unknown", id="bad-day-name"),
        pytest.param("cron(MON 9 * * ? *)", "out of range or unknown", id="name-in-minutes"),
        pytest.param("cron(60 9 * * ? *)", "out of range or unknown", id="minute-60"),
        pytest.param("cron(0 24 * * ? *)", "out of range or unknown", id="hour-24"),
        pytest.param("cron(0 9 32 * ? *)", "out of range or unknown", id="day-32"),
        pytest.param("cron(*/0 9 * * ? *)", "out of range or unknown", id="zero-step"),
        pytest.param("cron(0 9 30 2 ? *)", "next date", id="never-fires"),
    ],
)
def test_unsupported_expression_raises_value_error(expression: str, message: str) -> None:
    with pytest.raises(ValueError, match="ScheduleExpression") as raised:
        parse(expression)

    assert message in str(raised.value)


def test_unknown_time_zone_raises_value_error() -> None:
    with pytest.raises(ValueError, match="ScheduleExpressionTimezone 'Mars/Olympus_Mons'"):
        parse("cron(0 9 * * ? *)", "Mars/Olympus_Mons")


def test_schedules_compare_by_expression_and_time_zone() -> None:
    assert parse("cron(0 9 * * ? *)") == parse("cron(0 9 * * ? *)", "UTC")
    assert parse("cron(0 9 * * ? *)") != parse("cron(0 9 * * ? *)", "America/New_York")
