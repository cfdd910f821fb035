"""`make bench` (notices part): notices per second, HTML and PDF separately, all 12 languages."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime

from appointments.notices import LANGUAGES, NoticeInput, render_html, render_pdf
from tests.helpers import sample_offices

ROUNDS = 3  # notices per language and kind, after one warm-up each


def main() -> None:
    office = sample_offices()["new-york"]
    rows = []
    for language in LANGUAGES:
        data = NoticeInput(
            confirmation_number="7K2M9QX4TR8",
            status="booked",
            name="María José García-López",
            service="adit-stamp",
            case_number=None,
            start_utc=datetime(2026, 11, 27, 14, 30, tzinfo=UTC),
            language=language,
        )
        html = render_html(data, office)
        render_pdf(html)  # warm-up: fonts loaded once per process, as in a warm Lambda
        html_times, pdf_times = [], []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            html = render_html(data, office)
            html_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            pdf = render_pdf(html)
            pdf_times.append(time.perf_counter() - started)
        rows.append(
            (language, statistics.median(html_times), statistics.median(pdf_times), len(pdf))
        )
    print(f"Notices, median of {ROUNDS} per language after a warm-up (one process, one core)")
    print()
    print("| language | HTML per second | PDF per second | PDF size, KB |")
    print("|---|---:|---:|---:|")
    for language, html_seconds, pdf_seconds, size in rows:
        print(
            f"| {language} | {1 / html_seconds:.0f} | {1 / pdf_seconds:.1f} | {size / 1024:.0f} |"
        )
    html_all = len(rows) / sum(row[1] for row in rows)
    pdf_all = len(rows) / sum(row[2] for row in rows)
    print(f"| all 12, mixed | {html_all:.0f} | {pdf_all:.1f} | |")


if __name__ == "__main__":
    main()
