"""My appointment: signing in with the confirmation number and PIN, what the pages show of the
appointment, the months and days it may move to, and the calendar file it offers. Times are in
the office's time zone, words in the page's language; the PIN is never shown or kept.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from appointments import booking
from appointments.applicants import phone_text
from appointments.codes import normalise_confirmation_number
from appointments.errors import InvalidRequest
from appointments.models import CANCELLED, AppointmentModel
from appointments.offices import Office
from appointments.site.calendar import month_start, next_month
from appointments.site.i18n import LANGUAGE_NAMES, N_
from appointments.site.words import SERVICE_NAMES, STATUS_NAMES
from appointments.vocabulary import AppointmentStatus, Service

CALENDAR_SUMMARY = N_("USCIS appointment: %(service)s")
CALENDAR_CONFIRMATION = N_("Confirmation number: %(number)s")
CALENDAR_ARRIVE = N_("Arrive 15 minutes before your appointment, and no earlier.")
CALENDAR_BRING = N_("Bring your appointment notice and a government-issued photo ID.")
CONFIRMATION_MISSING = N_("Enter your confirmation number.")
CONFIRMATION_MISTYPED = N_(
    "Check your confirmation number. It has 11 letters and numbers, as on your notice."
)
PIN_MISSING = N_("Enter your PIN.")
PIN_MISTYPED = N_("Check your PIN. It has 6 to 8 numbers.")
TIME_MISSING = N_("Choose a time.")
PIN_PATTERN = re.compile(r"[0-9]{6,8}")
ZONE_RULES_AROUND = timedelta(days=366)
PRODUCT_ID = "-//USCIS appointments//My appointment//EN"
UID_DOMAIN = "appointments.uscis.gov"


@dataclass(frozen=True)
class AppointmentDetails:
    confirmation_number: str
    status: str  # in the page's language
    cancelled: bool
    passed: bool
    changeable: bool  # may still be cancelled
    movable: bool  # may still be moved (it was moved fewer than MAX_RESCHEDULES times)
    office_name: str
    address_lines: list[str]
    service: str  # in the page's language
    case_number: str | None
    start: datetime  # aware, in the office's time zone
    end: datetime
    time_zone: str  # the office's (IANA name)
    revision: int  # grows with every change (a calendar event's SEQUENCE)
    name: str
    date_of_birth: date
    phone: str
    email: str | None
    notice_language: str  # the notice's language, named in itself


def details_of(
    appointment: AppointmentModel,
    office: Office,
    gettext: Callable[[str], str],
    now: datetime,
) -> AppointmentDetails:
    zone = ZoneInfo(office.time_zone)
    start = appointment.start_utc.astimezone(zone)
    return AppointmentDetails(
        confirmation_number=appointment.confirmation_number,
        status=gettext(STATUS_NAMES[AppointmentStatus(appointment.status)]),
        cancelled=appointment.status == CANCELLED,
        passed=appointment.start_utc <= now,
        changeable=booking.can_change(appointment, now),
        movable=booking.can_move(appointment, now),
        office_name=office.name,
        address_lines=office.address.lines,
        service=gettext(SERVICE_NAMES[Service(appointment.service)]),
        case_number=appointment.case_number,
        start=start,
        end=start + timedelta(minutes=office.slot_minutes),
        time_zone=office.time_zone,
        revision=int((appointment.updated_at - appointment.created_at).total_seconds()),
        name=appointment.name,
        date_of_birth=date.fromisoformat(appointment.date_of_birth),
        phone=phone_text(appointment.phone),
        email=appointment.email,
        notice_language=LANGUAGE_NAMES.get(appointment.language, appointment.language),
    )


def calendar_file(
    details: AppointmentDetails, gettext: Callable[[str], str], now: datetime
) -> bytes:
    """The appointment as an iCalendar event in the office's time zone (with its VTIMEZONE).

    Its UID comes from the confirmation number, so a calendar that imports the file again
    after a reschedule updates the event instead of adding a second one."""
    from icalendar import Calendar, Event  # noqa: PLC0415 - slow to import: for this file only

    event = Event()
    event.add("uid", f"{details.confirmation_number}@{UID_DOMAIN}")
    event.add("dtstamp", now)
    event.add("dtstart", details.start)
    event.add("dtend", details.end)
    event.add("summary", gettext(CALENDAR_SUMMARY) % {"service": details.service})
    event.add("location", ", ".join([details.office_name, *details.address_lines]))
    event.add(
        "description",
        "\n".join(
            [
                gettext(CALENDAR_CONFIRMATION) % {"number": details.confirmation_number},
                gettext(CALENDAR_ARRIVE),
                gettext(CALENDAR_BRING),
            ]
        ),
    )
    event.add("sequence", details.revision)
    event.add("status", "CANCELLED" if details.cancelled else "CONFIRMED")
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add_component(event)
    # The office's zone as its rules stand around the appointment (the whole history of a zone
    # would make the file a hundred lines longer for nothing).
    calendar.add_missing_timezones(
        first_date=details.start.date() - ZONE_RULES_AROUND,
        last_date=details.start.date() + ZONE_RULES_AROUND,
    )
    ics: bytes = calendar.to_ical()
    return ics


@dataclass(frozen=True)
class SignIn:
    """The sign-in form's answers: the confirmation number as typed (shown again after an
    error) and the PIN (never shown again)."""

    confirmation_number: str
    pin: str = field(repr=False)

    @classmethod
    def of(cls, fields: Mapping[str, str]) -> SignIn:
        # Digits as any script writes them (a phone's Arabic keyboard types ٤٥٦); no spaces.
        pin = "".join(
            str(unicodedata.decimal(char)) if char.isdecimal() else char
            for char in fields.get("pin", "")
            if not char.isspace()
        )
        return cls(fields.get("confirmation_number", "").strip(), pin)

    def problems(self) -> dict[str, str]:
        """Untranslated messages by field, for answers that cannot be right as typed."""
        problems = {}
        if not self.confirmation_number:
            problems["confirmation_number"] = CONFIRMATION_MISSING
        elif normalise_confirmation_number(self.confirmation_number) is None:
            problems["confirmation_number"] = CONFIRMATION_MISTYPED
        if not self.pin:
            problems["pin"] = PIN_MISSING
        elif not PIN_PATTERN.fullmatch(self.pin):
            problems["pin"] = PIN_MISTYPED
        return problems


@dataclass(frozen=True)
class MonthsOffered:
    """The months a reschedule may look at: from the office's this month to the next one, as
    the days listing's default range (the release opens days a few business days ahead)."""

    today: date  # the office's
    earliest: date  # first day of the first month
    latest: date  # first day of the last month

    @classmethod
    def at(cls, office: Office, now: datetime) -> MonthsOffered:
        today = now.astimezone(ZoneInfo(office.time_zone)).date()
        return cls(today, month_start(today), next_month(today))

    def month(self, text: str | None) -> date:
        """The first day of the month a `month=YYYY-MM` query names (this month without one)."""
        if text is None:
            return self.earliest
        try:
            first = date.fromisoformat(f"{text}-01") if len(text) == 7 else None
        except ValueError:
            first = None
        if first is None or not self.earliest <= first <= self.latest:
            raise InvalidRequest("month is not one of the months offered.")
        return first


def read_day(text: str | None) -> date:
    """The date a `date=YYYY-MM-DD` query or field names."""
    try:
        return date.fromisoformat(text or "")
    except ValueError as error:
        raise InvalidRequest("date is not a date.") from error
