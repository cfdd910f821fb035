"""Booking on the web site, as a browser without JavaScript does it (on moto): where, office,
service, day, time, details, check, confirm, confirmation."""

from __future__ import annotations

import html
import io
import re
from datetime import date
from typing import Any
from urllib.parse import parse_qsl, quote, unquote_plus, urlsplit

import pytest

from appointments import access
from appointments.models import AppointmentModel, SlotModel
from appointments.offices import Office
from appointments.slots import SlotId
from tests.helpers import (
    Page,
    SiteVisitor,
    book_numbered,
    count_dynamodb_calls,
    first_free_slot,
    slot_with_capacity,
)

pytestmark = pytest.mark.usefixtures("open_slots")

DETAILS = {
    "name": "María José García-López",
    "dob-month": "4",
    "dob-day": "12",
    "dob-year": "1985",
    "phone": "202-555-0143",
    "email": "maria@example.com",
    "language": "es",
}
# What a person types that must never be in a URL
TYPED = ("García", "Garcia", "1985", "555-0143", "5550143", "maria@", "ZAR")


# ------------------------------------------------------------------ a browser's moves


def links(page: Page, path: str) -> list[str]:
    """The page's links to `path` (with their queries), in page order."""
    return [
        html.unescape(href)
        for href in re.findall(r'href="([^"]+)"', page.html)
        if urlsplit(html.unescape(href)).path == path
    ]


def follow(visitor: SiteVisitor, href: str) -> Page:
    parts = urlsplit(href)
    return visitor.get(parts.path, query=dict(parse_qsl(parts.query)) or None)


def hidden_fields(page: Page) -> dict[str, str]:
    return {
        name: html.unescape(value)
        for name, value in re.findall(
            r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.html
        )
    }


def radio_values(page: Page, name: str) -> list[str]:
    return [
        html.unescape(value)
        for value in re.findall(rf'type="radio" name="{name}" value="([^"]+)"', page.html)
    ]


def next_month_link(page: Page) -> str:
    """The calendar's link to the month after the one shown."""
    return max(links(page, "/en/book/days"), key=lambda href: href.rsplit("month=", 1)[-1])


def first_free_day(visitor: SiteVisitor, days_page: Page) -> Page:
    """The times page of the first day with a free time, from this month or the next."""
    page = days_page
    for _ in range(3):
        found = links(page, "/en/book/times")
        if found:
            return follow(visitor, found[0])
        page = follow(visitor, next_month_link(page))
    raise AssertionError("no day with a free time")


def walk_to_times(visitor: SiteVisitor, office: str = "new-york", zip_code: str = "10001") -> Page:
    """Where → office → service → day, by the links: the times of the first free day."""
    where = visitor.get("/en/book")
    assert where.status == 200
    offices = visitor.get("/en/book/offices", query={"zip": zip_code})
    (choose,) = [href for href in links(offices, "/en/book/services") if f"={office}" in href]
    services = follow(visitor, choose)
    days = visitor.get(
        "/en/book/days", query={"office": office, "service": radio_values(services, "service")[0]}
    )
    return first_free_day(visitor, days)


def times_page(visitor: SiteVisitor) -> Page:
    """The times of New York's first free day (the calendar bookmarked)."""
    days = visitor.get("/en/book/days", query={"office": "new-york", "service": "adit-stamp"})
    return first_free_day(visitor, days)


def details_page(visitor: SiteVisitor, times: Page | None = None, slot: str | None = None) -> Page:
    """The details form for the first free time of `times`, or for `slot`."""
    if slot is not None:
        return visitor.get("/en/book/details", query={"slot": slot, "service": "adit-stamp"})
    assert times is not None
    query = {**hidden_fields(times), "slot": radio_values(times, "slot")[0]}
    return visitor.get("/en/book/details", query=query)


def send_details(visitor: SiteVisitor, details: Page, **changes: str) -> Page:
    fields = {**hidden_fields(details), **DETAILS, **changes}
    return visitor.post("/en/book/details", fields)


