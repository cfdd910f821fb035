"""Reading the personal fields of a form as typed: a name, a date of birth (the USWDS memorable
date: month, day and year apart) and a phone number.

Each reader returns the value, or the message to show by the field (translated when shown).
Only the form of a value is checked here; whether it matches anything is the domain's
question. What was typed is never put in a message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from appointments.applicants import normalise_phone
from appointments.errors import InvalidRequest
from appointments.schemas import EARLIEST_BIRTH_DATE
from appointments.site.i18n import N_

MAX_NAME_LENGTH = 200
MAX_PHONE_LENGTH = 32
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class FieldError:
    """A message for a field, and the id of the input a link to it should focus."""

    message: str
    focus: str


def read_name(typed: str) -> str | FieldError:
    name = typed.strip()
    if not name:
        return FieldError(N_("Enter your full name."), "name")
    if len(name) > MAX_NAME_LENGTH or _CONTROL.search(name):
        return FieldError(N_("Enter your name in 200 characters or fewer."), "name")
    return name


def read_date_of_birth(month: str, day: str, year: str, today: date) -> date | FieldError:
    """The date of a memorable-date group named `dob`; an error focuses the first part to
    correct."""
    parts = {"dob-month": month.strip(), "dob-day": day.strip(), "dob-year": year.strip()}
    return _incomplete(parts) or _real_date_of_birth(parts, today)


def _incomplete(parts: dict[str, str]) -> FieldError | None:
    if not any(parts.values()):
        return FieldError(N_("Enter your date of birth."), "dob-month")
    for name, value in parts.items():
        if not value.isascii() or not value.isdigit():
            return FieldError(N_("Enter your date of birth with a month, a day and a year."), name)
    if len(parts["dob-year"]) != 4:
        return FieldError(N_("Enter the year with 4 digits, for example 1985."), "dob-year")
    if not 1 <= int(parts["dob-month"]) <= 12:
        return FieldError(N_("Enter a real date of birth."), "dob-month")
    return None


def _real_date_of_birth(parts: dict[str, str], today: date) -> date | FieldError:
    try:
        born = date(int(parts["dob-year"]), int(parts["dob-month"]), int(parts["dob-day"]))
    except (ValueError, OverflowError):
        return FieldError(N_("Enter a real date of birth."), "dob-day")
    if born > today:
        return FieldError(N_("Your date of birth must be in the past."), "dob-year")
    if born < EARLIEST_BIRTH_DATE:
        return FieldError(N_("Enter a real date of birth."), "dob-year")
    return born


def read_phone(typed: str) -> str | FieldError:
    """The phone number as typed (the domain reads it), if it can be a phone number."""
    phone = typed.strip()
    if not phone:
        return FieldError(N_("Enter your phone number."), "phone")
    if len(phone) > MAX_PHONE_LENGTH:
        return FieldError(N_("Enter a phone number, like 202-555-0143."), "phone")
    try:
        normalise_phone(phone)
    except InvalidRequest:
        return FieldError(N_("Enter a phone number, like 202-555-0143."), "phone")
    return phone
