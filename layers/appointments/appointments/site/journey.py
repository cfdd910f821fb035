"""The booking journey's shared parts: its steps, the booking draft, the Where page and the
details form.

The journey asks one thing per page (where, office, service, day, time, details), then shows
every answer to check before booking. Pages until the time carry only office, service, day
and slot ids in their URLs; what the person types (receipt number, name, date of birth,
phone, e-mail) travels only in the sealed draft cookie, for 30 minutes.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from aws_lambda_powertools.event_handler import Response

from appointments import codes
from appointments.applicants import normalise_phone, phone_text
from appointments.booking import BookingRequest
from appointments.errors import AppointmentError, InvalidRequest
from appointments.languages import (
    country_names,
    date_text,
    distance_text,
    month_names,
    time_text,
    time_zone_text,
)
from appointments.observability import count, logger
from appointments.offices import ZIP_CODE_COUNTRIES, Office, OfficeMatch, catalogue
from appointments.schemas import NON_ASCII_MAILBOX, Applicant, mail_address
from appointments.services import CASE_SERVICES, check_service_allowed
from appointments.site import security
from appointments.site.calendar import next_month
from appointments.site.fields import FieldError, read_date_of_birth, read_name, read_phone
from appointments.site.i18n import LANGUAGE_NAMES, LANGUAGES, N_
from appointments.site.pages import Visit
from appointments.slots import SlotId
from appointments.vocabulary import SERVICE_NAMES, Service

STEPS = (
    N_("Where"),
    N_("Office"),
    N_("Service"),
    N_("Date"),
    N_("Time"),
    N_("Your details"),
    N_("Check"),
)
WHERE, OFFICE, SERVICE, DATE, TIME, DETAILS, CHECK = range(1, len(STEPS) + 1)

DRAFT_COOKIE = "__Host-draft"
DRAFT_LIFETIME = timedelta(minutes=30)
# The confirmation number and PIN, for the one page that shows them after booking.
BOOKED_COOKIE = "__Host-booked"
BOOKED_LIFETIME = timedelta(minutes=10)
# How far ahead the calendar of days goes, from the office's today.
MONTHS_AHEAD = 2

_MONTH_PARAMETER = re.compile(r"\d{4}-\d{2}")


class DraftExpired(AppointmentError):
    """A step that needs the answers given earlier, which are gone (30 minutes passed, or
    the booking was made)."""

    status = HTTPStatus.CONFLICT
    code = "draft_expired"


def step_labels(visit: Visit) -> list[str]:
    return [visit.gettext(label) for label in STEPS]


def service_name(visit: Visit, service: str) -> str:
    return visit.gettext(SERVICE_NAMES[Service(service)])


# ------------------------------------------------------------------------- ids in URLs


def parse_service(raw: str | None) -> Service:
    try:
        return Service(raw or "")
    except ValueError as error:
        raise InvalidRequest("service is not one of the services.") from error


def parse_day(raw: str | None) -> date:
    try:
        return date.fromisoformat(raw or "")
    except ValueError as error:
        raise InvalidRequest("date is not a date written YYYY-MM-DD.") from error


def parse_month(raw: str | None) -> date | None:
    """The first day of a month written YYYY-MM; None when none is given."""
    if not raw:
        return None
    if not _MONTH_PARAMETER.fullmatch(raw):
        raise InvalidRequest("month is not a month written YYYY-MM.")
    try:
        return date.fromisoformat(f"{raw}-01")
    except ValueError as error:
        raise InvalidRequest("month is not a month written YYYY-MM.") from error


def office_of(raw: str | None) -> Office:
    """The office an `office` id names (NotFound: a clear 404 page)."""
    return catalogue.get(raw or "")


# ----------------------------------------------------------------------- the calendar


def office_today(office: Office, now: datetime) -> date:
    return now.astimezone(ZoneInfo(office.time_zone)).date()


def last_bookable_day(office: Office, now: datetime) -> date:
    """The same day MONTHS_AHEAD months after the office's today (or its month's last)."""
    today = office_today(office, now)
    month = today.replace(day=1)
    for _ in range(MONTHS_AHEAD):
        month = next_month(month)
    following = next_month(month)
    return month.replace(day=min(today.day, (following - timedelta(days=1)).day))


# ---------------------------------------------------------------------------- the draft


@dataclass(frozen=True)
class Details:
    """What the person typed about themselves, once valid."""

    name: str
    date_of_birth: date
    phone: str  # E.164
    email: str | None
    language: str


@dataclass(frozen=True)
class Draft:
    """The answers of this visitor's booking so far (sealed in their cookie)."""

    case_number: str | None = None
    slot: str | None = None
    service: str | None = None
    details: Details | None = None
    # New with every set of details: the booking they make has an idempotency key of its own,
    # and the same draft confirmed twice books once.
    nonce: str | None = None
    # The details form's proofs (site/proofs.py): the widget's solved challenge, the time-lock.
    work: str | None = None
    time_lock: str | None = None

    def payload(self) -> dict[str, Any]:
        payload = asdict(self)
        if self.details is not None:
            payload["details"]["date_of_birth"] = self.details.date_of_birth.isoformat()
        return payload

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Draft:
        details = payload.get("details")
        return cls(
            case_number=payload.get("case_number"),
            slot=payload.get("slot"),
            service=payload.get("service"),
            details=(
                Details(
                    **{**details, "date_of_birth": date.fromisoformat(details["date_of_birth"])}
                )
                if details
                else None
            ),
            nonce=payload.get("nonce"),
            work=payload.get("work"),
            time_lock=payload.get("time_lock"),
        )

    def with_details(
        self,
        slot: SlotId,
        service: Service,
        details: Details,
        proofs: tuple[str | None, str | None],
    ) -> Draft:
        work, time_lock = proofs
        return replace(
            self,
            slot=str(slot),
            service=service.value,
            details=details,
            nonce=_new_nonce(),
            work=work,
            time_lock=time_lock,
        )

    def idempotency_key(self) -> str:
        """The same answers give the same key, whichever proof they carry."""
        answers = replace(self, work=None, time_lock=None).payload()
        return codes.digest("site-booking", json.dumps(answers, sort_keys=True))

    def booking_request(self) -> BookingRequest:
        """The booking these answers ask for; DraftExpired if the answers are not complete."""
        if self.details is None or self.slot is None or self.service is None:
            raise DraftExpired("The booking's answers are not there (any more).")
        service = Service(self.service)
        return BookingRequest(
            slot_id=SlotId.parse(self.slot),
            service=service,
            name=self.details.name,
            date_of_birth=self.details.date_of_birth,
            phone=self.details.phone,
            email=self.details.email,
            language=self.details.language,
            # A receipt number given earlier belongs only to an interview on its case
            case_number=self.case_number if service in CASE_SERVICES else None,
        )


