"""Every page in a real browser against WCAG 2.2 AA: axe-core's rules, reflow at 320 CSS
pixels, text at 200%, and the keyboard."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from playwright.sync_api import Page

from tests.browser.checks import (
    Watch,
    assert_no_sideways_scrolling,
    assert_usable,
    axe_violations,
    described,
)
from tests.browser.pages import SitePage, every_page

pytestmark = pytest.mark.browser

# Chromium's default font sizes; the text zoom doubles them.
STANDARD_FONT_PX = 16
FIXED_FONT_PX = 13


@pytest.mark.parametrize(("site_page", "language"), every_page())
def test_axe_finds_nothing_on_the_page(
    browse: Callable[..., Watch],
    site_page: SitePage,
    language: str,
    record_property: Callable[[str, object], None],
) -> None:
    # Given the page in a browser
    page = browse().page
    site_page.open(page, language)
    # When axe-core checks it against WCAG 2.0, 2.1 and 2.2, levels A and AA
    started = time.monotonic()
    violations = axe_violations(page)
    seconds = time.monotonic() - started
    record_property("figure", f"axe on {site_page.name} ({language}): {seconds:.1f} s")
    # Then it finds no violation
    assert not violations, f"{len(violations)} axe violation(s):\n{described(violations)}"


@pytest.mark.parametrize(("site_page", "language"), every_page())
def test_the_page_reflows_at_320_css_pixels(
    browse: Callable[..., Watch], site_page: SitePage, language: str
) -> None:
    # Given a window 320 CSS pixels wide (1280 px at 400% zoom, WCAG 1.4.10)
    page = browse(viewport={"width": 320, "height": 640}).page
    # When the page is shown in it
    site_page.open(page, language)
    # Then nothing makes it scroll sideways
    assert_no_sideways_scrolling(page)


def heading_size(page: Page) -> float:
    return float(page.locator("h1").evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))


def zoom_text(page: Page, factor: float) -> None:
    """Text-only zoom as Chromium's own font-size setting does it: the default font sizes the
    page's rem and em sizes derive from (the DevTools protocol's Page.setFontSizes). Page zoom
    or a device scale factor would enlarge everything, which at 1280 px is the 640 px reflow."""
    page.context.new_cdp_session(page).send(
        "Page.setFontSizes",
        {
            "fontSizes": {
                "standard": round(STANDARD_FONT_PX * factor),
                "fixed": round(FIXED_FONT_PX * factor),
            }
        },
    )


@pytest.mark.parametrize(("site_page", "language"), every_page())
def test_the_page_is_usable_with_text_at_200_percent(
    browse: Callable[..., Watch], site_page: SitePage, language: str
) -> None:
    # Given the page in a desktop window
    page = browse(viewport={"width": 1280, "height": 800}).page
    site_page.open(page, language)
    normal = heading_size(page)
    # When its text is zoomed to 200% (WCAG 1.4.4)
    zoom_text(page, 2)
    # Then the text grew, the page does not scroll sideways, and its heading and main button
    # are whole and uncovered
    assert heading_size(page) >= 1.9 * normal
    assert_no_sideways_scrolling(page)
    assert_usable(page, "h1")
    if site_page.primary is not None:
        assert_usable(page, site_page.primary)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_skip_link_takes_the_keyboard_to_the_main_content(
    browse: Callable[..., Watch], javascript: bool
) -> None:
    # Given the start page, and the keyboard on its first link
    page = browse(javascript=javascript).page
    page.goto("/en")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "usa-skipnav"
    # When the skip link is followed, and the keyboard moves on
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    # Then the keyboard is in the main content, past the banner, header and warning
    assert page.evaluate("document.activeElement.closest('main')?.id") == "main-content"
