"""What an API function loads when Lambda starts it: neither the notice renderer's PDF packages
(which only the renderer's layer holds) nor phone geocoding data. `make bench` times these
imports (tests/bench/cold_start_bench.py); this only checks what they hold."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from infra.local.template import FunctionSpec, function_specs, load_template
from tests.helpers import REPO_ROOT

# The PDF layer's packages that only WeasyPrint uses (brotli is not among them: urllib3 uses it
# where it is installed, and does without it in the domain layer).
PDF_RENDERER_PACKAGES = frozenset(
    {"weasyprint", "PIL", "fontTools", "pyphen", "pydyf", "tinycss2", "cssselect2", "tinyhtml5"}
)
API_FUNCTIONS = [
    spec
    for spec in function_specs(load_template(), REPO_ROOT)
    if any(event.get("Type") == "Api" for event in spec.events.values())
]


def modules_loaded_by_importing(spec: FunctionSpec) -> set[str]:
    """sys.modules of a fresh interpreter after importing the function's module, with its
    code and Python layers on the path as Lambda puts them."""
    path = [str(spec.code_dir), *(str(layer) for layer in spec.layer_dirs)]
    code = (
        f"import json, sys; sys.path[:0] = {path!r}; import app; "
        "print(json.dumps(sorted(sys.modules)))"
    )
    environment = {name: v for name, v in os.environ.items() if name != "PYTHONPATH"}
    if "SITE_TEMPLATES_DIR" in spec.environment:
        environment["SITE_TEMPLATES_DIR"] = str(REPO_ROOT / "templates")
    finished = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(finished.stdout.splitlines()[-1]))


@pytest.mark.parametrize("spec", API_FUNCTIONS, ids=lambda spec: spec.code_dir.name)
def test_an_api_function_starts_without_the_pdf_renderer_or_phone_geocoding(
    spec: FunctionSpec,
) -> None:
    # Given an API function of the template
    # When Lambda would import its module in a fresh interpreter
    loaded = modules_loaded_by_importing(spec)
    # Then no package of the PDF layer, and no phone geocoder, is among what it loaded
    top_level = {name.partition(".")[0] for name in loaded}
    assert top_level & PDF_RENDERER_PACKAGES == set()
    assert "phonenumbers.geocoder" not in loaded
    assert "app" in loaded


def test_the_api_functions_are_found_in_the_template() -> None:
    # Given the template's functions
    # When those behind API routes are picked
    names = {spec.code_dir.name for spec in API_FUNCTIONS}
    # Then the site's and the JSON API's are there, and the stream and schedule ones are not
    assert {"site_pages", "book_appointment", "get_notice"} <= names
    assert names.isdisjoint({"render_notices", "release_slots", "record_mail_feedback"})
