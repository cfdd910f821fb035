"""AWS schedule expressions (`rate`, `cron`, `at`) and their fire times, for the local runner.

The local runner fires scheduled functions on the schedules the SAM template declares for AWS
(EventBridge `Schedule` events and EventBridge Scheduler `ScheduleV2` events), so the expressions
are parsed here with AWS's rules rather than a Unix cron library's: AWS cron has six fields
(minutes hours day-of-month month day-of-week year), day-of-week counts 1=SUN … 7=SAT, and
exactly one of day-of-month and day-of-week must be `?`.

Semantics. The daylight-saving rules are the ones AWS documents for EventBridge Scheduler, the
field syntax is the one its cron reference documents; the rest are choices where AWS is silent:

* `cron` and `at` are read as wall-clock time in the schedule's IANA time zone (the Scheduler's
  `ScheduleExpressionTimezone`; EventBridge rules are always UTC). Around daylight-saving changes
  a wall time that does not exist (spring forward) is skipped, and a wall time that happens twice
  (fall back) fires once, at its first occurrence.
* `rate` is relative: `next_after(moment)` is `moment + interval`. AWS anchors a rate at the
  schedule's creation, which has no local equivalent, so the runner anchors rates at its start.
* `at` fires once; an `at` wall time that falls in a daylight-saving gap never fires.
* Cron fields accept `*`, lists `a,b`, ranges `a-b` (low to high; wrap-around ranges such as
  `FRI-MON` are rejected), steps `*/n`, `a/n` and `a-b/n` (not in day-of-week, where AWS lists
  no `/`), names JAN-DEC and SUN-SAT (any case).
  The special forms stand alone in their field: `L` or `nW` in day-of-month, and `L` (Saturday,
  the last day of the week), `nL` (last such weekday of the month) or `n#k` (k-th such weekday)
  in day-of-week. `nW` never leaves the month (`1W` on a Saturday fires Monday the 3rd), and a
  day the month lacks (`31`, `31W` in April) does not fire that month. Years run 1970-2199.
"""

from __future__ import annotations

import bisect
import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MIN_YEAR = 1970
MAX_YEAR = 2199

_MONTH_NAMES = {
    name: number
    for number, name in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"),
        start=1,
    )
}
_DAY_NAMES = {
    name: number
    for number, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), start=1)
}
_RATE_UNITS = {
    "minute": timedelta(minutes=1),
    "minutes": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "hours": timedelta(hours=1),
    "day": timedelta(days=1),
    "days": timedelta(days=1),
}

_RATE = re.compile(r"rate\(\s*(?P<value>[+-]?[0-9]+)\s+(?P<unit>[A-Za-z]+)\s*\)")
_CRON = re.compile(r"cron\((?P<fields>[^()]*)\)")
_AT = re.compile(r"at\((?P<moment>[^()]*)\)")
_AT_MOMENT = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})")
_NUMBER = re.compile(r"[0-9]{1,4}")
_NEAREST_WEEKDAY = re.compile(r"(?P<day>[0-9]+)W")
_LAST_WEEKDAY = re.compile(r"(?P<weekday>[0-9A-Z]+)L")
_NTH_WEEKDAY = re.compile(r"(?P<weekday>[0-9A-Z]+)#(?P<nth>[0-9]+)")

_DayRule = Callable[[date], bool]


@dataclass(frozen=True)
class _Rate:
    interval: timedelta


@dataclass(frozen=True)
class _At:
    wall_time: datetime  # naive, in the schedule's time zone


@dataclass(frozen=True)
class _Cron:
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    months: frozenset[int]
    years: tuple[int, ...]  # sorted, so the search can jump to the next allowed year
    day_rule: _DayRule  # day-of-month or day-of-week, whichever is not `?`


@dataclass(frozen=True)
class Schedule:
    """One AWS schedule expression with its time zone; invalid input fails at construction."""

    expression: str
    time_zone: str = "UTC"  # IANA name; EventBridge Scheduler's ScheduleExpressionTimezone
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _rule: _Rate | _At | _Cron = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Parsed once here, so a template with a bad expression fails when the runner loads it.
        try:
            zone = ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {self.time_zone!r}") from None
        try:
            rule = _compile(self.expression.strip())
        except ValueError as error:
            raise ValueError(f"invalid schedule expression {self.expression!r}: {error}") from None
        object.__setattr__(self, "_zone", zone)
        object.__setattr__(self, "_rule", rule)

    def next_after(self, moment: datetime) -> datetime | None:
        """The first firing strictly after `moment` (aware), in UTC; None when none remain."""
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("next_after needs a timezone-aware datetime")
        after = moment.astimezone(UTC)
        rule = self._rule
        if isinstance(rule, _Rate):
            return after + rule.interval
        if isinstance(rule, _At):
            fire = _resolve(rule.wall_time, self._zone)
            return fire if fire is not None and fire > after else None
        return _next_cron(rule, self._zone, after)


