"""The site in a real browser: one local stack and one headless Chromium (Debian's) for all
the browser tests of a run (of each xdist worker), and a fresh browser context per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import BrowserContext

from tests.browser.checks import CHROMIUM, Watch
from tests.e2e.running import started_stack


@pytest.fixture(scope="session")
def site_url(
    pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The site under test: a local stack started for the run, or the one --base-url names
    (a `make run` already serving, for a quicker look)."""
    base_url = pytestconfig.getoption("--base-url")
    if base_url:
        yield str(base_url).rstrip("/")
        return
    with started_stack(tmp_path_factory.mktemp("site")) as running:
        yield running.url


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's Chromium (Playwright's own browser builds are never downloaded); headless
    unless --headed."""
    return {"headless": True, **browser_type_launch_args, "executable_path": CHROMIUM}


@pytest.fixture(scope="session")
def browser_context_args(site_url: str) -> dict[str, Any]:
    return {"base_url": site_url}


@pytest.fixture
def browse(new_context: Callable[..., BrowserContext]) -> Callable[..., Watch]:
    """A new page in a browser context of its own (`javascript=False`: scripts off), watched
    from its first request."""

    def open_page(*, javascript: bool = True, **options: Any) -> Watch:
        context = new_context(java_script_enabled=javascript, **options)
        return Watch.on(context.new_page())

    return open_page
