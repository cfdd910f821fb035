"""The lost notice or PIN pages as the site reads and keeps them: the lost form's fields, and
a new PIN held for its one showing.

The new PIN travels from the page that sets it to the page that shows it (POST-redirect-GET)
in a sealed cookie (encrypted, HttpOnly, 10 minutes), never in a URL; the page that shows it
clears the cookie, so it is shown once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from appointments.pin_reset import NewPin
from appointments.site import security
from appointments.site.fields import (
    FieldError,
    read_date_of_birth,
    read_name,
    read_phone,
)
from appointments.site.pages import Visit

LOST_FIELDS = ("name", "dob-month", "dob-day", "dob-year", "phone")
NEW_PIN_COOKIE = "__Host-new-pin"
NEW_PIN_LIFETIME = timedelta(minutes=10)


@dataclass(frozen=True)
class LostDetails:
    name: str
    date_of_birth: date
    phone: str


@dataclass(frozen=True)
class LostForm:
    """The lost form as sent: what was typed (to show again), and the details or the errors
    (by field: "name", "dob", "phone")."""

    values: dict[str, str]
    errors: dict[str, FieldError] = field(default_factory=dict)
    details: LostDetails | None = None


def read_lost_form(fields: Mapping[str, str], today: date) -> LostForm:
    values = {name: fields.get(name, "") for name in LOST_FIELDS}
    name = read_name(values["name"])
    born = read_date_of_birth(values["dob-month"], values["dob-day"], values["dob-year"], today)
    phone = read_phone(values["phone"])
    if isinstance(name, str) and isinstance(born, date) and isinstance(phone, str):
        return LostForm(values, details=LostDetails(name, born, phone))
    errors = {
        key: value
        for key, value in (("name", name), ("dob", born), ("phone", phone))
        if isinstance(value, FieldError)
    }
    return LostForm(values, errors)


def keep_new_pin(visit: Visit, new_pin: NewPin, now: datetime) -> None:
    """Hold the new PIN for the page that shows it (the answer sets the cookie)."""
    payload = {"c": new_pin.confirmation_number, "p": new_pin.pin}
    visit.set_cookie(security.sealed_cookie(NEW_PIN_COOKIE, payload, now, NEW_PIN_LIFETIME))


def take_new_pin(visit: Visit, now: datetime) -> NewPin | None:
    """The new PIN held for this browser, if any; the answer clears it."""
    if NEW_PIN_COOKIE not in visit.cookies:
        return None
    visit.set_cookie(security.expired_cookie(NEW_PIN_COOKIE))
    payload = security.unseal(NEW_PIN_COOKIE, visit.cookies[NEW_PIN_COOKIE], now)
    if payload is None:
        return None
    return NewPin(str(payload.get("c", "")), str(payload.get("p", "")))