def parse(expression: str, time_zone: str = "UTC") -> Schedule:
    """Parse an AWS `rate(...)`, `cron(...)` or `at(...)` expression; raises ValueError."""
    return Schedule(expression, time_zone)


def _compile(expression: str) -> _Rate | _At | _Cron:
    if match := _RATE.fullmatch(expression):
        return _compile_rate(int(match["value"]), match["unit"])
    if match := _CRON.fullmatch(expression):
        return _compile_cron(match["fields"])
    if match := _AT.fullmatch(expression):
        return _compile_at(match["moment"].strip())
    raise ValueError("expected rate(value unit), cron(six fields) or at(yyyy-mm-ddThh:mm:ss)")


def _compile_rate(value: int, unit: str) -> _Rate:
    if unit not in _RATE_UNITS:
        raise ValueError(f"rate unit must be minute(s), hour(s) or day(s), not {unit!r}")
    if value < 1:
        raise ValueError(f"rate value must be a positive whole number, not {value}")
    try:
        return _Rate(value * _RATE_UNITS[unit])
    except OverflowError:
        raise ValueError(f"rate value {value} is too large") from None


def _compile_at(text: str) -> _At:
    match = _AT_MOMENT.fullmatch(text)
    if match is None:
        raise ValueError(f"at() takes yyyy-mm-ddThh:mm:ss, not {text!r}")
    try:
        year, month, day, hour, minute, second = (int(part) for part in match.groups())
        wall_time = datetime(year, month, day, hour, minute, second)
    except ValueError as error:
        raise ValueError(f"at() date or time out of range: {error}") from None
    return _At(wall_time)


def _compile_cron(text: str) -> _Cron:
    fields = text.split()
    if len(fields) != 6:
        raise ValueError(
            "cron() takes six fields (minutes hours day-of-month month day-of-week year), "
            f"got {len(fields)}"
        )
    minutes, hours, day_of_month, month, day_of_week, year = (part.upper() for part in fields)
    if (day_of_month == "?") == (day_of_week == "?"):
        raise ValueError("exactly one of day-of-month and day-of-week must be '?'")
    for label, value in (("minutes", minutes), ("hours", hours), ("month", month), ("year", year)):
        if "?" in value:
            raise ValueError(f"{label}: '?' is only allowed in day-of-month or day-of-week")
    day_rule = (
        _day_of_week_rule(day_of_week) if day_of_month == "?" else _day_of_month_rule(day_of_month)
    )
    return _Cron(
        minutes=tuple(sorted(_field_values(minutes, 0, 59, "minutes"))),
        hours=tuple(sorted(_field_values(hours, 0, 23, "hours"))),
        months=_field_values(month, 1, 12, "month", _MONTH_NAMES),
        years=tuple(sorted(_field_values(year, MIN_YEAR, MAX_YEAR, "year"))),
        day_rule=day_rule,
    )


def _field_values(
    text: str, low: int, high: int, label: str, names: dict[str, int] | None = None
) -> frozenset[int]:
    """Expand a list of `*`, values, ranges and steps into the set of values it allows."""
    values: set[int] = set()
    for item in text.split(","):
        base, slash, step_text = item.partition("/")
        step = 1
        if slash:
            if not _NUMBER.fullmatch(step_text) or int(step_text) < 1:
                raise ValueError(f"{label}: step in {item!r} must be a positive whole number")
            step = int(step_text)
        if base == "*":
            start, end = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            start = _value(first, low, high, label, names)
            end = _value(last, low, high, label, names)
            if start > end:
                raise ValueError(f"{label}: range {base!r} must run from low to high")
        else:
            start = _value(base, low, high, label, names)
            end = high if slash else start
        values.update(range(start, end + 1, step))
    return frozenset(values)


def _value(text: str, low: int, high: int, label: str, names: dict[str, int] | None) -> int:
    if _NUMBER.fullmatch(text):
        number = int(text)
    elif names is not None and text in names:
        number = names[text]
    else:
        raise ValueError(f"{label}: invalid value {text!r}")
    if not low <= number <= high:
        raise ValueError(f"{label}: {number} is outside {low}-{high}")
    return number


