"""`make bench`: what a site page costs next to the JSON API handler doing the same domain work.

Both run in this process against DynamoDB Local, alternately, in one run: the ratio of a page
to its API twin is the figure to compare (goal: at most 1.3). Also the first visit's weight:
the start page and everything it loads, compressed as the local distribution sends it.
"""

from __future__ import annotations

import contextlib
import io
import re
import tempfile
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import httpx

from appointments.slots import open_day
from tests.bench.api_bench import ROUNDS, seeded_dynamodb_local, summary, timed
from tests.e2e.running import started_stack
from tests.helpers import (
    SiteVisitor,
    call,
    next_weekday,
)

PAIRS = "| page | page median | API median | API route | ratio |"


def alternating(
    page: Callable[[], object], api: Callable[[], object]
) -> tuple[list[float], list[float]]:
    """Both timed call after call, so a slower moment of the machine falls on both."""
    page_times: list[float] = []
    api_times: list[float] = []
    for _ in range(ROUNDS):
        page_times += timed(page, 1)
        api_times += timed(api, 1)
    return page_times, api_times


def measure(day: date) -> list[tuple[str, str, list[float], list[float]]]:
    visitor = SiteVisitor()
    office, service = "new-york", "adit-stamp"
    month = day.isoformat()[:7]
    month_end = (day.replace(day=1) + timedelta(days=32)).replace(day=1) - timedelta(days=1)

    def days_page() -> None:
        page = visitor.get("/en/book/days", {"office": office, "service": service, "month": month})
        assert page.status == 200, page.status

    def days_api() -> None:
        # the month the calendar shows (the route's default is two months: two Queries)
        query = {"service": service, "to": month_end.isoformat()}
        answer = call("GET", f"/offices/{office}/days", query=query)
        assert answer.status == 200, answer.body

    def times_page() -> None:
        query = {"office": office, "service": service, "date": day.isoformat()}
        assert visitor.get("/en/book/times", query).status == 200

    def times_api() -> None:
        query = {"date": day.isoformat(), "service": service}
        assert call("GET", f"/offices/{office}/slots", query=query).status == 200

    days_page()
    days_api()
    times_page()
    times_api()
    return [
        ("/en/book/days (calendar)", "GET /offices/{id}/days", *alternating(days_page, days_api)),
        ("/en/book/times", "GET /offices/{id}/slots", *alternating(times_page, times_api)),
    ]


_PAGE_FILES = re.compile(r'(?:href|src)="(/assets/[^"]+)"')
_CSS_IMAGES = re.compile(r'url\("?(img/[^")]+)"?\)')


def first_visit_bytes(base_url: str) -> dict[str, int]:
    """Bytes on the wire (gzip where the distribution compresses) of the start page, every
    file it names, and every image its style sheet names (more than a browser loads: an upper
    bound)."""
    sizes: dict[str, int] = {}
    with httpx.Client(base_url=base_url, headers={"Accept-Encoding": "gzip"}) as client:

        def fetch(path: str) -> str:
            with client.stream("GET", path) as answer:
                sizes[path] = len(b"".join(answer.iter_raw()))
            return client.get(path).text

        page = fetch("/en")
        for path in _PAGE_FILES.findall(page):
            text = fetch(path)
            if path.endswith(".css"):
                for image in sorted(set(_CSS_IMAGES.findall(text))):
                    fetch(f"/assets/{image}")
    return sizes


def main() -> None:
    with seeded_dynamodb_local() as (_, offices):
        day = next_weekday()
        open_day(offices["new-york"], day)
        with contextlib.redirect_stdout(io.StringIO()):
            rows = measure(day)
    print(f"Site pages next to their JSON API twins (DynamoDB Local, {ROUNDS} calls each, ms)")
    print()
    print(PAIRS)
    print("|---|---:|---:|---|---:|")
    for page, route, page_times, api_times in rows:
        page_median, api_median = summary(page_times)[0], summary(api_times)[0]
        print(
            f"| {page} | {page_median:.2f} | {api_median:.2f} | {route} "
            f"| {page_median / api_median:.2f} |"
        )
    with tempfile.TemporaryDirectory() as data, started_stack(Path(data)) as stack:
        sizes = first_visit_bytes(stack.url)
    print()
    images = {path: size for path, size in sizes.items() if "/img/" in path}
    print("| the start page's first visit | bytes on the wire |")
    print("|---|---:|")
    for path, size in sizes.items():
        if path not in images:
            print(f"| {path} | {size:,} |")
    print(
        f"| {len(images)} images (every one the page or its style sheet names) | "
        f"{sum(images.values()):,} |"
    )
    print(f"| **total** (goal: at most 150 KB) | **{sum(sizes.values()):,}** |")


if __name__ == "__main__":
    main()
