"""Every page of the site, in one table: the browser checks (axe, reflow, text zoom, headers,
screenshots) run on each row. A page is reached by its path, or by a function that walks a
browser there (a step of a journey, a form showing its errors)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page

# The languages every check runs in: left to right, and right to left.
CHECKED_LANGUAGES = ("en", "ar")
# The languages each page is photographed in: Latin, Arabic and Chinese script.
PHOTOGRAPHED_LANGUAGES = ("en", "ar", "zh")


@dataclass(frozen=True)
class SitePage:
    name: str
    # "/{lang}/privacy", or a function that takes a fresh page there in a language.
    reach: str | Callable[[Page, str], None]
    # The button that carries the page forward (must stay usable at 200% text).
    primary: str | None = None
    status: int = 200
    # The languages this page can be shown in (None: all of them).
    languages: tuple[str, ...] | None = None

    def open(self, page: Page, language: str) -> None:
        if callable(self.reach):
            self.reach(page, language)
        else:
            page.goto(self.reach.format(lang=language))

    def shown_in(self, languages: Iterable[str]) -> list[str]:
        return [lang for lang in languages if self.languages is None or lang in self.languages]


SITE_PAGES = (
    SitePage("home", "/{lang}", primary="main .usa-button >> nth=0"),
    SitePage("privacy", "/{lang}/privacy"),
    SitePage("accessibility", "/{lang}/accessibility"),
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