def to_check(visitor: SiteVisitor, slot: str | None = None, *, walk: bool = False) -> Page:
    """The journey up to "Check your answers" (by every step's links if `walk`)."""
    if slot is not None:
        details = details_page(visitor, slot=slot)
    else:
        details = details_page(visitor, walk_to_times(visitor) if walk else times_page(visitor))
    sent = send_details(visitor, details)
    assert (sent.status, sent.headers["location"]) == (303, "/en/book/check")
    return visitor.get("/en/book/check")


def confirm(visitor: SiteVisitor) -> Page:
    return visitor.post("/en/book/confirm", {})


def appointments() -> list[AppointmentModel]:
    return list(AppointmentModel.scan())


def seats_taken() -> int:
    return sum(int(slot.booked) for slot in SlotModel.scan())


def credential(page: Page, name: str) -> str:
    match = re.search(rf'class="site-credential" id="{name}"[^>]*>([^<]+)<', page.html)
    assert match, page.text
    return match.group(1)


@pytest.fixture
def visitor() -> SiteVisitor:
    return SiteVisitor()


# ----------------------------------------------------------------------------- the journey


def test_the_whole_journey_without_javascript_books_exactly_one_seat(
    visitor: SiteVisitor,
) -> None:
    # Given a person who walks through every step with plain links and forms
    check = to_check(visitor, walk=True)
    assert check.status == 200
    assert "Check your answers" in check.text
    # When they confirm
    confirmed = confirm(visitor)
    # Then one seat is taken, for one appointment, and they see its number and PIN
    assert (confirmed.status, confirmed.headers["location"]) == (303, "/en/book/confirmation")
    page = visitor.get("/en/book/confirmation")
    (appointment,) = appointments()
    assert seats_taken() == 1
    assert credential(page, "confirmation-number") == appointment.confirmation_number
    pin = credential(page, "pin")
    assert access.authenticate(appointment.confirmation_number, pin, appointment.created_at)
    assert (appointment.name, appointment.language) == ("María José García-López", "es")


def test_each_step_shows_where_the_person_is_in_the_journey(visitor: SiteVisitor) -> None:
    # Given the journey's pages up to "Check your answers"
    check = to_check(visitor, walk=True)
    # When the last one is read
    # Then its step indicator names all seven steps and marks the seventh as current
    assert "Step 7 of 7" in check.text
    for label in ("Where", "Office", "Service", "Date", "Time", "Your details", "Check"):
        assert label in check.text
    assert 'aria-current="step"' in check.html


def test_no_step_puts_what_the_person_typed_in_a_url(visitor: SiteVisitor) -> None:
    # Given a person who books with a receipt number of a case
    where = visitor.get("/en/book")
    assert where.status == 200
    sent = visitor.post("/en/book/case", {"receipt": "ZAR2612345678"})
    services = visitor.get("/en/book/services", query={"office": "arlington-asylum"})
    days = visitor.get(
        "/en/book/days",
        query={"office": "arlington-asylum", "service": radio_values(services, "service")[0]},
    )
    details = details_page(visitor, first_free_day(visitor, days))
    saved = send_details(visitor, details)
    check = visitor.get("/en/book/check")
    done = confirm(visitor)
    confirmation = visitor.get("/en/book/confirmation")
    # When every address they were sent to or shown is read
    addresses = [page.headers.get("location", "") for page in (sent, saved, done)]
    for page in (services, days, details, check, confirmation):
        addresses += re.findall(r'(?:href|action)="([^"]+)"', page.html)
    # Then none holds their name, date of birth, phone, e-mail or receipt number
    assert len(appointments()) == 1
    assert "ZAR2612345678" in check.text
    readable = [unquote_plus(html.unescape(address)) for address in addresses]
    assert [address for address in readable if any(t in address for t in TYPED)] == []


# ------------------------------------------------------------------------------ Where


