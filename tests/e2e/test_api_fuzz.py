"""The running local stack against its own OpenAPI document, with schemathesis: every phase
(examples, coverage, fuzzing, and the stateful phase that follows the document's links from
offices to slots to a booking and on to its view, notice, reschedule and cancel), every check,
a fixed seed and a budget of seconds."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.tools.openapi import OPENAPI_PATH
from tests.e2e.running import RunningStack, started_stack
from tests.helpers import next_business_day

CONFIG = Path(__file__).with_name("schemathesis.toml")
SCHEMATHESIS = Path(sys.executable).with_name("st")
# The checks that do not apply to this API, and why:
NOT_APPLICABLE = [
    # DELETE /appointments/{confirmationNumber} cancels: the appointment stays viewable by the
    # holder of its PIN, with status "cancelled", until its personal data is purged.
    "use_after_free",
    # API Gateway answers a method that a route does not declare as an unknown route (its
    # MISSING_AUTHENTICATION_TOKEN gateway response, 404 not_found in the template), not 405.
    "unsupported_method",
]
RUN_SECONDS = 120


@pytest.fixture(scope="module")
def api_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    with started_stack(tmp_path_factory.mktemp("fuzz")) as running:
        yield running


def test_the_api_answers_as_its_openapi_document_says(api_stack: RunningStack) -> None:
    # Given the stack, seeded, with Honolulu's next business day released
    environment = {
        **os.environ,
        "APPOINTMENT_DAY": next_business_day("honolulu").isoformat(),
        "NO_COLOR": "1",
    }
    # When schemathesis runs every check against the committed document
    result = subprocess.run(
        [
            str(SCHEMATHESIS),
            "--config-file",
            str(CONFIG),
            "run",
            str(OPENAPI_PATH),
            "--url",
            api_stack.url,
            "--checks",
            "all",
            "--exclude-checks",
            ",".join(NOT_APPLICABLE),
        ],
        env=environment,
        capture_output=True,
        text=True,
        timeout=RUN_SECONDS,
        check=False,
    )
    # Then it finds nothing
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
