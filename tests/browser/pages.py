"""Every page of the site, in one table: the browser checks (axe, reflow, text zoom, headers,
screenshots) run on each row. A page is reached by its path, or by a function that walks a
browser there (a step of a journey, a form showing its errors)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.browser import journeys

# The languages every check runs in: left to right, and right to left.
CHECKED_LANGUAGES = ("en", "ar")
# The languages each page is photographed in: Latin, Arabic and Chinese script.
PHOTOGRAPHED_LANGUAGES = ("en", "ar", "zh")


# Where revisited pages were reached: their address and the cookies that went with it.
_reached: dict[tuple[str, str], tuple[str, list[Any]]] = {}


@dataclass(frozen=True)
class SitePage:
    name: str
    # "/{lang}/privacy", or a function that takes a fresh page there in a language.
    reach: str | Callable[[Page, str], object]
    # The button that carries the page forward (must stay usable at 200% text).
    primary: str | None = None
    status: int = 200
    # The languages this page can be shown in (None: all of them).
    languages: tuple[str, ...] | None = None
    # A page reached by a function whose address shows it again, with the same cookies: it is
    # reached once per language (and test process), then opened by its address.
    revisit: bool = False

    def open(self, page: Page, language: str) -> None:
        if not callable(self.reach):
            page.goto(self.reach.format(lang=language))
        elif not self.revisit:
            self.reach(page, language)
        elif (self.name, language) in _reached:
            address, cookies = _reached[self.name, language]
            page.context.add_cookies(cookies)
            page.goto(address)
        else:
            self.reach(page, language)
            _reached[self.name, language] = (page.url, page.context.cookies())

    def shown_in(self, languages: Iterable[str]) -> list[str]:
        return [lang for lang in languages if self.languages is None or lang in self.languages]


SITE_PAGES = (
    SitePage("home", "/{lang}", primary="main .usa-button >> nth=0"),
    SitePage("privacy", "/{lang}/privacy"),
    SitePage("accessibility", "/{lang}/accessibility"),
    SitePage("book-where", "/{lang}/book", primary="main form .usa-button >> nth=0"),
    SitePage(
        "book-where-errors",
        "/{lang}/book/offices?zip=1234",
        primary="main form .usa-button >> nth=0",
        status=422,
    ),
    SitePage("book-no-office", "/{lang}/book/offices?zip=99999"),
    SitePage("book-offices", "/{lang}/book/offices?zip=10001", primary="main .usa-button >> nth=0"),
    SitePage(
        "book-services", "/{lang}/book/services?office=new-york", primary="main form .usa-button"
    ),
    SitePage("book-days", "/{lang}/book/days?office=new-york&service=adit-stamp"),
    SitePage(
        "book-times", journeys.to_first_free_times, primary="main form .usa-button", revisit=True
    ),
    SitePage(
        "book-details", journeys.to_details_quickly, primary="main form .usa-button", revisit=True
    ),
    SitePage(
        "book-details-errors",
        journeys.to_details_with_errors,
        primary="main form .usa-button",
        status=422,
    ),
    SitePage(
        "book-check", journeys.to_check_quickly, primary="main form .usa-button", revisit=True
    ),
    SitePage("book-wait", journeys.to_wait, primary="main form .usa-button"),
    SitePage("book-confirmation", journeys.book_quickly),
    SitePage("book-taken", journeys.to_taken, primary="main .usa-button", status=409),
    SitePage("appointment-sign-in", "/{lang}/appointment/sign-in", primary="main form .usa-button"),
    SitePage(
        "appointment", journeys.to_appointment, primary="main .usa-button >> nth=0", revisit=True
    ),
    SitePage("appointment-days", journeys.to_appointment_days, revisit=True),
    SitePage(
        "appointment-times",
        journeys.to_appointment_times,
        primary="main form .usa-button",
        revisit=True,
    ),
    SitePage(
        "appointment-cancel",
        journeys.to_appointment_cancel,
        primary='main form [type="submit"]',
        revisit=True,
    ),
    SitePage(
        "appointment-cancelled",
        journeys.to_appointment_cancelled,
        primary="main .usa-button >> nth=0",
        revisit=True,
    ),
    SitePage("lost", "/{lang}/lost", primary="main form .usa-button"),
    SitePage(
        "lost-errors",
        journeys.send_the_lost_form_empty,
        primary="main form .usa-button",
        status=422,
    ),
    SitePage("lost-sent", journeys.ask_for_a_notice_nobody_has, revisit=True),
    SitePage("pin-link-refused", "/{lang}/pin/not-a-link", primary="main .usa-button", status=403),
    SitePage("pin-reset", journeys.to_new_pin_form, primary="main form .usa-button", revisit=True),
    SitePage("pin-new", journeys.to_new_pin),
    SitePage("no-such-page", "/{lang}/no-such-page", primary="main .usa-button", status=404),
    # Outside any language (an unknown one), the error page is in English.
    SitePage(
        "unknown-language",
        "/xx",
        primary="main .usa-button",
        status=404,
        languages=("en",),
    ),
)


def every_page(languages: Iterable[str] = CHECKED_LANGUAGES) -> list[object]:
    """(page, language) parameters for each page in each of `languages` it is shown in."""
    wanted = tuple(languages)
    return [
        pytest.param(site_page, language, id=f"{site_page.name}-{language}")
        for site_page in SITE_PAGES
        for language in site_page.shown_in(wanted)
    ]