def test_where_page_offers_zip_country_and_receipt_number_forms(visitor: SiteVisitor) -> None:
    # When the first step is shown
    page = visitor.get("/en/book")
    # Then it has a GET form per place and a POST form with a CSRF token for a case
    assert page.status == 200
    assert page.html.count('action="/en/book/offices"') == 2
    assert 'method="post" action="/en/book/case"' in page.html
    assert page.hidden_field("csrf_token")
    assert "Arlington Asylum Office: receipt numbers that start with ZAR" in page.text


def test_country_list_names_every_country_but_the_united_states_in_order(
    visitor: SiteVisitor,
) -> None:
    # When the first step is shown in Spanish
    page = visitor.get("/es/book")
    # Then the countries are named in Spanish, in alphabetical order, without the US
    options = re.findall(r'<option value="([A-Z]{2})"[^>]*>([^<]+)</option>', page.html)
    codes = [code for code, _ in options]
    assert ("MX", "México") in options
    assert "US" not in codes and "PR" not in codes and "EU" not in codes
    assert len(codes) == 249 - 7
    assert codes.index("DE") < codes.index("AD")  # Alemania before Andorra


def test_a_zip_code_lists_its_offices_nearest_first_with_distances(visitor: SiteVisitor) -> None:
    # When offices are searched for a Virginia ZIP code
    page = visitor.get("/en/book/offices", query={"zip": "22030"})
    # Then the field office comes first, with its distance in miles, each with a link
    assert page.status == 200
    assert page.text.index("Washington Field Office (Fairfax)") < page.text.index(
        "Arlington Asylum Office"
    )
    assert re.search(r"Distance: [\d.]+ miles", page.text)
    assert links(page, "/en/book/services")[0] == "/en/book/services?office=fairfax"


@pytest.mark.parametrize("zip_code", ["1234", "123456", "abcde", "12 34"])
def test_a_zip_code_that_is_not_five_digits_shows_the_where_page_again(
    visitor: SiteVisitor, zip_code: str
) -> None:
    # When offices are searched for a malformed ZIP code
    page = visitor.get("/en/book/offices", query={"zip": zip_code})
    # Then the first step is shown again, with the error by the field and the value kept
    assert page.status == 422
    assert "Enter a ZIP code of 5 digits, like 10001." in page.text
    assert 'id="zip-error"' in page.html
    assert f'value="{html.escape(zip_code)}"' in page.html


@pytest.mark.parametrize(
    ("zip_code", "advice"),
    [
        ("96799", "Please call the USCIS Contact Center"),  # American Samoa
        ("99999", "Please call the USCIS Contact Center"),  # no such ZIP code
        ("09012", "contact the USCIS international office nearest"),  # APO
    ],
)
def test_a_zip_code_without_an_office_says_whom_to_call(
    visitor: SiteVisitor, zip_code: str, advice: str
) -> None:
    # When offices are searched for a ZIP code no office serves
    page = visitor.get("/en/book/offices", query={"zip": zip_code})
    # Then the page says whom to call, instead of an empty list
    assert page.status == 200
    assert advice in page.text
    assert "800-375-5283" in page.text
    assert links(page, "/en/book/services") == []


def test_a_country_without_an_office_says_whom_to_call(visitor: SiteVisitor) -> None:
    # When offices are searched for a country no office serves
    page = visitor.get("/en/book/offices", query={"country": "FR"})
    # Then the page names the country and says whom to call
    assert page.status == 200
    assert "No USCIS office takes appointments online for people in France." in page.text
    assert "800-375-5283" in page.text


def test_a_country_with_an_office_lists_it(visitor: SiteVisitor) -> None:
    page = visitor.get("/en/book/offices", query={"country": "GT"})
    assert page.status == 200
    assert links(page, "/en/book/services") == ["/en/book/services?office=mexico-city"]


# ----------------------------------------------------------------------- receipt numbers