def _new_nonce() -> str:
    return secrets.token_urlsafe(16)


def read_draft(visit: Visit, now: datetime) -> Draft:
    """This visitor's draft; an empty one if there is none, or it expired."""
    payload = security.unseal(DRAFT_COOKIE, visit.cookies.get(DRAFT_COOKIE), now)
    if payload is None:
        return Draft()
    try:
        return Draft.from_payload(payload)
    except (KeyError, TypeError, ValueError):
        return Draft()


def save_draft(visit: Visit, draft: Draft, now: datetime) -> None:
    visit.set_cookie(security.sealed_cookie(DRAFT_COOKIE, draft.payload(), now, DRAFT_LIFETIME))


def clear_draft(visit: Visit) -> None:
    visit.set_cookie(security.expired_cookie(DRAFT_COOKIE))


def check_can_book(office: Office, service: Service, draft: Draft) -> None:
    """Refuse (with the domain's error page) a service this visitor cannot book here: not
    offered, or a case service without the receipt number of a case pending here."""
    check_service_allowed(office, service, draft.case_number)


CHOOSE_A_SERVICE = N_("Choose the service you need.")
CHOOSE_A_TIME = N_("Choose a time.")


def _refused_fields(visit: Visit, errors: Mapping[str, str] | None) -> dict[str, str]:
    """The message of each wrong field, in the page's language; logged by field name only."""
    if not errors:
        return {}
    logger.info("form refused", extra={"fields": sorted(errors)})
    count("FormsRefused")
    return {field: visit.gettext(message) for field, message in errors.items()}


# ------------------------------------------------------------------------ the Where page

WHERE_FIELDS = {"zip": "zip", "country": "country", "receipt": "receipt"}
WHERE_ERRORS = {
    "zip_missing": N_("Enter a ZIP code."),
    "zip_invalid": N_("Enter a ZIP code of 5 digits, like 10001."),
    "country_missing": N_("Choose the country where you live."),
    "country_invalid": N_("Choose a country from the list."),
    "receipt_missing": N_("Enter your receipt number."),
    "receipt_invalid": N_("Enter a receipt number of 3 letters and 10 digits, like ZAR2612345678."),
    "receipt_unknown": N_(
        "No asylum office holds cases with this receipt number. Please check it, or call the "
        "USCIS Contact Center."
    ),
}


