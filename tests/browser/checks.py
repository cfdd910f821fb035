"""What the browser tests look at in a page: what it loaded and logged, axe-core's verdict,
and whether it scrolls sideways."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import ConsoleMessage, Page, Request, Response

from tests.helpers import REPO_ROOT

CHROMIUM = "/usr/bin/chromium"
AXE_SOURCE = REPO_ROOT / "infra" / "assets" / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.2 level A and AA, as axe-core tags them.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]
SCREENSHOTS = REPO_ROOT / ".cache" / "screenshots"


@dataclass
class Watch:
    """Everything a page sent and logged, from the moment it was watched."""

    page: Page
    requests: list[Request] = field(default_factory=list)
    documents: list[Response] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    @classmethod
    def on(cls, page: Page) -> Watch:
        watch = cls(page)
        page.on("request", watch._request)
        page.on("response", watch._response)
        page.on("console", watch._console)
        page.on("pageerror", lambda error: watch.console_errors.append(f"uncaught: {error}"))
        return watch

    def _request(self, request: Request) -> None:
        self.requests.append(request)

    def _response(self, response: Response) -> None:
        if response.request.is_navigation_request() and response.frame == self.page.main_frame:
            self.documents.append(response)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            location = message.location.get("url", "")
            self.console_errors.append(f"{message.text} ({location})")

    def hosts(self) -> set[str]:
        """Where the page's requests went (scheme and host)."""
        return {f"{urlsplit(r.url).scheme}://{urlsplit(r.url).hostname}" for r in self.requests}

    def transfer(self) -> list[tuple[str, int]]:
        """Each request's bytes as they came over the wire (headers and encoded body)."""
        sizes = []
        for request in self.requests:
            size = request.sizes()
            sizes.append(
                (urlsplit(request.url).path, size["responseHeadersSize"] + size["responseBodySize"])
            )
        return sizes


# Init script: the page's Content-Security-Policy violations, as its own script would see them.
POLICY_VIOLATIONS = """
window.policyViolations = [];
document.addEventListener("securitypolicyviolation", event => {
  window.policyViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


@dataclass(frozen=True)
class Visit:
    """What one visit of a page showed: each document's status and headers (redirects
    included), the console's errors, the policy violations, the hosts asked, <html>'s
    language and direction."""

    url: str
    documents: list[tuple[str, int, dict[str, str]]]
    console_errors: list[str]
    policy_violations: list[str]
    hosts: set[str]
    lang: str | None
    dir: str | None


def visit(page: Page, reach: Callable[[Page], None]) -> Visit:
    page.add_init_script(POLICY_VIOLATIONS)
    watch = Watch.on(page)
    reach(page)
    html = page.locator("html")
    return Visit(
        url=page.url,
        documents=[(d.url, d.status, d.all_headers()) for d in watch.documents],
        console_errors=list(watch.console_errors),
        policy_violations=page.evaluate("window.policyViolations"),
        hosts=watch.hosts(),
        lang=html.get_attribute("lang"),
        dir=html.get_attribute("dir"),
    )


@cache
def axe_source() -> str:
    if not AXE_SOURCE.exists():
        raise AssertionError(f"{AXE_SOURCE} is missing: `make assets` installs axe-core")
    return AXE_SOURCE.read_text(encoding="utf-8")


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.2 AA violations in the page as it is now. The script is evaluated
    through the DevTools protocol, which the page's Content-Security-Policy does not govern."""
    page.evaluate(axe_source())
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS
    )
    violations: list[dict[str, Any]] = result["violations"]
    return violations


def described(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        targets = ", ".join(" ".join(node["target"]) for node in violation["nodes"])
        lines.append(
            f"{violation['id']} ({violation['impact']}): {violation['help']}\n    at {targets}"
        )
    return "\n".join(lines)


def assert_accessible(page: Page) -> None:
    violations = axe_violations(page)
    assert not violations, f"{len(violations)} axe violation(s):\n{described(violations)}"


def sideways_overflow(page: Page) -> dict[str, Any]:
    """How wide the document is next to the window, and the elements reaching past it."""
    return page.evaluate(
        """() => {
            const width = window.innerWidth;
            const wider = [...document.body.querySelectorAll('*')]
                .filter(e => {
                    const box = e.getBoundingClientRect();
                    return box.width > 0 && (box.right > width + 1 || box.left < -1);
                })
                .slice(0, 10)
                .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''));
            return {scrollWidth: document.documentElement.scrollWidth, innerWidth: width, wider};
        }"""
    )


def assert_no_sideways_scrolling(page: Page) -> None:
    overflow = sideways_overflow(page)
    assert overflow["scrollWidth"] <= overflow["innerWidth"], (
        f"the page is {overflow['scrollWidth']} px wide in a {overflow['innerWidth']} px window; "
        f"reaching past it: {overflow['wider']}"
    )


def assert_usable(page: Page, selector: str) -> None:
    """The element is shown, fits the window's width, and nothing covers its middle."""
    element = page.locator(selector)
    element.scroll_into_view_if_needed()
    box = element.bounding_box()
    assert box is not None, f"{selector} is not shown"
    width = page.evaluate("window.innerWidth")
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"{selector} is cut off: {box}"
    on_top = element.evaluate(
        """e => {
            const box = e.getBoundingClientRect();
            const top = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
            return e.contains(top);
        }"""
    )
    assert on_top, f"something covers {selector}"