def test_a_receipt_number_leads_to_the_services_of_the_office_holding_the_case(
    visitor: SiteVisitor,
) -> None:
    # Given the first step
    visitor.get("/en/book")
    # When a receipt number of the Arlington Asylum Office is sent
    sent = visitor.post("/en/book/case", {"receipt": "zar-261-234-5678"})
    # Then the person goes to that office's services, the interviews among them
    assert (sent.status, sent.headers["location"]) == (
        303,
        "/en/book/services?office=arlington-asylum",
    )
    services = visitor.get("/en/book/services", query={"office": "arlington-asylum"})
    assert radio_values(services, "service") == ["asylum", "nacara", "fear-screening"]
    assert "Asylum interview" in services.text


@pytest.mark.parametrize(
    ("receipt", "message"),
    [
        ("", "Enter your receipt number."),
        ("ZAR123", "Enter a receipt number of 3 letters and 10 digits"),
        ("EAC2612345678", "No asylum office holds cases with this receipt number."),
    ],
)
def test_a_bad_or_unknown_receipt_number_shows_the_form_again(
    visitor: SiteVisitor, receipt: str, message: str
) -> None:
    # Given the first step
    visitor.get("/en/book")
    # When a receipt number that leads to no office is sent
    page = visitor.post("/en/book/case", {"receipt": receipt})
    # Then the first step is shown again with the error by the field and the value kept
    assert page.status == 422
    assert message in page.text
    assert 'id="receipt-error"' in page.html
    assert f'value="{receipt}"' in page.html


def test_a_forms_answer_offers_the_form_in_other_languages(visitor: SiteVisitor) -> None:
    # Given answers to forms that show the form again (their own address takes a POST only)
    visitor.get("/en/book")
    receipt = visitor.post("/en/book/case", {"receipt": "ZAR123"})
    details = details_page(visitor, times_page(visitor))
    wrong = send_details(visitor, details, name="")
    # When their language switchers are read
    # Then they lead to the same form in Spanish
    assert links(receipt, "/es/book") == ["/es/book"]
    slot = quote(hidden_fields(details)["slot"], safe="")
    assert links(wrong, "/es/book/details") == [f"/es/book/details?slot={slot}&service=adit-stamp"]


def test_a_receipt_number_given_before_choosing_another_service_is_not_kept_with_it(
    visitor: SiteVisitor,
) -> None:
    # Given a person who gave a receipt number, then books an ADIT stamp at a field office
    visitor.get("/en/book")
    visitor.post("/en/book/case", {"receipt": "ZAR2612345678"})
    check = to_check(visitor)
    # When they confirm
    confirm(visitor)
    # Then the receipt number is neither among the answers nor on the appointment
    assert "Receipt number" not in check.text
    (appointment,) = appointments()
    assert appointment.service == "adit-stamp"
    assert not appointment.case_number


def test_case_services_without_a_receipt_number_link_to_its_form(visitor: SiteVisitor) -> None:
    # When the asylum office's services are shown to someone who gave no receipt number
    page = visitor.get("/en/book/services", query={"office": "arlington-asylum"})
    # Then no interview can be chosen, and the page links to the receipt number's form
    assert page.status == 200
    assert radio_values(page, "service") == []
    assert 'href="/en/book#case"' in page.html


# ------------------------------------------------------------------------- days and times


def test_the_calendar_costs_one_query_per_month(visitor: SiteVisitor) -> None:
    # Given the office catalogue already read
    query = {"office": "new-york", "service": "adit-stamp"}
    visitor.get("/en/book/days", query=query)
    # When this month's calendar and the next one's are shown
    with count_dynamodb_calls() as this_month:
        page = visitor.get("/en/book/days", query=query)
    with count_dynamodb_calls() as following:
        follow(visitor, next_month_link(page))
    # Then each costs one Query
    assert dict(this_month) == {"Query": 1}
    assert dict(following) == {"Query": 1}


def test_a_month_without_a_free_day_says_so_and_offers_the_next(
    visitor: SiteVisitor, offices: dict[str, Office]
) -> None:
    # When the calendar of an office with no slots open is shown
    page = visitor.get("/en/book/days", query={"office": "boston", "service": "adit-stamp"})
    # Then it says there is no free time that month, and links to the next month
    assert page.status == 200
    assert "There are no free times in" in page.text
    assert "See the next month" in page.text


