"""What the browser tests look at in a page: what it loaded and logged, axe-core's verdict,
and whether it scrolls sideways."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import ConsoleMessage, Page, Request, Response, ViewportSize

from tests.helpers import REPO_ROOT

# Debian's headless shell of Chromium (the same Blink, without the desktop browser around it:
# the browser tests take half the CPU); a window (--headed) needs Debian's full `chromium`.
CHROMIUM_HEADLESS = "/usr/bin/chromium-headless-shell"
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
class Drawing:
    """How a page was drawn in a desktop window: its status, whether each style sheet was
    applied, the images that did not load (and the page photographed whole, for a person to
    look at)."""

    status: int
    styled: list[bool]
    broken_images: list[str]


def drawing(page: Page, watch: Watch, photograph: Path) -> Drawing:
    photograph.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=photograph, full_page=True)
    return Drawing(
        status=watch.documents[-1].status,
        styled=page.evaluate(
            "[...document.querySelectorAll('link[rel=stylesheet]')]"
            ".map(link => link.sheet !== null && link.sheet.cssRules.length > 0)"
        ),
        broken_images=page.evaluate(
            "[...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)"
        ),
    )


@dataclass(frozen=True)
class Visit:
    """What one visit of a page showed, looked at in turn on the same page: each document's
    status and headers (redirects included), the console's errors, the policy violations, the
    hosts asked, <html>'s language and direction; how it was drawn; axe-core's violations
    (and its time); the page with text at 200% in a desktop window; the page in a window 320
    CSS pixels wide."""

    url: str
    documents: list[tuple[str, int, dict[str, str]]]
    console_errors: list[str]
    policy_violations: list[str]
    hosts: set[str]
    lang: str | None
    dir: str | None
    drawing: Drawing
    violations: list[dict[str, Any]]
    axe_seconds: float
    heading_growth: float
    zoomed_problems: list[str]
    narrow_problems: list[str]


# Chromium's default font sizes; the text zoom multiplies them.
STANDARD_FONT_PX = 16
FIXED_FONT_PX = 13
DESKTOP = ViewportSize(width=1280, height=800)
NARROW = ViewportSize(width=320, height=640)


def visit(
    page: Page, reach: Callable[[Page], None], primary: str | None, photograph: Path
) -> Visit:
    page.set_viewport_size(DESKTOP)
    page.add_init_script(POLICY_VIOLATIONS)
    watch = Watch.on(page)
    reach(page)
    html = page.locator("html")
    drawn = drawing(page, watch, photograph)
    started = time.monotonic()
    violations = axe_violations(page)
    axe_seconds = time.monotonic() - started
    normal = heading_size(page)
    zoom_text(page, 2)
    heading_growth = heading_size(page) / normal
    zoomed_problems = sideways_scrolling(page) + usability_problems(page, "h1")
    if primary is not None:
        zoomed_problems += usability_problems(page, primary)
    zoom_text(page, 1)
    page.set_viewport_size(NARROW)
    return Visit(
        url=page.url,
        documents=[(d.url, d.status, d.all_headers()) for d in watch.documents],
        console_errors=list(watch.console_errors),
        policy_violations=page.evaluate("window.policyViolations"),
        hosts=watch.hosts(),
        lang=html.get_attribute("lang"),
        dir=html.get_attribute("dir"),
        drawing=drawn,
        violations=violations,
        axe_seconds=axe_seconds,
        heading_growth=heading_growth,
        zoomed_problems=zoomed_problems,
        narrow_problems=sideways_scrolling(page),
    )


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


@cache
def axe_source() -> str:
    if not AXE_SOURCE.exists():
        raise AssertionError(f"{AXE_SOURCE} is missing: `make assets` installs axe-core")
    return AXE_SOURCE.read_text(encoding="utf-8")


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.2 AA violations in the page as it is now (only those: collecting the
    rules passed takes axe longer). The script is evaluated through the DevTools protocol,
    which the page's Content-Security-Policy does not govern."""
    page.evaluate(axe_source())
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags},"
        " resultTypes: ['violations']})",
        WCAG_TAGS,
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


def sideways_scrolling(page: Page) -> list[str]:
    overflow = sideways_overflow(page)
    if overflow["scrollWidth"] <= overflow["innerWidth"]:
        return []
    return [
        f"the page is {overflow['scrollWidth']} px wide in a {overflow['innerWidth']} px "
        f"window; reaching past it: {overflow['wider']}"
    ]


def usability_problems(page: Page, selector: str) -> list[str]:
    """The element is shown, fits the window's width, and nothing covers its middle."""
    element = page.locator(selector)
    element.scroll_into_view_if_needed()
    box = element.bounding_box()
    if box is None:
        return [f"{selector} is not shown"]
    width = page.evaluate("window.innerWidth")
    if box["x"] < 0 or box["x"] + box["width"] > width:
        return [f"{selector} is cut off: {box}"]
    on_top = element.evaluate(
        """e => {
            const box = e.getBoundingClientRect();
            const top = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
            return e.contains(top);
        }"""
    )
    return [] if on_top else [f"something covers {selector}"]
