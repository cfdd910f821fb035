"""The layout every page shares, in a real browser: the language of the root, the language
switcher, and how each page is drawn (the screenshots in .cache/screenshots)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from tests.browser.checks import Drawing, Watch
from tests.browser.journeys import book_quickly
from tests.browser.pages import PHOTOGRAPHED_LANGUAGES, SitePage, every_page

pytestmark = pytest.mark.browser


def test_the_root_sends_a_browser_to_the_start_page_in_its_language(
    browse: Callable[..., Watch],
) -> None:
    # Given a browser whose language is French
    watch = browse(locale="fr-FR")
    # When it opens the site's root
    watch.page.goto("/")
    # Then it is sent (303) to the French start page
    assert [response.status for response in watch.documents] == [303, 200]
    assert watch.page.url.endswith("/fr")
    assert watch.page.locator("html").get_attribute("lang") == "fr"


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_language_switcher_keeps_the_page(
    browse: Callable[..., Watch], javascript: bool
) -> None:
    # Given the English Privacy Act statement
    page = browse(javascript=javascript).page
    page.goto("/en/privacy")
    # When the visitor opens the language list and chooses Spanish
    page.locator(".site-languages summary").click()
    page.get_by_role("link", name="Español").click()
    # Then the same statement is shown in Spanish
    expect(page).to_have_url(page.url.split("/es/")[0] + "/es/privacy")
    assert page.locator("html").get_attribute("lang") == "es"


@pytest.mark.parametrize(("site_page", "language"), every_page(PHOTOGRAPHED_LANGUAGES))
def test_the_page_is_drawn_with_its_style_and_images(
    drawings: Callable[[SitePage, str], Drawing], site_page: SitePage, language: str
) -> None:
    # When the page is shown in a desktop window (and photographed whole, for a look at every
    # page in three scripts)
    drawn = drawings(site_page, language)
    # Then it has its status, its style sheets are applied and every image is drawn
    assert drawn.status == site_page.status
    assert drawn.styled and all(drawn.styled)
    assert drawn.broken_images == []


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_copy_buttons_show_only_where_a_script_can_copy(
    browse: Callable[..., Watch], javascript: bool
) -> None:
    # Given a browser with JavaScript on or off
    page = browse(javascript=javascript).page
    # When a person books
    book_quickly(page, "en")
    # Then the buttons that copy the confirmation number and the PIN show only with a script
    buttons = page.locator("[data-copy]").all()
    assert [button.is_visible() for button in buttons] == [javascript, javascript]
