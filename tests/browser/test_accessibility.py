"""The keyboard on every page: the skip link. (Each page's WCAG checks are in
test_every_page.py.)"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.browser.checks import Watch

pytestmark = pytest.mark.browser


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
