"""A person's moves through the site in a browser: booking, signing in to My appointment,
moving, cancelling and printing. Fields and buttons are found by their names and ids, which
do not change with the page's language."""

from __future__ import annotations

import random
import re
import time
import uuid
from dataclasses import dataclass, replace
from datetime import date, timedelta
from itertools import count
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import APIRequestContext, Page

from tests.helpers import applicant, booking_body, email_of, phone_of, solved_over

OFFICE = "new-york"
OFFICE_ZIP = "10001"
SERVICE = "adit-stamp"
NOTICE_SECONDS = 60
# Each person a name and birthday of their own: people are numbered from a random start, so
# that two test processes (which book side by side) seldom meet the same person.
_GIVEN_NAMES = (
    "María José",
    "Thị Lan",
    "Olena",
    "Amir",
    "Grace",
    "Jean-Baptiste",
    "Ana",
    "Min-jun",
)
_FAMILY_NAMES = (
    "García-López",
    "Nguyễn",
    "Kovalenko",
    "Haddad",
    "Santos",
    "Pierre",
    "Kim",
    "Nowak",
)
_BIRTH_DAYS = 18_000
_people = count(random.randrange(len(_GIVEN_NAMES) * len(_FAMILY_NAMES) * _BIRTH_DAYS))


@dataclass(frozen=True)
class Person:
    """Somebody who has no appointment yet (one active appointment per person)."""

    name: str
    born: date
    phone: str  # their own, and so is the e-mail address (one appointment per phone, address)
    email: str

    @classmethod
    def new(cls) -> Person:
        number = next(_people)
        given, number = _GIVEN_NAMES[number % len(_GIVEN_NAMES)], number // len(_GIVEN_NAMES)
        family, number = _FAMILY_NAMES[number % len(_FAMILY_NAMES)], number // len(_FAMILY_NAMES)
        born = date(1950, 1, 1) + timedelta(days=number % _BIRTH_DAYS)
        name = f"{given} {family}"
        return cls(name, born, phone_of(name, born.isoformat()), email_of(name, born.isoformat()))


@dataclass(frozen=True)
class Booked:
    confirmation_number: str
    pin: str


# Forms that carry a proof (the widget's solution or the time-lock), and those that may be
# answered with the time-lock's wait page.
PROOF_ACTIONS = ("/book/details", "/appointment/reschedule")
WAIT_ACTIONS = ("/book/confirm", "/appointment/reschedule")


def submit(page: Page, action: str) -> None:
    """Press the submit button of the form sent to `action` (a path after the language), and
    wait for the page it leads to: past the wait page, as a person without the widget does."""
    if action.endswith(PROOF_ACTIONS):
        solved_by_the_widget(page)
    press(page, f'form[action$="{action}"] [type="submit"]')
    if action.endswith(WAIT_ACTIONS):
        through_the_wait(page)


def solved_by_the_widget(page: Page) -> None:
    """With JavaScript, wait for the widget's solution in the form (a person is still typing
    then: it takes half a second when calm)."""
    if page.locator("altcha-widget input").count():  # drawn by the script only
        page.wait_for_function("() => document.querySelector('input[name=altcha]')?.value")


def without_the_widget(page: Page) -> None:
    """The widget gone, as when it cannot solve: the form goes with its time-lock."""
    page.locator("altcha-widget").evaluate_all("widgets => widgets.forEach(w => w.remove())")


def through_the_wait(page: Page) -> None:
    """The time-lock's wait page, as a person meets it: wait the seconds it says, Continue."""
    while page.locator("#wait-form").count():
        seconds = re.search(r"\d+", page.locator("#wait-seconds").inner_text())
        assert seconds is not None
        time.sleep(int(seconds.group()))
        press(page, '#wait-form [type="submit"]')


def press(page: Page, selector: str) -> None:
    """Click what `selector` finds first (a link or button), and wait for the next page."""
    with page.expect_navigation():
        page.locator(selector).first.click()


def choose(page: Page, selector: str) -> None:
    """Tick a radio button as a person does: by its label (USWDS draws its own circle)."""
    radio = page.locator(selector)
    page.locator(f'label[for="{radio.get_attribute("id")}"]').click()
    assert radio.is_checked()


def find_offices(page: Page, language: str, zip_code: str = OFFICE_ZIP) -> None:
    if not page.url.endswith(f"/{language}/book"):
        page.goto(f"/{language}/book")
    page.locator("#zip").fill(zip_code)
    submit(page, "/book/offices")


def choose_office_and_service(page: Page, office: str = OFFICE, service: str = SERVICE) -> None:
    press(page, f'a[href*="/book/services?office={office}"]')
    choose(page, f'input[name="service"][value="{service}"]')
    submit(page, "/book/days")


def choose_first_free_day(page: Page) -> None:
    for _ in range(3):
        free = page.locator('.site-calendar a[href*="/times?"]')
        if free.count():
            press(page, '.site-calendar a[href*="/times?"]')
            return
        press(page, ".site-calendar__months a >> nth=-1")
    raise AssertionError("no free day in three months")


