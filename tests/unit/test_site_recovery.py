"""The site's lost notice or PIN pages: the same answer for everybody, and a new PIN from the
e-mailed link, once, for 30 minutes."""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest

from appointments import access, lookup, pin_reset
from appointments.config import settings
from appointments.errors import Locked, WrongPin
from appointments.models import AppointmentModel
from tests.helpers import (
    Page,
    SiteVisitor,
    book,
    deliver,
    on_dynamodb_calls,
    sent_mail,
    stream_record,
)

pytestmark = pytest.mark.usefixtures("open_slots")

# The details `book()` books with, as a person types them on the form.
DETAILS = {
    "name": "Maria Garcia",
    "dob-month": "4",
    "dob-day": "12",
    "dob-year": "1985",
    "phone": "(202) 555-0143",
}
NOBODY = {**DETAILS, "phone": "(202) 555-0100"}
PIN_LINK = re.compile(r"/(\w\w)/pin/([\w.-]+)")


def ask(details: dict[str, str], visitor: SiteVisitor | None = None) -> Page:
    """Fill in the lost form as a browser does: open it, then send it."""
    visitor = visitor or SiteVisitor()
    visitor.get("/en/lost")
    return visitor.post("/en/lost", details)


def without_cookies(headers: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in headers.items() if name != "set-cookie"}


def reset_path(confirmation_number: str) -> str:
    """The path of the link to set a new PIN, as the renderer mails it."""
    appointment = AppointmentModel.get(confirmation_number)
    link = pin_reset.reset_link(appointment, datetime.now(UTC))
    assert link is not None
    return urlsplit(link).path


def asked_for_a_reset() -> tuple[dict[str, Any], str]:
    """A booking in English whose holder has asked for their notice on the site: the booking,
    and the path of the link to set a new PIN."""
    booked = book(language="en")
    assert ask(DETAILS).status == 303
    return booked, reset_path(booked["confirmationNumber"])


def pin_works(confirmation_number: str, pin: str) -> bool:
    try:
        access.authenticate(confirmation_number, pin, datetime.now(UTC))
    except WrongPin:
        return False
    return True


def stored(confirmation_number: str) -> dict[str, Any]:
    return AppointmentModel.get(confirmation_number, consistent_read=True).serialize()


# ------------------------------------------------------------------- the lost form


def test_the_lost_form_asks_for_name_date_of_birth_and_phone() -> None:
    page = SiteVisitor().get("/en/lost")
    assert page.status == 200
    for autocomplete in ("name", "bday-month", "bday-day", "bday-year", "tel"):
        assert f'autocomplete="{autocomplete}"' in page.html
    assert "04 - April" in page.text
    assert page.headers["cache-control"] == "no-store"


def test_an_impossible_date_shows_the_form_again_with_the_values_kept() -> None:
    # When a date that does not exist is sent, without a name
    page = ask({**DETAILS, "name": "", "dob-month": "2", "dob-day": "30"})
    # Then the form comes back with both errors, and what was typed
    assert page.status == 422
    assert "Enter your full name." in page.text
    assert "Enter a real date of birth." in page.text
    assert '<a href="#dob-day">' in page.html
    assert '<option value="2" selected>' in page.html
    assert 'value="30"' in page.html
    assert 'value="(202) 555-0143"' in page.html
    assert page.html.count("<title>Error:") == 1


def test_a_missing_field_asks_for_it_and_looks_nothing_up() -> None:
    sent: list[str] = []
    with on_dynamodb_calls("before-call", lambda model, **_: sent.append(model.name)):
        page = ask({name: value for name, value in DETAILS.items() if name != "dob-year"})
    assert page.status == 422
    assert "Enter your date of birth with a month, a day and a year." in page.text
    assert sent == []


def test_the_lost_form_answers_a_match_and_a_miss_alike() -> None:
    # Given an appointment
    book()
    # When its holder asks, and so does someone whose details match nothing
    match_visitor, miss_visitor = SiteVisitor(), SiteVisitor()
    match = ask(DETAILS, match_visitor)
    miss = ask(NOBODY, miss_visitor)
    # Then both get the same answer, and the same page after it
    assert match.status == 303
    assert match.headers["location"] == "/en/lost/sent"
    assert (match.status, match.html, without_cookies(match.headers)) == (
        miss.status,
        miss.html,
        without_cookies(miss.headers),
    )
    match_page, miss_page = match_visitor.get("/en/lost/sent"), miss_visitor.get("/en/lost/sent")
    assert (match_page.status, match_page.text) == (miss_page.status, miss_page.text)
    assert "works once, for 30 minutes" in match_page.text
    assert "800-375-5283" in match_page.text


