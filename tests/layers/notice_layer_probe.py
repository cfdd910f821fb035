"""Run inside a root holding nothing but glibc, the Python runtime and the notice-rendering
layer at /opt (see test_notice_layer.py): renders the notice in every language to HTML and PDF,
as the renderer does on Lambda, and reports which shared libraries the process loaded."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from appointments.notices import LANGUAGES, render_html, render_pdf, templates_dir
from tests.helpers import sample_notice, sample_offices


def main(out: Path) -> None:
    office = sample_offices()["honolulu"]
    seconds = {}
    for language in LANGUAGES:
        started = time.perf_counter()
        html = render_html(sample_notice(language), office)
        (out / f"{language}.pdf").write_bytes(render_pdf(html))
        (out / f"{language}.html").write_text(html)
        seconds[language] = time.perf_counter() - started
    mapped = (line.split()[-1] for line in Path("/proc/self/maps").read_text().splitlines())
    report = {
        "seconds": seconds,
        "loaded": sorted({path for path in mapped if ".so" in path}),
        "templates": str(templates_dir()),
    }
    (out / "report.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
