"""Whole journeys in a real browser, with JavaScript on and off: booking, then My appointment
(view, move, cancel, print); the keyboard alone; two people after the last seat."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page

from tests.browser.checks import Watch
from tests.browser.journeys import (
    Person,
    book,
    cancel,
    confirm,
    credentials,
    fill_slot,
    free_slots,
    give_details,
    move_to_another_time,
    press,
    print_notice,
    sign_in,
    solved_by_the_widget,
    to_details_of,
)

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
@pytest.mark.parametrize("language", ["en", "es", "ar"])
def test_a_person_books_then_views_moves_cancels_and_prints(
    browse: Callable[..., Watch], language: str, javascript: bool
) -> None:
    page = browse(javascript=javascript).page
    # Given the start page
    page.goto(f"/{language}")
    press(page, f'main a[href="/{language}/book"]')
    # When a person finds an office by ZIP code, chooses a service, a day and a time, gives
    # their details, checks them and confirms
    booked = book(page, language)
    # Then they are given a confirmation number and a PIN
    assert page.url.split("?")[0].endswith(f"/{language}/book/confirmation")
    assert len(booked.confirmation_number) == 11
    assert booked.pin.isdigit()
    # When they sign in to My appointment with them
    sign_in(page, language, booked)
    # Then they see their appointment
    assert page.url.endswith(f"/{language}/appointment")
    assert booked.confirmation_number in page.locator("main").inner_text()
    # When they move it to another time
    move_to_another_time(page)
    # Then their appointment's page says it was moved
    assert page.locator('.usa-alert--success[role="status"]').is_visible()
    # When they cancel it
    cancel(page)
    # Then it is cancelled
    assert page.url.endswith(f"/{language}/appointment/cancelled")
    # And its notice can still be printed from its page
    page.goto(f"/{language}/appointment")
    assert print_notice(page).startswith(b"%PDF")


def tab_to(page: Page, selector: str, most: int = 60) -> None:
    """Press Tab until the element `selector` has the keyboard focus, which it shows."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
            assert outline != "none", f"{selector} does not show its focus"
            return
    raise AssertionError(f"{selector} is not reached with Tab")


def enter(page: Page) -> None:
    """Press Enter on a link or in a form, and wait for the page it leads to."""
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_a_person_books_with_the_keyboard_alone(browse: Callable[..., Watch]) -> None:
    page = browse().page
    person = Person.new()
    # Given the start page
    page.goto("/en")
    # When a person books with Tab, arrows, Space, Enter and typing
    tab_to(page, 'main a[href="/en/book"]')
    enter(page)
    tab_to(page, "#zip")
    page.keyboard.type("10001")
    enter(page)
    tab_to(page, 'a[href*="/book/services?office=new-york"]')
    enter(page)
    tab_to(page, 'input[name="service"]')
    page.keyboard.press("Space")
    tab_to(page, 'form[action$="/book/days"] [type="submit"]')
    enter(page)
    tab_to(page, '.site-calendar a[href*="/times?"]')
    enter(page)
    tab_to(page, 'input[name="slot"]')
    page.keyboard.press("ArrowDown")
    tab_to(page, 'form:has(input[name="slot"]) [type="submit"]')
    enter(page)
    tab_to(page, "#name")
    page.keyboard.type(person.name)
    tab_to(page, "#dob-month")
    page.keyboard.type(f"{person.born.month:02d}")
    tab_to(page, "#dob-day")
    page.keyboard.type(str(person.born.day))
    tab_to(page, "#dob-year")
    page.keyboard.type(str(person.born.year))
    tab_to(page, "#phone")
    page.keyboard.type(person.phone)
    tab_to(page, 'form[action$="/book/details"] [type="submit"]')
    solved_by_the_widget(page)  # the form waits for it (it solves while the person types)
    enter(page)
    tab_to(page, 'form[action$="/book/confirm"] [type="submit"]')
    enter(page)
    # Then the appointment is booked
    booked = credentials(page)
    assert len(booked.confirmation_number) == 11
    assert booked.pin.isdigit()


def test_of_two_people_after_the_last_seat_one_books_and_one_is_offered_another_time(
    browse: Callable[..., Watch],
) -> None:
    first, second = browse(), browse()
    # Given two people at "Check your answers" for the same time, which has one seat left
    slot = free_slots(first.page.request, office="honolulu")[-1]
    for watch in (first, second):
        to_details_of(watch.page, "en", slot)
        give_details(watch.page, Person.new())
    fill_slot(first.page.request, slot, leave=1)
    # When both confirm, one after the other
    confirm(first.page)
    confirm(second.page)
    # Then the first has the appointment, and the second is told the time was just taken
    assert credentials(first.page).pin.isdigit()
    assert second.documents[-1].status == 409
    assert second.page.locator('a.usa-button[href*="/book/times"]').is_visible()