def test_times_of_a_day_are_radio_buttons_in_the_offices_time_zone(
    visitor: SiteVisitor,
) -> None:
    page = walk_to_times(visitor, office="honolulu", zip_code="96813")
    assert page.status == 200
    assert "Hawaii-Aleutian" in page.text
    assert radio_values(page, "slot")[0].startswith("honolulu:")


def test_a_day_without_free_times_says_so_and_links_back_to_the_calendar(
    visitor: SiteVisitor,
) -> None:
    page = visitor.get(
        "/en/book/times", query={"office": "boston", "service": "adit-stamp", "date": "2026-12-01"}
    )
    assert page.status == 200
    assert "There are no free times on this day any more." in page.text
    assert links(page, "/en/book/days") == [
        "/en/book/days?office=boston&service=adit-stamp&month=2026-12"
    ]


def test_a_service_form_sent_without_a_choice_asks_for_one(visitor: SiteVisitor) -> None:
    # When the services form is sent without a service (a browser that ignores `required`)
    page = visitor.get("/en/book/days", query={"office": "new-york"})
    # Then the services are shown again with the error
    assert page.status == 422
    assert page.text.count("Choose the service you need.") == 2
    assert radio_values(page, "service")[0] == "adit-stamp"


def test_a_times_form_sent_without_a_choice_asks_for_one(visitor: SiteVisitor) -> None:
    # Given the times of a day
    times = times_page(visitor)
    # When the form is sent without a time
    sent = visitor.get("/en/book/details", query=hidden_fields(times))
    # Then the same times are shown again with the error
    assert sent.status == 303
    page = follow(visitor, sent.headers["location"])
    assert page.status == 422
    assert page.text.count("Choose a time.") == 2
    assert radio_values(page, "slot") == radio_values(times, "slot")


# ------------------------------------------------------------------------------- details

BAD_DETAILS: list[tuple[dict[str, str], str, str]] = [
    ({"name": ""}, "name", "Enter your full name."),
    ({"name": "x" * 201}, "name", "Enter your name in 200 characters or fewer."),
    ({"dob-day": "30", "dob-month": "2"}, "dob", "Enter a real date of birth."),
    ({"dob-year": "85"}, "dob", "Enter the year with 4 digits, for example 1985."),
    ({"dob-year": "2999"}, "dob", "Your date of birth must be in the past."),
    ({"dob-month": "", "dob-day": "", "dob-year": ""}, "dob", "Enter your date of birth."),
    ({"phone": ""}, "phone", "Enter your phone number."),
    ({"phone": "12345"}, "phone", "Enter a phone number, like 202-555-0143."),
    ({"email": "maria@"}, "email", "Enter an e-mail address like name@example.com"),
    ({"language": "xx"}, "language", "Choose the language of your notice."),
]


@pytest.mark.parametrize(("changes", "field", "message"), BAD_DETAILS)
def test_a_wrong_detail_shows_the_form_again_with_the_values_and_books_nothing(
    visitor: SiteVisitor, changes: dict[str, str], field: str, message: str
) -> None:
    # Given the details form
    details = details_page(visitor, times_page(visitor))
    # When it is sent with one wrong field
    page = send_details(visitor, details, **changes)
    # Then it comes back with the error in the summary and by the field, the values kept
    assert page.status == 422
    assert page.text.count(message) == 2
    assert f'id="{field}-error"' in page.html
    assert page.html.count('aria-invalid="true"') >= 1
    kept = {**DETAILS, **changes}
    for name in ("name", "phone", "email", "dob-day", "dob-year"):
        if name not in changes:
            assert f'value="{html.escape(kept[name])}"' in page.html
    assert page.headers["cache-control"] == "no-store"
    # And nothing is booked or kept
    assert appointments() == []
    assert visitor.get("/en/book/check").status == 409