def test_a_match_and_a_miss_take_the_same_minimum_time() -> None:
    book()
    for details in (DETAILS, NOBODY):
        visitor = SiteVisitor()
        visitor.get("/en/lost")
        started = time.monotonic()
        visitor.post("/en/lost", details)
        assert time.monotonic() - started >= lookup.RESPONSE_FLOOR_SECONDS


def test_a_match_and_a_miss_send_the_same_database_requests() -> None:
    book()

    def requests_of(details: dict[str, str]) -> list[tuple[str, str]]:
        visitor = SiteVisitor()
        visitor.get("/en/lost")
        sent: list[tuple[str, str]] = []

        def record(model: Any, params: dict[str, Any], **_: Any) -> None:
            sent.append((model.name, params.get("TableName", "")))

        with on_dynamodb_calls("before-parameter-build", record):
            visitor.post("/en/lost", details)
        return sent

    match = requests_of(DETAILS)
    assert requests_of(NOBODY) == match
    assert match == [
        ("UpdateItem", "test-ApplicantsTable"),
        ("UpdateItem", "test-ApplicantsTable"),
        ("UpdateItem", "test-AppointmentsTable"),
    ]


def test_a_match_mails_the_notice_and_a_link_to_set_a_new_pin() -> None:
    # Given a booking in Spanish with an e-mail address
    booked = book()
    before = AppointmentModel.get(booked["confirmationNumber"])
    # When its holder asks on the site, and the renderer gets the record of that
    ask(DETAILS)
    after = AppointmentModel.get(booked["confirmationNumber"])
    assert deliver(stream_record("MODIFY", after, before)) == {"batchItemFailures": []}
    # Then one mail carries the notice's link and the link to set a new PIN, in Spanish
    (mail,) = sent_mail()
    assert mail.destinations["ToAddresses"] == ["maria@example.com"]
    assert "/notices/" in mail.body
    (link,) = {match.group(0) for match in PIN_LINK.finditer(mail.body)}
    assert link == reset_path(booked["confirmationNumber"])
    assert link.startswith("/es/pin/")
    assert "Obtener un PIN nuevo" in mail.body
    assert "30 minutos" in mail.body


def test_without_an_e_mail_address_nothing_is_mailed_and_the_page_is_the_same() -> None:
    # Given a booking without an e-mail address
    booked = book(applicant={"name": "Jean Pierre", "dateOfBirth": "1970-02-03",
                             "phone": "+12025550111", "email": None})  # fmt: skip
    before = AppointmentModel.get(booked["confirmationNumber"])
    # When its holder asks on the site, and so does a stranger
    holder, stranger = SiteVisitor(), SiteVisitor()
    answer = ask({"name": "Jean Pierre", "dob-month": "2", "dob-day": "3", "dob-year": "1970",
                  "phone": "202-555-0111"}, holder)  # fmt: skip
    miss = ask(NOBODY, stranger)
    after = AppointmentModel.get(before.confirmation_number)
    handled = deliver(stream_record("MODIFY", after, before))
    # Then nothing is mailed, and both got the same answer and page
    assert handled == {"batchItemFailures": []}
    assert sent_mail() == []
    assert AppointmentModel.get(before.confirmation_number).notice_requested_at is not None
    assert (answer.status, answer.html) == (miss.status, miss.html)
    assert holder.get("/en/lost/sent").text == stranger.get("/en/lost/sent").text


# ------------------------------------------------------------ the link to set a new PIN


def test_opening_the_link_shows_a_button_and_changes_nothing() -> None:
    booked, path = asked_for_a_reset()
    confirmation_number = booked["confirmationNumber"]
    before = stored(confirmation_number)
    page = SiteVisitor().get(path)
    assert page.status == 200
    assert "Set a new PIN" in page.text
    assert f'<form class="usa-form" method="post" action="{path}">' in page.html
    assert page.headers["cache-control"] == "no-store"
    assert stored(confirmation_number) == before
    assert pin_works(confirmation_number, booked["pin"])


def test_the_button_sets_a_new_pin_shown_once() -> None:
    # Given the link to set a new PIN, opened
    _, path = asked_for_a_reset()
    visitor = SiteVisitor()
    visitor.get(path)
    # When its button is pressed
    answer = visitor.post(path, {})
    shown = visitor.get("/en/pin/new")
    again = visitor.get("/en/pin/new")
    # Then the next page shows a new PIN, and only once
    assert (answer.status, answer.headers["location"]) == (303, "/en/pin/new")
    assert shown.status == 200
    (pin,) = re.findall(r'<span class="site-credential" id="new-pin">(\d{6})</span>', shown.html)
    assert 'data-copy="new-pin"' in shown.html
    assert shown.headers["cache-control"] == "no-store"
    assert "__Host-new-pin" not in visitor.cookies
    assert pin not in again.html
    assert "shown only once" in again.text