def countries_abroad(visit: Visit) -> dict[str, str]:
    """The countries a person abroad may choose, named and sorted in the page's language."""
    return {
        code: name
        for code, name in country_names(visit.language).items()
        if code not in ZIP_CODE_COUNTRIES
    }


def where_page(
    visit: Visit,
    *,
    errors: Mapping[str, str] | None = None,
    values: Mapping[str, str] | None = None,
) -> Response[str]:
    """The first step: a ZIP code, a country, or the receipt number of a case. `errors`
    (field → untranslated message) make it a 422; a receipt number shown again makes it a
    page with personal data."""
    asylum_offices = [
        (office.name, ", ".join(office.case_prefixes))
        for office in sorted(catalogue.all().values(), key=lambda office: office.name)
        if office.case_prefixes
    ]
    translated = _refused_fields(visit, errors)
    return visit.page(
        "book/where.html.j2",
        status=HTTPStatus.UNPROCESSABLE_ENTITY if translated else HTTPStatus.OK,
        personal=bool((values or {}).get("receipt")),
        same_page="/book",
        steps=step_labels(visit),
        step=WHERE,
        errors=translated,
        fields=WHERE_FIELDS,
        values=dict(values or {}),
        countries=countries_abroad(visit),
        asylum_offices=asylum_offices,
    )


# ------------------------------------------------------------------------ the details form

DETAILS_INPUTS = ("name", "dob-month", "dob-day", "dob-year", "phone", "email", "language")
_WRONG_EMAIL = N_("Enter an e-mail address like name@example.com, or leave it empty.")
_NON_ASCII_EMAIL = N_(
    "We cannot send mail to an address with accented or non-Latin letters before the @. "
    "Enter another address, or leave it empty."
)
_WRONG_LANGUAGE = N_("Choose the language of your notice.")


@dataclass(frozen=True)
class DetailsForm:
    """The details form as sent: what was typed (to show again), and the details or the
    errors (by field: "name", "dob", "phone", "email", "language")."""

    values: dict[str, str]
    errors: dict[str, FieldError] = field(default_factory=dict)
    details: Details | None = None


def read_details(fields: Mapping[str, str], today: date) -> DetailsForm:
    """The details form as typed, read by the site's field readers (the same messages as the
    other forms) and the API's rule for e-mail addresses, then made the API's Applicant."""
    values = {name: fields.get(name, "").strip() for name in DETAILS_INPUTS}
    name = read_name(values["name"])
    born = read_date_of_birth(values["dob-month"], values["dob-day"], values["dob-year"], today)
    phone = read_phone(values["phone"])
    errors = {
        key: value
        for key, value in (("name", name), ("dob", born), ("phone", phone))
        if isinstance(value, FieldError)
    }
    if values["email"] and (wrong_email := _email_error(values["email"])):
        errors["email"] = FieldError(wrong_email, "email")
    if values["language"] not in LANGUAGES:
        errors["language"] = FieldError(_WRONG_LANGUAGE, "language")
    if errors:
        return DetailsForm(values, errors)
    # What the readers accept, the API's rules accept too: a refusal here is a fault
    applicant = Applicant.model_validate(
        {"name": name, "dateOfBirth": born, "phone": phone, "email": values["email"] or None}
    )
    details = Details(
        name=applicant.name,
        date_of_birth=applicant.date_of_birth,
        phone=normalise_phone(applicant.phone),
        email=applicant.email,
        language=values["language"],
    )
    return DetailsForm(values, details=details)


def _email_error(typed: str) -> str | None:
    """What is wrong with a typed e-mail address, by the API's rule (schemas.mail_address)."""
    try:
        mail_address(typed)
    except ValueError as error:
        return _NON_ASCII_EMAIL if str(error) == NON_ASCII_MAILBOX else _WRONG_EMAIL
    return None


def details_values(draft: Draft, language: str) -> dict[str, str]:
    """The details form filled with the draft's details (or empty, in the page's language)."""
    values = dict.fromkeys(DETAILS_INPUTS, "")
    values["language"] = language
    details = draft.details
    if details is not None:
        values.update(
            {
                "name": details.name,
                "dob-month": str(details.date_of_birth.month),
                "dob-day": str(details.date_of_birth.day),
                "dob-year": str(details.date_of_birth.year),
                "phone": details.phone,
                "email": details.email or "",
                "language": details.language,
            }
        )
    return values


