"""My appointment on the site (a browser without JavaScript), on moto: signing in, the
appointment's page, moving it, cancelling it, its calendar file and notice, signing out."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from icalendar import Calendar

from appointments import codes
from appointments.models import AppointmentModel, SlotModel
from appointments.notice_files import notice_file_for
from appointments.site.pages import Visit
from appointments.site.sessions import SignInNeeded, signed_in_appointment
from appointments.slots import SlotId
from tests.helpers import (
    Page,
    SiteVisitor,
    api_event,
    book,
    book_numbered,
    count_dynamodb_calls,
    first_free_slot,
    free_slots,
)

pytestmark = pytest.mark.usefixtures("open_slots")

WRONG_PIN_MESSAGE = "The confirmation number or PIN is not correct."
TAKEN_MESSAGE = "That time was just taken. Please choose another time."


def wrong_pin_for(booked: dict[str, Any]) -> str:
    return "000000" if booked["pin"] != "000000" else "111111"


def sign_in(visitor: SiteVisitor, booked: dict[str, Any], pin: str | None = None) -> Page:
    visitor.get("/en/appointment/sign-in")
    return visitor.post(
        "/en/appointment/sign-in",
        {"confirmation_number": booked["confirmationNumber"], "pin": pin or booked["pin"]},
    )


def signed_in(booked: dict[str, Any]) -> SiteVisitor:
    visitor = SiteVisitor()
    assert sign_in(visitor, booked).status == 303
    return visitor


def seats_taken(slot_id: str) -> int:
    slot = SlotId.parse(slot_id)
    return int(SlotModel.get(slot.office_day, slot.start_time).booked)


def stored(booked: dict[str, Any]) -> AppointmentModel:
    return AppointmentModel.get(booked["confirmationNumber"], consistent_read=True)


def h1_count(page: Page) -> int:
    return len(re.findall(r"<h1[ >]", page.html))


# ------------------------------------------------------------------------------ signing in


def test_signing_in_opens_the_appointment_with_every_detail() -> None:
    # Given a booked appointment
    booked = book()
    visitor = SiteVisitor()
    # When its holder signs in with the confirmation number and PIN
    signed = sign_in(visitor, booked)
    page = visitor.get("/en/appointment")
    # Then they are sent to their appointment, which shows its details in the office's zone
    assert signed.status == 303
    assert signed.headers["location"] == "/en/appointment"
    assert page.status == 200, page.text
    assert page.headers["cache-control"] == "no-store"
    assert h1_count(page) == 1
    start = datetime.fromisoformat(booked["start"]).astimezone(ZoneInfo("America/New_York"))
    for shown in (
        booked["confirmationNumber"],
        "Booked",
        "New York City Field Office",
        "100 Sample Plaza, Suite 300",
        "ADIT stamp (temporary proof of permanent residence)",
        f"{start:%A, %B} {start.day}, {start.year}",
        "Eastern Time",
        "Maria Garcia",
        "Friday, April 12, 1985",
        "+1 202-555-0143",
        "maria@example.com",
        "Español",
        "Print the notice",
        "Add to my calendar",
        "Choose another time",
        "Cancel the appointment",
        "Sign out",
    ):
        assert shown in page.text
    assert booked["pin"] not in page.html


def test_a_wrong_pin_shows_the_form_again_with_the_number_and_without_the_pin() -> None:
    # Given an appointment
    booked = book()
    wrong = wrong_pin_for(booked)
    # When someone signs in with a wrong PIN
    page = sign_in(SiteVisitor(), booked, pin=wrong)
    # Then the form comes back, refused, the number kept and the PIN typed nowhere in it
    assert page.status == 403
    assert WRONG_PIN_MESSAGE in page.text
    assert 'href="#pin"' in page.html
    assert 'aria-invalid="true"' in page.html
    assert f'value="{booked["confirmationNumber"]}"' in page.html
    assert wrong not in page.html
    assert re.search(r'<input [^>]*id="pin" name="pin" type="text" value=""', page.html)
    assert not any(cookie.startswith("__Host-appointment=") for cookie in page.set_cookies)


def test_an_unknown_confirmation_number_is_refused_like_a_wrong_pin() -> None:
    # Given a confirmation number that is well formed but belongs to no appointment
    unknown = {"confirmationNumber": codes.new_confirmation_number(), "pin": "123456"}
    # When someone signs in with it
    page = sign_in(SiteVisitor(), unknown)
    # Then the page says the same as for a wrong PIN
    assert page.status == 403
    assert WRONG_PIN_MESSAGE in page.text


def test_answers_that_cannot_be_right_are_asked_again_before_any_pin_is_counted() -> None:
    # Given an appointment
    booked = book()
    # When the number is mistyped and the PIN has letters in it
    page = sign_in(SiteVisitor(), {"confirmationNumber": "7K2M9", "pin": "12ab56"})
    # Then both fields say what is wrong, and nothing was counted against the appointment
    assert page.status == 422
    assert "Check your confirmation number." in page.text
    assert "Check your PIN. It has 6 to 8 numbers." in page.text
    assert "12ab56" not in page.html
    assert stored(booked).pin_failures == 0


def test_a_pin_typed_with_arabic_indic_digits_signs_in() -> None:
    # Given an appointment, and its PIN typed on an Arabic keyboard, with a space
    booked = book()
    typed = " ".join(chr(0x0660 + int(digit)) for digit in booked["pin"])
    # When its holder signs in with it
    page = sign_in(SiteVisitor(), booked, pin=typed)
    # Then it is the PIN
    assert page.status == 303
    assert page.headers["location"] == "/en/appointment"


def test_the_sign_in_locks_after_five_wrong_pins_even_for_the_right_one() -> None:
    # Given an appointment and five wrong PINs typed into the sign-in form
    booked = book()
    visitor = SiteVisitor()
    statuses = [sign_in(visitor, booked, pin=wrong_pin_for(booked)).status for _ in range(5)]
    # When the right PIN is typed
    page = sign_in(visitor, booked)
    # Then the form says the appointment is locked for a while, and no session starts
    assert statuses == [403, 403, 403, 403, 423]
    assert page.status == 423
    assert "Too many wrong PINs. Please wait 15 minutes, then try again." in page.text
    assert 'href="#pin"' in page.html
    assert f'value="{booked["confirmationNumber"]}"' in page.html
    assert 0 < int(page.headers["retry-after"]) <= 15 * 60
    assert visitor.get("/en/appointment").status == 303


# --------------------------------------------------------------------------- the session


PAGES_OF_AN_APPOINTMENT = (
    "/en/appointment",
    "/en/appointment/days",
    "/en/appointment/times",
    "/en/appointment/cancel",
    "/en/appointment/cancelled",
    "/en/appointment/calendar.ics",
    "/en/appointment/notice",
)


def test_without_a_session_every_page_of_an_appointment_sends_to_sign_in() -> None:
    # When a browser that has not signed in opens the pages of an appointment
    pages = {path: SiteVisitor().get(path) for path in PAGES_OF_AN_APPOINTMENT}
    # Then each sends it to sign in, in its language
    assert {path: page.status for path, page in pages.items()} == dict.fromkeys(pages, 303)
    assert {page.headers["location"] for page in pages.values()} == {"/en/appointment/sign-in"}


def test_a_new_pin_ends_the_sessions_opened_with_the_old_one() -> None:
    # Given a visitor signed in
    booked = book()
    visitor = signed_in(booked)
    # When the appointment gets a new PIN
    AppointmentModel(booked["confirmationNumber"]).update(
        actions=[
            AppointmentModel.pin_hash.set(codes.pin_hash(booked["confirmationNumber"], "987654"))
        ]
    )
    # Then the next page sends them to sign in again
    page = visitor.get("/en/appointment")
    assert page.status == 303
    assert page.headers["location"] == "/en/appointment/sign-in"


def visit_with_cookies(visitor: SiteVisitor) -> Visit:
    cookie = "; ".join(f"{name}={value}" for name, value in visitor.cookies.items())
    event = api_event("GET", "/en/appointment", headers={"Cookie": cookie})
    return Visit.of(APIGatewayProxyEvent(event), "en")


def test_a_session_ends_fifteen_minutes_after_the_last_page() -> None:
    # Given a visitor who signed in now
    booked = book()
    visitor = signed_in(booked)
    now = datetime.now(UTC)
    # Then the session holds for 15 minutes, and not longer
    found = signed_in_appointment(visit_with_cookies(visitor), now + timedelta(minutes=14))
    assert found.confirmation_number == booked["confirmationNumber"]
    with pytest.raises(SignInNeeded):
        signed_in_appointment(visit_with_cookies(visitor), now + timedelta(minutes=15, seconds=1))


def test_signing_out_ends_the_session() -> None:
    # Given a visitor signed in, on their appointment's page
    visitor = signed_in(book())
    visitor.get("/en/appointment")
    # When they sign out
    page = visitor.post("/en/appointment/sign-out", {})
    # Then they are on the start page and their appointment needs a new sign-in
    assert page.status == 303
    assert page.headers["location"] == "/en"
    assert any(c.startswith("__Host-appointment=;") for c in page.set_cookies)
    assert visitor.get("/en/appointment").status == 303


# ----------------------------------------------------------------------------- rescheduling


def test_the_calendar_of_free_days_is_one_query_per_month() -> None:
    # Given a visitor signed in
    visitor = signed_in(book())
    # When they look for a new day
    with count_dynamodb_calls() as calls:
        page = visitor.get("/en/appointment/days")
    # Then the month's free days come from one Query, linked to their times
    assert page.status == 200, page.text
    assert calls["Query"] == 1
    assert h1_count(page) == 1
    assert re.search(r'href="/en/appointment/times\?date=\d{4}-\d{2}-\d{2}"', page.html)


def test_rescheduling_moves_the_seat_in_one_transaction() -> None:
    # Given an appointment in the first free time, and its holder signed in
    first, second = (slot["slotId"] for slot in free_slots()[:2])
    booked = book(first)
    visitor = signed_in(booked)
    day = SlotId.parse(second).day.isoformat()
    times = visitor.get("/en/appointment/times", query={"date": day})
    # When they choose the second time
    with count_dynamodb_calls() as calls:
        page = visitor.post("/en/appointment/reschedule", {"date": day, "slot": second})
    # Then one transaction gave back the old seat and took the new one
    assert times.status == 200, times.text
    assert f'value="{second}"' in times.html
    assert f'value="{first}"' not in times.html
    assert page.status == 303
    assert page.headers["location"] == "/en/appointment?moved=1"
    assert calls["TransactWriteItems"] == 1
    assert (seats_taken(first), seats_taken(second)) == (0, 1)
    assert stored(booked).slot_id == second
    assert "Your appointment was moved" in visitor.get("/en/appointment", query={"moved": "1"}).text


def test_an_appointment_moved_twice_offers_no_third_move() -> None:
    # Given an appointment moved twice, and its holder signed in
    first, second, third = (slot["slotId"] for slot in free_slots()[:3])
    booked = book(first)
    visitor = signed_in(booked)
    for slot in (second, third):
        day = SlotId.parse(slot).day.isoformat()
        visitor.get("/en/appointment/times", query={"date": day})
        assert visitor.post("/en/appointment/reschedule", {"date": day, "slot": slot}).status == 303
    # When they open it, and then the page of new times anyway
    page = visitor.get("/en/appointment")
    times = visitor.get(
        "/en/appointment/times", query={"date": SlotId.parse(first).day.isoformat()}
    )
    # Then no other time is offered, and the times page says why
    assert "/en/appointment/days" not in page.html
    assert "as often as allowed" in page.text
    assert 'href="/en/appointment/cancel"' in page.html
    assert times.status == 409
    assert "as often as allowed" in times.text


def test_a_time_taken_meanwhile_is_a_409_page_and_the_appointment_stays() -> None:
    # Given an appointment, and the time its holder is about to choose filled meanwhile
    first, second = (slot["slotId"] for slot in free_slots()[:2])
    booked = book(first)
    visitor = signed_in(booked)
    day = SlotId.parse(second).day.isoformat()
    visitor.get("/en/appointment/times", query={"date": day})
    target = SlotId.parse(second)
    slot = SlotModel.get(target.office_day, target.start_time)
    for person in range(int(slot.capacity - slot.booked)):
        book_numbered(target, person)
    # When they choose it
    page = visitor.post("/en/appointment/reschedule", {"date": day, "slot": second})
    # Then a page says it was just taken and links to that day's times; nothing moved
    assert page.status == 409
    assert TAKEN_MESSAGE in page.text
    assert f'href="/en/appointment/times?date={day}"' in page.html
    assert h1_count(page) == 1
    assert stored(booked).slot_id == first
    assert seats_taken(first) == 1


def test_choosing_no_time_asks_again() -> None:
    # Given a visitor on a day's times
    visitor = signed_in(book())
    day = SlotId.parse(free_slots()[1]["slotId"]).day.isoformat()
    visitor.get("/en/appointment/times", query={"date": day})
    # When they send the form without a time
    page = visitor.post("/en/appointment/reschedule", {"date": day})
    # Then the times come back with the question
    assert page.status == 422
    assert "Choose a time." in page.text
    assert 'href="#slot-1"' in page.html


# ------------------------------------------------------------------------------- cancelling


def test_cancelling_asks_first_then_frees_the_seat() -> None:
    # Given a visitor signed in
    slot_id = first_free_slot()
    booked = book(slot_id)
    visitor = signed_in(booked)
    # When they open the cancel step
    question = visitor.get("/en/appointment/cancel")
    # Then nothing is cancelled yet
    assert question.status == 200, question.text
    assert "Cancel this appointment?" in question.text
    assert "Yes, cancel it" in question.text
    assert 'href="/en/appointment">No, keep it' in question.html
    assert seats_taken(slot_id) == 1
    # When they confirm
    answer = visitor.post("/en/appointment/cancel", {})
    # Then the seat is free again and the page says so
    assert answer.status == 303
    assert answer.headers["location"] == "/en/appointment/cancelled"
    assert seats_taken(slot_id) == 0
    assert stored(booked).status == "cancelled"
    done = visitor.get("/en/appointment/cancelled")
    assert "the time is now free for someone else" in done.text
    assert "There is no penalty for cancelling." in done.text
    assert 'href="/en/book"' in done.html


def test_a_cancel_without_the_pages_form_token_changes_nothing() -> None:
    # Given a visitor signed in
    slot_id = first_free_slot()
    booked = book(slot_id)
    visitor = signed_in(booked)
    # When a cancel is posted without the token of the confirmation page (from another site)
    page = visitor.post("/en/appointment/cancel", {}, with_csrf=False)
    # Then it is refused and the appointment holds its seat
    assert page.status == 403
    assert stored(booked).status == "booked"
    assert seats_taken(slot_id) == 1


def test_a_cancelled_appointment_shows_its_state_and_no_change() -> None:
    # Given a cancelled appointment
    visitor = signed_in(book())
    visitor.get("/en/appointment/cancel")
    visitor.post("/en/appointment/cancel", {})
    # When its holder opens it
    page = visitor.get("/en/appointment")
    # Then it says so, and offers no change
    assert "This appointment is cancelled. Do not go to the office." in page.text
    assert "Cancelled" in page.text
    assert "Choose another time" not in page.text
    assert "Cancel the appointment" not in page.text
    assert visitor.get("/en/appointment/cancel").status == 409


def test_a_passed_appointment_offers_no_change() -> None:
    # Given an appointment whose time has passed
    booked = book()
    visitor = signed_in(booked)
    AppointmentModel(booked["confirmationNumber"]).update(
        actions=[AppointmentModel.start_utc.set(datetime.now(UTC) - timedelta(hours=1))]
    )
    # When its holder opens it
    page = visitor.get("/en/appointment")
    # Then it says so, and offers no change
    assert "The time of this appointment has passed." in page.text
    assert "Choose another time" not in page.text
    assert visitor.get("/en/appointment/days").status == 409


# ------------------------------------------------------------------ calendar file and notice


def test_the_calendar_file_is_the_appointment_in_the_offices_time_zone() -> None:
    # Given an appointment in Honolulu, and its holder signed in
    booked = book(first_free_slot("honolulu"))
    visitor = signed_in(booked)
    # When they add it to their calendar
    page = visitor.get("/en/appointment/calendar.ics")
    # Then the file is an event at the appointment's time in Honolulu's zone
    assert page.status == 200
    assert page.headers["content-type"] == "text/calendar; charset=utf-8"
    assert page.headers["content-disposition"] == 'attachment; filename="appointment.ics"'
    assert page.headers["cache-control"] == "no-store"
    calendar = Calendar.from_ical(page.html)
    (event,) = calendar.walk("VEVENT")
    (zone,) = calendar.walk("VTIMEZONE")
    start = event.decoded("dtstart")
    assert str(zone["tzid"]) == "Pacific/Honolulu"
    assert "TZID=Pacific/Honolulu" in page.html
    assert start == datetime.fromisoformat(booked["start"])
    assert start.utcoffset() == timedelta(hours=-10)
    assert event.decoded("dtend") - start == timedelta(minutes=20)
    assert str(event["summary"]).startswith("USCIS appointment: ADIT stamp")
    assert str(event["location"]).startswith("Honolulu Field Office, 500 Example Boulevard")
    assert booked["confirmationNumber"] in str(event["description"])
    assert "Arrive 15 minutes before your appointment" in str(event["description"])
    assert str(event["uid"]).startswith(booked["confirmationNumber"])
    assert booked["pin"] not in page.html


def notice_rendered(appointment: AppointmentModel) -> None:
    """Point the appointment at its notice, as the renderer does once the PDF is stored."""
    notice = notice_file_for(appointment)
    appointment.update(
        actions=[
            AppointmentModel.notice_version.set(notice.version),
            AppointmentModel.notice_key.set(notice.pdf_key),
        ]
    )


def test_the_notice_is_being_prepared_until_rendered() -> None:
    # Given a new appointment whose notice is not rendered yet, and its holder signed in
    visitor = signed_in(book())
    # When they ask for the notice
    page = visitor.get("/en/appointment/notice")
    # Then a page says it is being prepared, with a link to try again
    assert page.status == 200
    assert h1_count(page) == 1
    assert "Your notice is being prepared" in page.text
    assert 'href="/en/appointment/notice"' in page.html


def test_the_notice_sends_to_a_short_lived_link_to_its_pdf() -> None:
    # Given an appointment whose notice is rendered, and its holder signed in
    booked = book()
    notice_rendered(stored(booked))
    visitor = signed_in(booked)
    # When they ask for the notice
    page = visitor.get("/en/appointment/notice")
    # Then they are sent to a short-lived link to the PDF, with no PIN in it
    assert page.status == 303
    assert page.headers["location"].split("?")[0].endswith(stored(booked).notice_key)
    assert "X-Amz-Expires=" in page.headers["location"]
    assert booked["pin"] not in page.headers["location"]


def test_after_a_move_the_old_notice_is_not_given_while_the_new_one_is_prepared() -> None:
    # Given an appointment with its notice, moved to another time
    first, second = (slot["slotId"] for slot in free_slots()[:2])
    booked = book(first)
    notice_rendered(stored(booked))
    visitor = signed_in(booked)
    visitor.get("/en/appointment/times", query={"date": SlotId.parse(second).day.isoformat()})
    visitor.post(
        "/en/appointment/reschedule", {"date": SlotId.parse(second).day.isoformat(), "slot": second}
    )
    # When they ask for the notice before the new one is rendered
    page = visitor.get("/en/appointment/notice")
    # Then they wait for the new one, rather than print the old time
    assert page.status == 200
    assert "Your notice is being prepared" in page.text