def test_the_details_form_has_the_memorable_date_and_autocomplete(visitor: SiteVisitor) -> None:
    page = details_page(visitor, times_page(visitor))
    assert page.status == 200
    for autocomplete in ("name", "bday-month", "bday-day", "bday-year", "tel", "email"):
        assert f'autocomplete="{autocomplete}"' in page.html
    assert 'type="tel"' in page.html
    assert ">04 - April</option>" in page.html
    assert 'href="/en/privacy"' in page.html
    assert re.search(r'<option value="en" lang="en" selected>English</option>', page.html)


def test_changing_the_details_shows_the_form_filled_in(visitor: SiteVisitor) -> None:
    # Given the answers to check
    check = to_check(visitor)
    # When the person follows the link to change their phone
    (change,) = [href for href in links(check, "/en/book/details") if href.endswith("#phone")]
    page = follow(visitor, change.split("#")[0])
    # Then the form shows what they gave
    assert 'value="María José García-López"' in page.html
    assert 'value="+12025550143"' in page.html
    assert '<option value="es" lang="es" selected>' in page.html


def test_check_your_answers_shows_every_answer_with_a_change_link(visitor: SiteVisitor) -> None:
    page = to_check(visitor)
    for answer in (
        "New York City Field Office",
        "ADIT stamp",
        "Eastern Time",
        "María José García-López",
        "April 12, 1985",
        "+1 202-555-0143",
        "maria@example.com",
        "Español",
    ):
        assert answer in page.text
    assert page.text.count("Change") == 9
    assert 'action="/en/book/confirm"' in page.html
    assert page.headers["cache-control"] == "no-store"


# ------------------------------------------------------------------------------- booking


def test_confirming_twice_books_once_and_shows_the_same_confirmation(
    visitor: SiteVisitor,
) -> None:
    # Given the answers to check, and the browser's cookies at that moment
    to_check(visitor)
    cookies = dict(visitor.cookies)
    # When "Confirm and book" is sent, and the same request is sent again
    first = confirm(visitor)
    first_page = visitor.get("/en/book/confirmation")
    visitor.cookies = dict(cookies)
    again = confirm(visitor)
    again_page = visitor.get("/en/book/confirmation")
    # Then one seat is taken, and both show the same confirmation number and PIN
    assert (first.status, again.status) == (303, 303)
    assert len(appointments()) == 1
    assert seats_taken() == 1
    assert credential(first_page, "confirmation-number") == credential(
        again_page, "confirmation-number"
    )
    assert credential(first_page, "pin") == credential(again_page, "pin")


@pytest.mark.parametrize("pin_seen", [False, True])
def test_confirming_again_after_the_booking_shows_its_confirmation(
    visitor: SiteVisitor, pin_seen: bool
) -> None:
    # Given a booking just made (its PIN seen or not yet)
    to_check(visitor)
    confirm(visitor)
    if pin_seen:
        visitor.get("/en/book/confirmation")
    # When the form is sent again (the browser's Back button, then the button again)
    again = confirm(visitor)
    # Then the confirmation is shown, and nothing more is booked
    assert (again.status, again.headers["location"]) == (303, "/en/book/confirmation")
    assert len(appointments()) == 1


def test_the_last_seat_taken_meanwhile_asks_for_another_time_and_keeps_the_details(
    visitor: SiteVisitor, offices: dict[str, Office]
) -> None:
    # Given the answers to check for the only seat of a slot
    slot = slot_with_capacity(offices["new-york"], 1, start="11:45")
    to_check(visitor, slot=str(slot))
    # When someone else takes it, then the person confirms
    book_numbered(slot, 7)
    page = confirm(visitor)
    # Then the page says the time was just taken, links to that day's times, books nothing
    assert page.status == 409
    assert "That time was just taken. Please choose another time." in page.text
    assert links(page, "/en/book/times") == [
        f"/en/book/times?office=new-york&service=adit-stamp&date={slot.day.isoformat()}"
    ]
    assert [a.name for a in appointments()] == ["Applicant Number7"]
    # And the details are still there
    assert visitor.get("/en/book/check").status == 200