def choose_a_time(page: Page) -> None:
    choose_any_time(page)
    press(page, 'form:has(input[name="slot"]) [type="submit"]')


def choose_any_time(page: Page) -> None:
    """One of the day's free times, at random (tests running side by side seldom want the same
    seat), never the last one, which `to_taken` fills."""
    times = page.locator('input[name="slot"]').count()
    choose(page, f'input[name="slot"] >> nth={random.randrange(max(1, times - 1))}')


def give_details(page: Page, person: Person, notice_language: str = "es") -> None:
    page.locator("#name").fill(person.name)
    page.locator("#dob-month").select_option(str(person.born.month))
    page.locator("#dob-day").fill(str(person.born.day))
    page.locator("#dob-year").fill(str(person.born.year))
    page.locator("#phone").fill(person.phone)
    page.locator("#email").fill(person.email)
    page.locator("#language").select_option(notice_language)
    submit(page, "/book/details")


def to_times(page: Page, language: str) -> None:
    """Where → office → service → day: the free times of the first free day."""
    find_offices(page, language)
    choose_office_and_service(page)
    choose_first_free_day(page)


def to_details(page: Page, language: str) -> None:
    to_times(page, language)
    choose_a_time(page)


def to_check(page: Page, language: str, person: Person | None = None) -> None:
    to_details(page, language)
    give_details(page, person or Person.new())


def free_slots(api: APIRequestContext, office: str = OFFICE) -> list[str]:
    """The free slots of the office's first day with any, from the JSON API."""
    days = api.get(f"/offices/{office}/days", params={"service": SERVICE}).json()["days"]
    day = next(day["date"] for day in days if day["available"])
    slots = api.get(f"/offices/{office}/slots", params={"date": day, "service": SERVICE})
    return [slot["slotId"] for slot in slots.json()["slots"] if slot["available"]]


def to_details_of(page: Page, language: str, slot_id: str) -> None:
    """The details form of a slot, as the times page's form asks for it."""
    page.goto(f"/{language}/book/details?service={SERVICE}&slot={slot_id}")


def to_check_quickly(page: Page, language: str, slot_id: str | None = None) -> None:
    """Straight to the details of a free time (the earlier steps are links with ids)."""
    to_details_of(page, language, slot_id or any_free_slot(page.request))
    give_details(page, Person.new())


def any_free_slot(api: APIRequestContext) -> str:
    """One of the first free day's slots (at random, so that tests running side by side
    seldom want the same seat; never the last one, which `to_taken` fills)."""
    slots = free_slots(api)
    return random.choice(slots[:-1] or slots)


def to_first_free_times(page: Page, language: str) -> None:
    page.goto(f"/{language}/book/days?office={OFFICE}&service={SERVICE}")
    choose_first_free_day(page)


def to_details_quickly(page: Page, language: str) -> None:
    to_details_of(page, language, any_free_slot(page.request))


def to_details_with_errors(page: Page, language: str) -> None:
    """The details form sent back: a date of birth that does not exist, a phone too short."""
    to_details_quickly(page, language)
    page.locator("#name").fill(Person.new().name)
    page.locator("#dob-month").select_option("2")
    page.locator("#dob-day").fill("31")
    page.locator("#dob-year").fill("1985")
    page.locator("#phone").fill("12")
    submit(page, "/book/details")


def to_taken(page: Page, language: str) -> None:
    """A time taken by others while the person was checking their answers."""
    slot_id = free_slots(page.request)[-1]
    to_check_quickly(page, language, slot_id)
    fill_slot(page.request, slot_id)
    confirm(page)


def to_wait(page: Page, language: str) -> None:
    """The time-lock's wait page: the details sent without the widget's solution (as a
    browser without JavaScript does), and confirmed at once."""
    to_details_quickly(page, language)
    without_the_widget(page)
    give_details(page, Person.new())
    press(page, 'form[action$="/book/confirm"] [type="submit"]')


def confirm(page: Page) -> None:
    submit(page, "/book/confirm")


def credentials(page: Page) -> Booked:
    return Booked(
        confirmation_number=page.locator("#confirmation-number").inner_text().strip(),
        pin=page.locator("#pin").inner_text().strip(),
    )


def book(page: Page, language: str, person: Person | None = None) -> Booked:
    to_check(page, language, person)
    confirm(page)
    return credentials(page)


def book_quickly(page: Page, language: str) -> Booked:
    to_check_quickly(page, language)
    confirm(page)
    return credentials(page)


def signed_in(page: Page, language: str) -> Booked:
    """A new appointment, and its page in My appointment."""
    booked = book_quickly(page, language)
    sign_in(page, language, booked)
    return booked


def sign_in(page: Page, language: str, booked: Booked) -> None:
    page.goto(f"/{language}/appointment/sign-in")
    page.locator("#confirmation_number").fill(booked.confirmation_number)
    page.locator("#pin").fill(booked.pin)
    submit(page, "/appointment/sign-in")


