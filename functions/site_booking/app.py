"""The booking journey's steps that keep what the person types: the receipt number of a case,
their details, the answers to check, the booking itself and its confirmation."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from appointments import access, booking, networks
from appointments.errors import (
    AlreadyBooked,
    CaseNumberRequired,
    ChallengeFailed,
    NotFound,
    SlotFull,
    SlotPassed,
)
from appointments.observability import count_refusal, measure
from appointments.offices import catalogue
from appointments.services import office_holding_case
from appointments.site import journey, proofs, security
from appointments.site.pages import ERROR_MESSAGES, Visit, message_for
from appointments.site.resolver import site_function
from appointments.site.sessions import SESSION_COOKIE, signed_in_appointment, start_session
from appointments.slots import SlotId
from appointments.vocabulary import Service

router = Router()


@router.post("/<lang>/book/case")
def case(lang: str) -> Response[str]:
    visit = Visit.of(router.current_event, lang)
    typed = visit.form().get("receipt", "").strip()
    if not typed:
        return journey.where_page(
            visit, errors={"receipt": journey.WHERE_ERRORS["receipt_missing"]}
        )
    try:
        office, case_number = office_holding_case(typed)
    except (CaseNumberRequired, NotFound) as refused:
        problem = (
            "receipt_invalid" if isinstance(refused, CaseNumberRequired) else "receipt_unknown"
        )
        return journey.where_page(
            visit, errors={"receipt": journey.WHERE_ERRORS[problem]}, values={"receipt": typed}
        )
    now = datetime.now(UTC)
    draft = journey.read_draft(visit, now)
    journey.save_draft(visit, replace(draft, case_number=case_number), now)
    return visit.redirect("/book/services", query={"office": office.office_id})


@router.get("/<lang>/book/details")
def details(lang: str) -> Response[str]:
    visit = Visit.of(router.current_event, lang)
    service = journey.parse_service(visit.query("service"))
    if not visit.query("slot"):
        # The times form sent without a time (a browser that does not check `required`)
        office, day = visit.query("office"), journey.parse_day(visit.query("date"))
        query = {"office": office or "", "service": service.value, "date": day.isoformat()}
        return visit.redirect("/book/times", query={**query, "missing": "slot"})
    slot = SlotId.parse(visit.query("slot") or "")
    now = datetime.now(UTC)
    draft = journey.read_draft(visit, now)
    _check_can_book(slot, service, draft, now)
    values = journey.details_values(draft, visit.language)
    time_lock = proofs.new_time_lock(now)
    return journey.details_page(
        visit, slot=slot, service=service, values=values, time_lock=time_lock
    )


@router.post("/<lang>/book/details")
def save_details(lang: str) -> Response[str]:
    visit = Visit.of(router.current_event, lang)
    fields = visit.form()
    slot = SlotId.parse(fields.get("slot", ""))
    service = journey.parse_service(fields.get("service"))
    now = datetime.now(UTC)
    draft = journey.read_draft(visit, now)
    _check_can_book(slot, service, draft, now)
    form = journey.read_details(fields, now.date())
    time_lock = fields.get(proofs.TIME_LOCK_FIELD) or proofs.new_time_lock(now)
    if form.details is None:
        return journey.details_page(
            visit,
            slot=slot,
            service=service,
            values=form.values,
            time_lock=time_lock,
            errors=form.errors,
        )
    work = fields.get(proofs.WORK_FIELD)
    answers = draft.with_details(slot, service, form.details, (work, time_lock))
    journey.save_draft(visit, answers, now)
    return visit.redirect("/book/check")


def _check_can_book(slot: SlotId, service: Service, draft: journey.Draft, now: datetime) -> None:
    """Refuse now, before the details are typed, what the booking would refuse anyway."""
    office = catalogue.get(slot.office_id)
    journey.check_can_book(office, service, draft)
    if slot.start(office.time_zone) <= now:
        raise SlotPassed("That time has already passed.")


@router.get("/<lang>/book/check")
def check(lang: str) -> Response[str]:
    visit = Visit.of(router.current_event, lang)
    draft = journey.read_draft(visit, datetime.now(UTC))
    return visit.page(
        "book/check.html.j2",
        personal=True,
        steps=journey.step_labels(visit),
        step=journey.CHECK,
        rows=journey.answer_rows(visit, draft),
    )


@router.post("/<lang>/book/confirm")
def confirm(lang: str) -> Response[str]:
    visit = Visit.of(router.current_event, lang)
    visit.form()
    now = datetime.now(UTC)
    draft = journey.read_draft(visit, now)
    if draft.details is None and (
        visit.cookies.get(journey.BOOKED_COOKIE) or visit.cookies.get(SESSION_COOKIE)
    ):
        # The same form sent again after its booking was made: the booking's page again
        return visit.redirect("/book/confirmation")
    request = draft.booking_request()
    try:
        proof = proofs.proof_of(draft.work, draft.time_lock, now)
    except ChallengeFailed as early:
        if early.reason != proofs.EARLY:
            raise
        count_refusal(early)
        return proofs.wait_page(visit, early, action="/book/confirm", same_page="/book/check")
    try:
        booked = booking.book(
            request,
            proof=proof,
            idempotency_key=draft.idempotency_key(),
            now=now,
            network=networks.viewer_network(visit.event.headers),
        )
    except (SlotFull, SlotPassed) as taken:
        count_refusal(taken)
        return _choose_another_time(visit, request, taken)
    except AlreadyBooked as refused:
        count_refusal(refused)
        return visit.page(
            "book/already_booked.html.j2",
            status=refused.status,
            same_page="/book/check",
            message=visit.gettext(message_for(refused)),
        )
    for metric, (value, unit) in booked.metrics(now).items():
        measure(metric, value, unit)
    journey.clear_draft(visit)
    start_session(visit, booked.appointment, now)
    credentials = {"c": booked.appointment.confirmation_number, "p": booked.pin}
    visit.set_cookie(
        security.sealed_cookie(journey.BOOKED_COOKIE, credentials, now, journey.BOOKED_LIFETIME)
    )
    return visit.redirect("/book/confirmation")


def _choose_another_time(
    visit: Visit, request: booking.BookingRequest, taken: SlotFull | SlotPassed
) -> Response[str]:
    """Nothing was booked; the draft stays, so the details need not be typed again."""
    slot = request.slot_id
    return visit.page(
        "book/taken.html.j2",
        status=taken.status,
        same_page="/book/check",
        passed=isinstance(taken, SlotPassed),
        message=visit.gettext(ERROR_MESSAGES[taken.code]),
        times_url=journey.times_url(visit, slot.office_id, request.service.value, slot.day),
    )


@router.get("/<lang>/book/confirmation")
def confirmation(lang: str) -> Response[str]:
    """The confirmation number and PIN, once; afterwards the appointment without its PIN."""
    visit = Visit.of(router.current_event, lang)
    now = datetime.now(UTC)
    booked = security.unseal(journey.BOOKED_COOKIE, visit.cookies.get(journey.BOOKED_COOKIE), now)
    if booked is not None:
        appointment, pin = access.find(str(booked.get("c", ""))), str(booked.get("p", ""))
        visit.set_cookie(security.expired_cookie(journey.BOOKED_COOKIE))
    else:
        appointment, pin = signed_in_appointment(visit, now), None
    office = catalogue.get(appointment.office_id)
    return visit.page(
        "book/confirmation.html.j2",
        personal=True,
        appointment=appointment,
        pin=pin,
        office=office,
        address=journey.address_lines(office, visit.language),
        start=appointment.start_utc.astimezone(ZoneInfo(office.time_zone)),
        service_name=journey.service_name(visit, appointment.service),
    )


lambda_handler = site_function(router)
