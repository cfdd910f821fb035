"""My appointment on the site: sign in with the confirmation number and PIN, then see the
appointment, print its notice, add it to a calendar, move it to another time at the same office,
cancel it, and sign out. Every page after signing in reads the appointment of the session."""

from __future__ import annotations

from datetime import date, datetime
from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from appointments import access, booking, notice_files, slots
from appointments.api import utc_now
from appointments.errors import (
    ChallengeFailed,
    InvalidRequest,
    Locked,
    NotFound,
    SlotFull,
    SlotPassed,
    WrongPin,
)
from appointments.models import CANCELLED, AppointmentModel
from appointments.observability import count, count_refusal
from appointments.offices import Office, catalogue
from appointments.site import proofs
from appointments.site.calendar import month_end, month_of
from appointments.site.my_appointment import (
    TIME_MISSING,
    MonthsOffered,
    SignIn,
    calendar_file,
    details_of,
    read_day,
)
from appointments.site.pages import ERROR_MESSAGES, Visit
from appointments.site.resolver import site_function
from appointments.site.sessions import end_session, signed_in_appointment, start_session
from appointments.slots import SlotId
from appointments.vocabulary import Service

router = Router()
CALENDAR_CONTENT_TYPE = "text/calendar; charset=utf-8"


def _visit(lang: str) -> Visit:
    return Visit.of(router.current_event, lang)


def _office_of(appointment: AppointmentModel) -> Office:
    return catalogue.get(appointment.office_id)


# ------------------------------------------------------------------------------ signing in


def _sign_in_page(
    visit: Visit,
    *,
    confirmation_number: str = "",
    errors: dict[str, str] | None = None,
    status: int = HTTPStatus.OK,
) -> Response[str]:
    return visit.page(
        "appointment/sign_in.html.j2",
        status=status,
        personal=True,
        confirmation_number=confirmation_number,
        errors=errors or {},
    )


@router.get("/<lang>/appointment/sign-in")
def sign_in_form(lang: str) -> Response[str]:
    return _sign_in_page(_visit(lang))


@router.post("/<lang>/appointment/sign-in")
def sign_in(lang: str) -> Response[str]:
    visit = _visit(lang)
    answers = SignIn.of(visit.form())
    problems = answers.problems()
    if problems:
        errors = {name: visit.gettext(message) for name, message in problems.items()}
        return _sign_in_page(
            visit,
            confirmation_number=answers.confirmation_number,
            errors=errors,
            status=HTTPStatus.UNPROCESSABLE_ENTITY,
        )
    now = utc_now()
    try:
        appointment = access.authenticate(answers.confirmation_number, answers.pin, now)
    except (WrongPin, NotFound):
        # An unknown number is answered like a wrong PIN: the page tells nothing more.
        count("SignInsRefused")
        return _sign_in_page(
            visit,
            confirmation_number=answers.confirmation_number,
            errors={"pin": visit.gettext(ERROR_MESSAGES["wrong_pin"])},
            status=HTTPStatus.FORBIDDEN,
        )
    except Locked as locked:
        count("SignInsRefused")
        page = _sign_in_page(
            visit,
            confirmation_number=answers.confirmation_number,
            errors={"pin": visit.gettext(ERROR_MESSAGES["locked"])},
            status=HTTPStatus.LOCKED,
        )
        page.headers["Retry-After"] = str(locked.retry_after_seconds)
        return page
    start_session(visit, appointment, now)
    count("SignIns")
    return visit.redirect("/appointment")


@router.post("/<lang>/appointment/sign-out")
def sign_out(lang: str) -> Response[str]:
    visit = _visit(lang)
    visit.form()
    end_session(visit)
    return visit.redirect("")


# ---------------------------------------------------------------------------- the appointment


@router.get("/<lang>/appointment")
def my_appointment(lang: str) -> Response[str]:
    visit, now = _visit(lang), utc_now()
    appointment = signed_in_appointment(visit, now)
    details = details_of(appointment, _office_of(appointment), visit.gettext, now)
    return visit.page(
        "appointment/view.html.j2",
        personal=True,
        details=details,
        moved=visit.query("moved") == "1",
    )


@router.get("/<lang>/appointment/calendar.ics")
def calendar_event(lang: str) -> Response[str]:
    visit, now = _visit(lang), utc_now()
    appointment = signed_in_appointment(visit, now)
    details = details_of(appointment, _office_of(appointment), visit.gettext, now)
    ics = calendar_file(details, visit.gettext, now)
    return visit.download(
        ics.decode(), content_type=CALENDAR_CONTENT_TYPE, filename="appointment.ics"
    )


@router.get("/<lang>/appointment/notice")
def notice(lang: str) -> Response[str]:
    visit = _visit(lang)
    appointment = signed_in_appointment(visit, utc_now())
    current = notice_files.notice_of_this_version(appointment)
    if current is None:
        return visit.page("appointment/notice_pending.html.j2", personal=True)
    count("NoticesDownloaded")
    return visit.redirect_away(notice_files.download_url(current.pdf_key))


# ------------------------------------------------------------------------------- rescheduling


