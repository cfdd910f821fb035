"""The layout every page shares, in a real browser: the language of the root, the language
switcher, and how each page is drawn (the screenshots in .cache/screenshots)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from tests.browser.checks import SCREENSHOTS, Watch
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
    browse: Callable[..., Watch], site_page: SitePage, language: str
) -> None:
    # Given a desktop window
    watch = browse(viewport={"width": 1024, "height": 768})
    page = watch.page
    # When the page is shown
    site_page.open(page, language)
    # Then it has its status, its style sheet is applied and every image is drawn
    assert watch.documents[-1].status == site_page.status
    styled = page.evaluate(
        "[...document.querySelectorAll('link[rel=stylesheet]')]"
        ".map(link => link.sheet !== null && link.sheet.cssRules.length > 0)"
    )
    assert styled and all(styled)
    broken = page.evaluate(
        "[...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)"
    )
    assert broken == []
    # (and is photographed whole, for a look at every page in three scripts)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{site_page.name}-{language}.png", full_page=True)