def to_new_times(page: Page) -> None:
    """From the appointment's page to the free times of the first free day."""
    press(page, 'a[href$="/appointment/days"]')
    choose_first_free_day(page)


def move_to_another_time(page: Page) -> None:
    to_new_times(page)
    choose_any_time(page)
    submit(page, "/appointment/reschedule")


def to_cancel(page: Page) -> None:
    press(page, 'a[href$="/appointment/cancel"]')


def cancel(page: Page) -> None:
    to_cancel(page)
    submit(page, "/appointment/cancel")


def print_notice(page: Page) -> bytes:
    """The document behind the page's "Print the notice" link, fetched with the browser's
    cookies (drawn from the table's stream in a few seconds: until then the link leads to a
    page saying so)."""
    link = page.locator('a[href$="/appointment/notice"]').get_attribute("href")
    assert link is not None
    deadline = time.monotonic() + NOTICE_SECONDS
    while True:
        document = page.request.get(link).body()
        if document.startswith(b"%PDF") or time.monotonic() > deadline:
            return document
        time.sleep(0.5)


def fill_slot(api: APIRequestContext, slot_id: str, leave: int = 0) -> None:
    """Book the seats of a slot but `leave` of them, through the JSON API, for other people."""
    office, _, when = slot_id.partition(":")
    slots = api.get(f"/offices/{office}/slots", params={"date": when[:10], "service": SERVICE})
    listed = [s for s in slots.json()["slots"] if s["slotId"] == slot_id]
    if not listed and leave == 0:
        return  # already filled by somebody else (a full slot is not listed)
    (slot,) = listed
    for _ in range(slot["available"] - leave):
        person = Person.new()
        body: dict[str, Any] = booking_body(
            slot_id,
            applicant=applicant(name=person.name, dob=person.born.isoformat()),
            challenge=solved_over(api),
        )
        booked = api.post("/appointments", data=body)
        if booked.status == 409 and leave == 0 and booked.json()["error"] == "slot_full":
            return  # filled by somebody else meanwhile
        assert booked.status == 201, booked.text()


def ask_for_the_notice(page: Page, language: str, person: Person) -> None:
    """ "Lost your notice or PIN?", answered with a person's details."""
    page.goto(f"/{language}/lost")
    page.locator("#name").fill(person.name)
    page.locator("#dob-month").select_option(str(person.born.month))
    page.locator("#dob-day").fill(str(person.born.day))
    page.locator("#dob-year").fill(str(person.born.year))
    page.locator("#phone").fill(person.phone)
    submit(page, "/lost")


def book_through_the_api(api: APIRequestContext, person: Person) -> None:
    details = applicant(
        name=person.name, dob=person.born.isoformat(), phone=person.phone, email=person.email
    )
    body = booking_body(any_free_slot(api), applicant=details, challenge=solved_over(api))
    booked = api.post("/appointments", data=body)
    assert booked.status == 201, booked.text()


def new_pin_link(api: APIRequestContext, email: str) -> str:
    """The link to set a new PIN from the newest e-mail to `email` (the local outbox)."""
    deadline = time.monotonic() + NOTICE_SECONDS
    while time.monotonic() < deadline:
        for mail in api.get("/_local/outbox.json").json():
            links = [link for link in mail["links"] if "/pin/" in link]
            if email in mail["to"] and links:
                return str(links[0])
        time.sleep(0.5)
    raise AssertionError(f"no mail with a new PIN link to {email}")


def to_new_pin_form(page: Page, language: str) -> None:
    """An appointment, asked for on "Lost your notice or PIN?": the e-mailed link's page."""
    person = Person.new()
    person = replace(person, email=f"pin-{uuid.uuid4().hex}@example.com")
    book_through_the_api(page.request, person)
    ask_for_the_notice(page, language, person)
    token = urlsplit(new_pin_link(page.request, person.email)).path.rsplit("/", 1)[1]
    page.goto(f"/{language}/pin/{token}")


def to_new_pin(page: Page, language: str) -> None:
    to_new_pin_form(page, language)
    press(page, 'form[action*="/pin/"] [type="submit"]')


def send_the_lost_form_empty(page: Page, language: str) -> None:
    page.goto(f"/{language}/lost")
    submit(page, "/lost")


def ask_for_a_notice_nobody_has(page: Page, language: str) -> None:
    ask_for_the_notice(page, language, Person.new())


def to_appointment(page: Page, language: str) -> None:
    signed_in(page, language)


def to_appointment_days(page: Page, language: str) -> None:
    signed_in(page, language)
    press(page, 'a[href$="/appointment/days"]')


def to_appointment_times(page: Page, language: str) -> None:
    signed_in(page, language)
    to_new_times(page)


def to_appointment_cancel(page: Page, language: str) -> None:
    signed_in(page, language)
    to_cancel(page)


def to_appointment_cancelled(page: Page, language: str) -> None:
    signed_in(page, language)
    cancel(page)