@router.get("/<lang>/appointment/days")
def new_day(lang: str) -> Response[str]:
    visit, now = _visit(lang), utc_now()
    appointment = signed_in_appointment(visit, now)
    booking.check_can_move(appointment, now)
    office = _office_of(appointment)
    offered = MonthsOffered.at(office, now)
    first = offered.month(visit.query("month"))
    listing = slots.list_free_days(
        office.office_id,
        Service(appointment.service),
        max(first, offered.today),
        month_end(first),
        now,
    )
    month = month_of(first, listing.days, lang, earliest=offered.today, latest=offered.latest)
    details = details_of(appointment, office, visit.gettext, now)
    return visit.page(
        "appointment/days.html.j2",
        personal=True,
        details=details,
        month=month,
        day_url=lambda day: f"/{lang}/appointment/times?date={day.isoformat()}",
        month_url=lambda first_day: f"/{lang}/appointment/days?month={first_day:%Y-%m}",
    )


def _times_page(
    visit: Visit,
    appointment: AppointmentModel,
    day: date,
    now: datetime,
    *,
    time_lock: str | None = None,
    errors: dict[str, str] | None = None,
    status: int = HTTPStatus.OK,
) -> Response[str]:
    """The free times of `day`, in a form whose time-lock (proofs.py) is new unless given."""
    office = _office_of(appointment)
    listing = slots.list_free_slots(office.office_id, day, Service(appointment.service), now)
    choices = [slot for slot in listing.slots if str(slot.slot_id) != appointment.slot_id]
    return visit.page(
        "appointment/times.html.j2",
        status=status,
        personal=True,
        details=details_of(appointment, office, visit.gettext, now),
        day=day,
        choices=choices,
        errors=errors or {},
        time_lock=time_lock or proofs.new_time_lock(now),
    )


@router.get("/<lang>/appointment/times")
def new_time(lang: str) -> Response[str]:
    visit, now = _visit(lang), utc_now()
    appointment = signed_in_appointment(visit, now)
    booking.check_can_move(appointment, now)
    return _times_page(visit, appointment, read_day(visit.query("date")), now)


# What the form of new times sends, and the wait page sends again
_RESCHEDULE_FIELDS = ("date", "slot", proofs.WORK_FIELD, proofs.TIME_LOCK_FIELD)


@router.post("/<lang>/appointment/reschedule")
def reschedule(lang: str) -> Response[str]:
    visit, now = _visit(lang), utc_now()
    fields = visit.form()
    appointment = signed_in_appointment(visit, now)
    day = read_day(fields.get("date"))
    time_lock = fields.get(proofs.TIME_LOCK_FIELD)
    if not fields.get("slot"):
        errors = {"slot": visit.gettext(TIME_MISSING)}
        return _times_page(
            visit,
            appointment,
            day,
            now,
            time_lock=time_lock,
            errors=errors,
            status=HTTPStatus.UNPROCESSABLE_ENTITY,
        )
    new_slot = SlotId.parse(fields["slot"])
    if new_slot.office_id != appointment.office_id:
        raise InvalidRequest("The site moves an appointment within its office only.")
    try:
        proof = proofs.proof_of(fields.get(proofs.WORK_FIELD), time_lock, now)
    except ChallengeFailed as early:
        if early.reason != proofs.EARLY:
            raise
        count_refusal(early)
        sent_again = {name: fields.get(name, "") for name in _RESCHEDULE_FIELDS}
        return proofs.wait_page(
            visit,
            early,
            action="/appointment/reschedule",
            same_page="/appointment",
            fields=sent_again,
        )
    try:
        booking.reschedule_appointment(appointment, new_slot, proof=proof, now=now)
    except (SlotFull, SlotPassed) as refused:
        count("ReschedulesRefused")
        count_refusal(refused)
        return visit.page(
            "appointment/time_taken.html.j2",
            status=refused.status,
            personal=True,
            message=visit.gettext(ERROR_MESSAGES[refused.code]),
            day=new_slot.day,
        )
    count("AppointmentsRescheduled")
    return visit.redirect("/appointment", query={"moved": "1"})


# -------------------------------------------------------------------------------- cancelling


@router.get("/<lang>/appointment/cancel")
def cancel_form(lang: str) -> Response[str]:
    visit, now = _visit(lang), utc_now()
    appointment = signed_in_appointment(visit, now)
    booking.check_can_change(appointment, now)
    details = details_of(appointment, _office_of(appointment), visit.gettext, now)
    return visit.page("appointment/cancel.html.j2", personal=True, details=details)


@router.post("/<lang>/appointment/cancel")
def cancel(lang: str) -> Response[str]:
    visit, now = _visit(lang), utc_now()
    visit.form()
    appointment = signed_in_appointment(visit, now)
    booking.cancel_appointment(appointment, now=now)
    count("AppointmentsCancelled")
    return visit.redirect("/appointment/cancelled")


@router.get("/<lang>/appointment/cancelled")
def cancelled(lang: str) -> Response[str]:
    visit, now = _visit(lang), utc_now()
    appointment = signed_in_appointment(visit, now)
    if appointment.status != CANCELLED:
        return visit.redirect("/appointment")
    return visit.page(
        "appointment/cancelled.html.j2",
        personal=True,
        confirmation_number=appointment.confirmation_number,
    )


lambda_handler = site_function(router)