def new_pin_from(path: str) -> str:
    visitor = SiteVisitor()
    visitor.get(path)
    assert visitor.post(path, {}).status == 303
    (pin,) = re.findall(r'id="new-pin">(\d{6})<', visitor.get("/en/pin/new").html)
    return pin


def test_the_old_pin_stops_working_and_the_new_one_works_even_after_a_lock_out() -> None:
    # Given an appointment locked by wrong PINs
    booked, path = asked_for_a_reset()
    confirmation_number = booked["confirmationNumber"]
    wrong = "000000" if booked["pin"] != "000000" else "111111"
    for _ in range(settings().max_pin_failures - 1):
        assert not pin_works(confirmation_number, wrong)
    with pytest.raises(Locked):
        pin_works(confirmation_number, wrong)
    # When a new PIN is set from the link
    new_pin = new_pin_from(path)
    # Then the new PIN opens the appointment at once, and the old one no longer does
    assert pin_works(confirmation_number, new_pin)
    assert not pin_works(confirmation_number, booked["pin"])


def test_setting_a_new_pin_is_one_database_request() -> None:
    _, path = asked_for_a_reset()
    visitor = SiteVisitor()
    visitor.get(path)
    sent: list[str] = []
    with on_dynamodb_calls("before-call", lambda model, **_: sent.append(model.name)):
        assert visitor.post(path, {}).status == 303
    assert sent == ["UpdateItem"]


def test_the_link_works_once() -> None:
    # Given a new PIN set from the link
    booked, path = asked_for_a_reset()
    new_pin = new_pin_from(path)
    # When the link is opened and its form sent again
    opened = SiteVisitor().get(path)
    visitor = SiteVisitor()
    visitor.get("/en/lost")
    again = visitor.post(path, {})
    # Then it is refused, and the PIN set first still works
    assert opened.status == 410
    assert again.status == 410
    assert "This link does not work" in again.text
    assert '<a class="usa-button" href="/en/lost">' in again.html
    assert pin_works(booked["confirmationNumber"], new_pin)


def test_a_link_asked_for_more_than_30_minutes_ago_is_refused() -> None:
    # Given a lookup 31 minutes ago
    booked = book(language="en")
    asked_at = datetime.now(UTC) - timedelta(minutes=31)
    lookup.request_notice("Maria Garcia", date(1985, 4, 12), "+12025550143", now=asked_at)
    path = f"/en/pin/{pin_reset.reset_token(booked['confirmationNumber'], asked_at)}"
    # When its link is opened and its form sent
    visitor = SiteVisitor()
    opened = visitor.get(path)
    visitor.get("/en/lost")
    sent = visitor.post(path, {})
    # Then both are refused, and the PIN has not changed
    assert (opened.status, sent.status) == (410, 410)
    assert pin_works(booked["confirmationNumber"], booked["pin"])


FORGERIES = {
    "another signature": lambda token: token[:-1] + ("0" if token[-1] != "0" else "1"),
    "another time": lambda token: re.sub(r"\.(\d+)\.", lambda m: f".{int(m[1]) + 1}.", token),
    "another appointment": lambda token: "7K2M9QX4TR8" + token[11:],
    "no token at all": lambda _: "new-pin-please",
}


def test_a_forged_link_is_refused() -> None:
    # Given a link to set a new PIN
    booked, path = asked_for_a_reset()
    token = path.rsplit("/", 1)[1]
    visitor = SiteVisitor()
    visitor.get("/en/lost")  # a page with a form: the visitor's CSRF token
    for forgery, forge in FORGERIES.items():
        # When a changed one is opened and its form sent
        forged = f"/en/pin/{forge(token)}"
        opened = visitor.get(forged)
        sent = visitor.post(forged, {})
        # Then both are refused
        assert (opened.status, sent.status) == (403, 403), forgery
        assert "This link does not work" in sent.text, forgery
    # And the PIN has not changed
    assert pin_works(booked["confirmationNumber"], booked["pin"])


def test_a_link_is_not_mailed_once_it_has_expired() -> None:
    # Given an appointment whose holder asked for a new PIN
    booked = book()
    asked_at = datetime.now(UTC)
    lookup.request_notice("Maria Garcia", date(1985, 4, 12), "+12025550143", now=asked_at)
    appointment = AppointmentModel.get(booked["confirmationNumber"])
    # Then the renderer has a link for it for 30 minutes, and none after
    assert pin_reset.reset_link(appointment, asked_at + timedelta(minutes=29)) is not None
    assert pin_reset.reset_link(appointment, asked_at + timedelta(minutes=30)) is None