def details_page(
    visit: Visit,
    *,
    slot: SlotId,
    service: Service,
    values: Mapping[str, str],
    time_lock: str,
    errors: Mapping[str, FieldError] | None = None,
) -> Response[str]:
    """The "Your details" step for a chosen time, with the form's time-lock (proofs.py);
    `errors` make it a 422."""
    office = catalogue.get(slot.office_id)
    wrong = errors or {}
    translated = _refused_fields(visit, {key: error.message for key, error in wrong.items()})
    return visit.page(
        "book/details.html.j2",
        status=HTTPStatus.UNPROCESSABLE_ENTITY if translated else HTTPStatus.OK,
        personal=True,
        same_page=details_url(visit, str(slot), service.value).removeprefix(f"/{visit.language}"),
        steps=step_labels(visit),
        step=DETAILS,
        errors=translated,
        focus={key: error.focus for key, error in wrong.items()},
        values=dict(values),
        office=office,
        service=service.value,
        service_name=service_name(visit, service),
        slot=str(slot),
        start=slot.start(office.time_zone),
        month_names=month_names(visit.language),
        time_lock=time_lock,
    )


# ------------------------------------------------------------------------------ offices


def address_lines(office: Office, language: str) -> list[str]:
    """An office's address as written on an envelope, its country named in `language`."""
    address = office.address
    city = ", ".join(part for part in (address.city, address.state) if part)
    city_line = " ".join(part for part in (city, address.postal_code) if part)
    lines = [address.street, city_line]
    if address.country != "US":
        lines.append(country_names(language).get(address.country, address.country))
    return lines


@dataclass(frozen=True)
class OfficeChoice:
    office: Office
    address: list[str]
    distance: str | None  # "12.3 miles", in the page's language
    for_cases: bool  # an asylum office: only for interviews on a case it holds


def office_choices(matches: list[OfficeMatch], language: str) -> list[OfficeChoice]:
    return [
        OfficeChoice(
            office=match.office,
            address=address_lines(match.office, language),
            distance=(
                None
                if match.distance_miles is None
                else distance_text(match.distance_miles, language)
            ),
            for_cases=bool(match.office.case_prefixes),
        )
        for match in matches
    ]


# ------------------------------------------------------------------ links between steps


def _link(visit: Visit, path: str, **query: str) -> str:
    return f"/{visit.language}{path}?{urlencode(query)}"


def services_url(visit: Visit, office_id: str) -> str:
    return _link(visit, "/book/services", office=office_id)


def days_url(visit: Visit, office_id: str, service: str, month: date) -> str:
    return _link(visit, "/book/days", office=office_id, service=service, month=f"{month:%Y-%m}")


def times_url(visit: Visit, office_id: str, service: str, day: date) -> str:
    return _link(visit, "/book/times", office=office_id, service=service, date=day.isoformat())


def details_url(visit: Visit, slot: str, service: str) -> str:
    return _link(visit, "/book/details", slot=slot, service=service)


# ------------------------------------------------------------------- check your answers


@dataclass(frozen=True)
class AnswerRow:
    label: str
    lines: list[str]
    change_url: str


def answer_rows(visit: Visit, draft: Draft) -> list[AnswerRow]:
    """Every answer of a complete draft, each with the link to the step that changes it."""
    request = draft.booking_request()
    details = draft.details
    assert details is not None  # booking_request() refuses a draft without details
    slot = request.slot_id
    office = catalogue.get(slot.office_id)
    start = slot.start(office.time_zone)
    service = request.service.value
    to_details = details_url(visit, str(slot), service)
    gettext, language = visit.gettext, visit.language
    rows = []
    if request.case_number:
        rows.append(
            AnswerRow(gettext("Receipt number"), [request.case_number], f"/{language}/book#case")
        )
    rows += [
        AnswerRow(
            gettext("Office"),
            [office.name, *address_lines(office, language)],
            f"/{language}/book",
        ),
        AnswerRow(
            gettext("Service"),
            [service_name(visit, service)],
            services_url(visit, office.office_id),
        ),
        AnswerRow(
            gettext("Date"),
            [date_text(start, language)],
            days_url(visit, office.office_id, service, slot.day),
        ),
        AnswerRow(
            gettext("Time"),
            [f"{time_text(start, language)} ({time_zone_text(office.time_zone, language)})"],
            times_url(visit, office.office_id, service, slot.day),
        ),
        AnswerRow(gettext("Name"), [details.name], f"{to_details}#name"),
        AnswerRow(
            gettext("Date of birth"),
            [date_text(details.date_of_birth, language, weekday=False)],
            f"{to_details}#dob-month",
        ),
        AnswerRow(gettext("Phone number"), [phone_text(details.phone)], f"{to_details}#phone"),
        AnswerRow(
            gettext("E-mail address"),
            [details.email or gettext("None given")],
            f"{to_details}#email",
        ),
        AnswerRow(
            gettext("Language of your notice"),
            [LANGUAGE_NAMES[details.language]],
            f"{to_details}#language",
        ),
    ]
    return rows
