"""What a browser is told and what it fetches: security headers, language and direction, a
clean console, no third party, and the weight of the first visit. The checks of each page
look at one visit of it (`visits`)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.browser.checks import Visit, Watch
from tests.browser.pages import SitePage, every_page

pytestmark = pytest.mark.browser

# The first visit (the start page with its style, script and images, as sent over the wire).
FIRST_VISIT_BUDGET_BYTES = 150_000
ONE_YEAR_SECONDS = 365 * 24 * 3600


def security_problems(headers: dict[str, str]) -> list[str]:
    problems = []
    policy = headers.get("content-security-policy", "")
    if "'unsafe-inline'" in policy or "script-src 'self'" not in policy:
        problems.append(f"Content-Security-Policy: {policy!r}")
    if "frame-ancestors 'none'" not in policy:
        problems.append("no frame-ancestors 'none'")
    hsts = headers.get("strict-transport-security", "")
    max_age = next((int(part.split("=")[1]) for part in hsts.split(";") if "max-age=" in part), 0)
    if max_age < ONE_YEAR_SECONDS:
        problems.append(f"Strict-Transport-Security: {hsts!r}")
    if headers.get("x-content-type-options") != "nosniff":
        problems.append("no X-Content-Type-Options: nosniff")
    if headers.get("referrer-policy") != "no-referrer":
        problems.append(f"Referrer-Policy: {headers.get('referrer-policy')!r}")
    return problems


@pytest.mark.parametrize(("site_page", "language"), every_page())
def test_the_page_carries_the_security_headers(
    visits: Callable[[SitePage, str], Visit], site_page: SitePage, language: str
) -> None:
    # When a browser is shown the page (with any redirect on the way)
    shown = visits(site_page, language)
    # Then every document it received carries the security headers
    assert shown.documents
    for url, _, headers in shown.documents:
        assert security_problems(headers) == [], url


def test_the_language_redirect_carries_the_security_headers(
    browse: Callable[..., Watch],
) -> None:
    # Given a browser
    watch = browse()
    # When it opens the root, which sends it on to its language
    watch.page.goto("/")
    # Then the redirect carries the headers too
    redirect = watch.documents[0]
    assert redirect.status == 303
    assert security_problems(redirect.all_headers()) == []


@pytest.mark.parametrize(("site_page", "language"), every_page())
def test_the_page_declares_its_language_and_direction(
    visits: Callable[[SitePage, str], Visit], site_page: SitePage, language: str
) -> None:
    # When a browser is shown the page in a language
    shown = visits(site_page, language)
    # Then <html> names the language and the direction of its script
    assert shown.lang == language
    assert shown.dir == ("rtl" if language == "ar" else "ltr")


@pytest.mark.parametrize(("site_page", "language"), every_page())
def test_the_page_logs_no_error_and_breaks_no_policy(
    visits: Callable[[SitePage, str], Visit], site_page: SitePage, language: str
) -> None:
    # When a browser that listens for Content-Security-Policy violations is shown the page
    shown = visits(site_page, language)
    # Then nothing was refused, and the console holds no error (but the status of an error
    # page itself, which Chromium logs)
    errors = [
        error
        for error in shown.console_errors
        if not (site_page.status >= 400 and error.endswith(f"({shown.url})"))
    ]
    assert shown.policy_violations == []
    assert errors == []


@pytest.mark.parametrize(("site_page", "language"), every_page())
def test_the_page_fetches_nothing_from_another_host(
    visits: Callable[[SitePage, str], Visit], site_page: SitePage, language: str
) -> None:
    # When a browser is shown the page, with everything the page loads
    shown = visits(site_page, language)
    # Then every request went to the site itself
    assert shown.hosts == {"http://127.0.0.1"}


def test_the_first_visit_weighs_at_most_150_kb(
    browse: Callable[..., Watch], record_property: Callable[[str, object], None]
) -> None:
    # Given a browser with nothing cached
    watch = browse()
    # When it opens the site and everything the start page loads
    watch.page.goto("/")
    # Then what came over the wire, compressed as sent, is within the budget
    transfer = watch.transfer()
    total = sum(size for _, size in transfer)
    parts = ", ".join(f"{path} {size / 1000:.1f}" for path, size in transfer)
    record_property("figure", f"first visit: {total / 1000:.1f} kB ({parts})")
    assert total <= FIRST_VISIT_BUDGET_BYTES, parts
