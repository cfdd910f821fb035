"""The site in a real browser: one local stack and one headless Chromium (Debian's) for all
the browser tests of a run (of each xdist worker), and a fresh browser context per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext

from tests.browser.checks import (
    CHROMIUM,
    CHROMIUM_HEADLESS,
    DESKTOP,
    SCREENSHOTS,
    Drawing,
    Visit,
    Watch,
    drawing,
    visit,
)
from tests.browser.pages import CHECKED_LANGUAGES, SitePage
from tests.e2e.running import shared_stack


@pytest.fixture(scope="session")
def site_url(
    pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory, worker_id: str
) -> Iterator[str]:
    """The site under test: one local stack for the run, shared by its xdist workers (a stack
    takes a minute to start), or the one --base-url names (a `make run` already serving)."""
    base_url = pytestconfig.getoption("--base-url")
    if base_url:
        yield str(base_url).rstrip("/")
        return
    run_folder = tmp_path_factory.getbasetemp()
    if worker_id != "master":  # each worker has its own folder in the run's
        run_folder = run_folder.parent
    with shared_stack(run_folder / "site") as url:
        yield url


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's Chromium (Playwright's own browser builds are never downloaded): its headless
    shell, or the full browser with --headed."""
    options = {"headless": True, **browser_type_launch_args}
    return options | {"executable_path": CHROMIUM_HEADLESS if options["headless"] else CHROMIUM}


@pytest.fixture(scope="session")
def browser_context_args(site_url: str) -> dict[str, Any]:
    return {"base_url": site_url}


@pytest.fixture(scope="session")
def visits(
    browser: Browser, browser_context_args: dict[str, Any]
) -> Callable[[SitePage, str], Visit]:
    """Each page's visit in each language, made once (in a browser context of its own) for
    the tests that each look at one thing it showed."""

    @cache
    def visit_of(site_page: SitePage, language: str) -> Visit:
        context = browser.new_context(**browser_context_args)
        try:
            return visit(
                context.new_page(),
                lambda page: site_page.open(page, language),
                site_page.primary,
                photograph=SCREENSHOTS / f"{site_page.name}-{language}.png",
            )
        finally:
            context.close()

    return visit_of


@pytest.fixture(scope="session")
def drawings(
    browser: Browser,
    browser_context_args: dict[str, Any],
    visits: Callable[[SitePage, str], Visit],
) -> Callable[[SitePage, str], Drawing]:
    """How each page was drawn in each language (photographed into .cache/screenshots): from
    its visit in the checked languages, else from a visit of its own that only looks."""

    @cache
    def drawing_of(site_page: SitePage, language: str) -> Drawing:
        if language in CHECKED_LANGUAGES:
            return visits(site_page, language).drawing
        context = browser.new_context(**browser_context_args, viewport=DESKTOP)
        try:
            watch = Watch.on(context.new_page())
            site_page.open(watch.page, language)
            return drawing(watch.page, watch, SCREENSHOTS / f"{site_page.name}-{language}.png")
        finally:
            context.close()

    return drawing_of


@pytest.fixture
def browse(new_context: Callable[..., BrowserContext]) -> Callable[..., Watch]:
    """A new page in a browser context of its own (`javascript=False`: scripts off), watched
    from its first request."""

    def open_page(*, javascript: bool = True, **options: Any) -> Watch:
        context = new_context(java_script_enabled=javascript, **options)
        return Watch.on(context.new_page())

    return open_page