def test_another_person_with_the_same_phone_is_told_to_give_another_number(
    visitor: SiteVisitor,
) -> None:
    # Given a person who booked with a phone number
    to_check(visitor)
    confirm(visitor)
    # When someone else books giving that phone number
    other = SiteVisitor()
    details = details_page(other, slot=first_free_slot())
    send_details(other, details, name="Ana Lima", **{"dob-year": "1990", "email": ""})
    page = confirm(other)
    # Then they are told to give another number, and nothing is booked
    assert page.status == 409
    assert "This phone number is already given for another appointment" in page.text
    assert len(appointments()) == 1


def test_a_network_that_booked_its_days_appointments_is_told_in_its_language() -> None:
    # Given four people on one network, each with their answers ready in Spanish
    network = {"CloudFront-Viewer-Address": "203.0.113.5:40000"}
    pages = []
    for number, name in enumerate(["Ana Lima", "Bo Chen", "Cy Diaz", "Di Evans"]):
        visitor = SiteVisitor(network)
        query = {"slot": first_free_slot(), "service": "adit-stamp"}
        details = visitor.get("/es/book/details", query=query)
        typed = {"name": name, "phone": f"212-555-010{number}", "email": ""}
        visitor.post("/es/book/details", {**hidden_fields(details), **DETAILS, **typed})
        # When each confirms, the fourth after the network booked three today
        pages.append(visitor.post("/es/book/confirm", {}))
    # Then the fourth is told in Spanish to come back tomorrow or call, and is not booked
    assert [page.status for page in pages] == [303, 303, 303, 429]
    assert "Hoy ya se reservaron demasiadas citas desde su red" in pages[-1].text
    assert len(appointments()) == 3


def test_an_address_the_mail_cannot_reach_is_asked_again(visitor: SiteVisitor) -> None:
    # When the details give an e-mail address with an accented letter before the @
    details = details_page(visitor, slot=first_free_slot())
    page = send_details(visitor, details, email="josé@example.com")
    # Then the form is shown again, saying why
    assert page.status == 422
    assert "accented or non-Latin letters before the @" in page.text


def test_someone_with_an_appointment_is_sent_to_it(
    visitor: SiteVisitor, offices: dict[str, Office]
) -> None:
    # Given a person who booked once
    to_check(visitor)
    confirm(visitor)
    # When they book again, with the same name and date of birth, from another browser
    other = SiteVisitor()
    to_check(other)
    page = confirm(other)
    # Then they are told so, with links to their appointment and to a lost PIN
    assert page.status == 409
    assert "You already have an appointment" in page.text
    assert 'href="/en/appointment/sign-in"' in page.html
    assert 'href="/en/lost"' in page.html
    assert len(appointments()) == 1


def test_the_pin_is_shown_once(visitor: SiteVisitor) -> None:
    # Given a booking just made
    to_check(visitor)
    confirm(visitor)
    first = visitor.get("/en/book/confirmation")
    pin = credential(first, "pin")
    # When the confirmation page is shown again
    again = visitor.get("/en/book/confirmation")
    # Then it shows the appointment without its PIN, and says why
    assert again.status == 200
    assert pin not in again.html
    assert "Your PIN was shown once" in again.text
    (appointment,) = appointments()
    assert appointment.confirmation_number in again.text
    assert 'href="/en/lost"' in again.html


def test_the_confirmation_page_has_copy_buttons_hidden_without_javascript(
    visitor: SiteVisitor,
) -> None:
    to_check(visitor)
    confirm(visitor)
    page = visitor.get("/en/book/confirmation")
    assert page.headers["cache-control"] == "no-store"
    assert re.search(r'<button type="button"[^>]*data-copy="pin"[^>]*hidden>', page.html)
    assert re.search(r'<button type="button"[^>]*data-copy="confirmation-number"', page.html)
    for link in ("/en/appointment/notice", "/en/appointment/calendar.ics", "/en/appointment"):
        assert f'href="{link}"' in page.html
    assert "15 minutes early" in page.text
    assert "receipt notices, decision letters and requests for evidence" in page.text


