"""Business days of an office: the days it is open, in its own time zone.

A day is a business day of an office when the office opens that day (its opening hours cover
the weekday and it has not announced a one-off closure) and it is not a public holiday where
the office is: US federal holidays with their observed dates for domestic offices, the host
country's holidays for international offices.
"""

from __future__ import annotations

from datetime import date
from functools import cache

from appointments.offices import INTERNATIONAL_OFFICE, Office


def holiday_country(office: Office) -> str:
    return office.address.country if office.kind == INTERNATIONAL_OFFICE else "US"


@cache
def _holidays(country: str, year: int) -> frozenset[date]:
    # Observed dates can fall in the previous year (1 January on a Saturday is observed on
    # 31 December), so the next year's holidays are included too.
    import holidays  # noqa: PLC0415 - its calendars take long to load; only day checks need them

    return frozenset(holidays.country_holidays(country, years=(year, year + 1), observed=True))


def is_holiday(office: Office, day: date) -> bool:
    return day in _holidays(holiday_country(office), day.year)


def is_business_day(office: Office, day: date) -> bool:
    return bool(office.hours_on(day)) and not is_holiday(office, day)