def _day_of_month_rule(text: str) -> _DayRule:
    if text == "L":
        return lambda day: day.day == _days_in_month(day)
    if match := _NEAREST_WEEKDAY.fullmatch(text):
        target = _value(match["day"], 1, 31, "day-of-month", None)
        return lambda day: day.day == _nearest_weekday(day, target)
    if "L" in text or "W" in text:
        raise ValueError(f"day-of-month: {text!r} is invalid; L and W stand alone, as L or 15W")
    days = _field_values(text, 1, 31, "day-of-month")
    return lambda day: day.day in days


def _day_of_week_rule(text: str) -> _DayRule:
    if text == "L":  # the last day of the week: Saturday
        return lambda day: _aws_weekday(day) == 7
    if match := _LAST_WEEKDAY.fullmatch(text):
        weekday = _value(match["weekday"], 1, 7, "day-of-week", _DAY_NAMES)
        return lambda day: _aws_weekday(day) == weekday and day.day + 7 > _days_in_month(day)
    if match := _NTH_WEEKDAY.fullmatch(text):
        weekday = _value(match["weekday"], 1, 7, "day-of-week", _DAY_NAMES)
        nth = _value(match["nth"], 1, 5, "day-of-week '#'", None)
        return lambda day: _aws_weekday(day) == weekday and (day.day - 1) // 7 + 1 == nth
    if "#" in text or any(item.endswith("L") for item in text.split(",")):
        raise ValueError(f"day-of-week: {text!r} is invalid; L and # stand alone, as 6L or 2#1")
    if "/" in text:
        raise ValueError(f"day-of-week: {text!r} is invalid; AWS allows no '/' steps here")
    weekdays = _field_values(text, 1, 7, "day-of-week", _DAY_NAMES)
    return lambda day: _aws_weekday(day) in weekdays


def _aws_weekday(day: date) -> int:
    """AWS numbering, 1=SUN … 7=SAT (Python's weekday() is 0=MON … 6=SUN)."""
    return (day.weekday() + 1) % 7 + 1


def _days_in_month(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def _nearest_weekday(day: date, target: int) -> int | None:
    """The weekday closest to `target` in `day`'s month, never crossing into another month."""
    last = _days_in_month(day)
    if target > last:
        return None
    weekday = date(day.year, day.month, target).weekday()
    if weekday == 5:  # Saturday: the Friday before, or Monday the 3rd when the 1st is a Saturday
        return target - 1 if target > 1 else target + 2
    if weekday == 6:  # Sunday: the Monday after, or the Friday before when it ends the month
        return target + 1 if target < last else target - 2
    return target


def _resolve(wall_time: datetime, zone: ZoneInfo) -> datetime | None:
    """The UTC instant of a local wall time: None in a DST gap, the first one when repeated."""
    instant = _first_instant(wall_time, zone)
    if instant.astimezone(zone).replace(tzinfo=None) != wall_time:
        return None
    return instant


def _first_instant(wall_time: datetime, zone: ZoneInfo) -> datetime:
    """fold=0: the first of a repeated wall time; a gap's wall time uses the offset before it.

    Either way it grows with the wall time, so when a day's or an hour's last candidate is not
    after the moment, none of its earlier ones are, and the search skips them unconverted.
    """
    return wall_time.replace(tzinfo=zone, fold=0).astimezone(UTC)


def _next_cron(cron: _Cron, zone: ZoneInfo, after: datetime) -> datetime | None:
    """Walk day by day (jumping over excluded years and months), then hours and minutes."""
    # Start a day early: where a clock falls back across midnight, yesterday's wall times can
    # still be ahead of the moment.
    day = max(after.astimezone(zone).date(), date(MIN_YEAR, 1, 2)) - timedelta(days=1)
    year_set = frozenset(cron.years)
    last_hour, last_minute = cron.hours[-1], cron.minutes[-1]
    while True:
        if day.year not in year_set:
            index = bisect.bisect_right(cron.years, day.year)
            if index == len(cron.years):
                return None
            day = date(cron.years[index], 1, 1)
            continue
        if day.month not in cron.months:
            day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
            continue
        if cron.day_rule(day) and _first_instant(_wall(day, last_hour, last_minute), zone) > after:
            for hour in cron.hours:
                if _first_instant(_wall(day, hour, last_minute), zone) <= after:
                    continue
                for minute in cron.minutes:
                    fire = _resolve(_wall(day, hour, minute), zone)
                    if fire is not None and fire > after:
                        return fire
        day += timedelta(days=1)


def _wall(day: date, hour: int, minute: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute)