def test_pages_with_personal_data_are_never_stored(visitor: SiteVisitor) -> None:
    # Given the pages that show what the person typed, or their PIN
    visitor.get("/en/book")
    receipt = visitor.post("/en/book/case", {"receipt": "ZAR123"})
    details = details_page(visitor, times_page(visitor))
    check = (send_details(visitor, details), visitor.get("/en/book/check"))[1]
    confirm(visitor)
    confirmation = visitor.get("/en/book/confirmation")
    # Then no browser or cache keeps them
    for page in (receipt, details, check, confirmation):
        assert page.headers["cache-control"] == "no-store"


def test_the_confirmation_without_a_booking_asks_to_sign_in(visitor: SiteVisitor) -> None:
    page = visitor.get("/en/book/confirmation")
    assert (page.status, page.headers["location"]) == (303, "/en/appointment/sign-in")


@pytest.mark.parametrize("path", ["/en/book/confirm", "/en/book/details", "/en/book/case"])
def test_a_form_without_its_csrf_token_is_refused_and_books_nothing(
    visitor: SiteVisitor, path: str
) -> None:
    # Given the answers to check
    details = details_page(visitor, times_page(visitor))
    send_details(visitor, details)
    # When a form is sent without the CSRF token
    fields: dict[str, Any] = {**hidden_fields(details), **DETAILS, "receipt": "ZAR2612345678"}
    fields.pop("csrf_token")
    page = visitor.post(path, fields, with_csrf=False)
    # Then it is refused, and nothing is booked
    assert page.status == 403
    assert "This form has expired" in page.text
    assert appointments() == []
    assert seats_taken() == 0


def test_a_confirmation_with_a_token_not_made_for_its_cookie_is_refused(
    visitor: SiteVisitor,
) -> None:
    # Given the answers to check, and a token of another browser's CSRF cookie
    details = details_page(visitor, times_page(visitor))
    send_details(visitor, details)
    forged = "0" * 64
    # When the confirmation is sent with it
    page = visitor.post("/en/book/confirm", {"csrf_token": forged}, with_csrf=False)
    # Then it is refused, and nothing is booked
    assert page.status == 403
    assert appointments() == []


def test_answers_gone_say_to_start_again(visitor: SiteVisitor) -> None:
    visitor.get("/en/book")
    page = confirm(visitor)
    assert page.status == 409
    assert "Please start again." in page.text
    assert appointments() == []


def test_a_slot_id_that_names_no_office_is_a_clear_page(visitor: SiteVisitor) -> None:
    page = visitor.get("/en/book/details", query={"slot": "nowhere:2030-01-02T09:00",
                                                  "service": "adit-stamp"})  # fmt: skip
    assert page.status == 404
    assert "We could not find what you asked for." in page.text


def test_a_time_already_passed_cannot_be_chosen(visitor: SiteVisitor) -> None:
    slot = SlotId("new-york", date(2020, 1, 2), "09:00")
    page = visitor.get("/en/book/details", query={"slot": str(slot), "service": "adit-stamp"})
    assert page.status == 409
    assert "That time has already passed." in page.text


def test_the_journey_logs_nothing_the_person_typed(
    visitor: SiteVisitor, log_output: io.StringIO, capfd: pytest.CaptureFixture[str]
) -> None:
    # Given a journey with a wrong receipt number and wrong details, then a booking
    visitor.get("/en/book")
    visitor.post("/en/book/case", {"receipt": "ZXX2612345678"})
    details = details_page(visitor, times_page(visitor))
    send_details(visitor, details, email="maria@")
    to_check(visitor)
    confirm(visitor)
    pin = credential(visitor.get("/en/book/confirmation"), "pin")
    # When everything the functions wrote is read
    out, err = capfd.readouterr()
    written = "\n".join((log_output.getvalue(), out, err))
    # Then none of it is what the person typed, nor their PIN
    assert "form refused" in written
    assert [typed for typed in (*TYPED, "ZXX", pin) if typed in written] == []
