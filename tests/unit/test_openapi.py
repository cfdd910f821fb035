"""The committed OpenAPI document: in step with the code, and documenting the API's contract."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from appointments.api import PIN_HEADER
from infra import openapi

OPERATIONS = {
    ("get", "/offices"),
    ("get", "/offices/{officeId}/slots"),
    ("post", "/appointments"),
    ("get", "/appointments/{confirmation}"),
    ("delete", "/appointments/{confirmation}"),
    ("put", "/appointments/{confirmation}/slot"),
    ("post", "/appointments/lookup"),
    ("get", "/appointments/{confirmation}/letter"),
    ("get", "/letters/{token}"),
}
PIN_OPERATIONS = [
    ("get", "/appointments/{confirmation}/letter"),
    ("get", "/appointments/{confirmation}"),
    ("delete", "/appointments/{confirmation}"),
    ("put", "/appointments/{confirmation}/slot"),
]
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@cache
def generated() -> str:
    return openapi.render()


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(openapi.OPENAPI_PATH.read_text(encoding="utf-8"))
    return loaded


def _operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method, path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    }


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    prefix = "#/components/schemas/"
    assert ref.startswith(prefix)
    resolved: dict[str, Any] = document["components"]["schemas"][ref.removeprefix(prefix)]
    return resolved


def test_committed_document_is_what_the_code_generates() -> None:
    committed = openapi.OPENAPI_PATH.read_text(encoding="utf-8")
    assert committed == generated(), "openapi.json is stale: run `python -m infra.openapi`"


def test_check_mode_fails_on_a_stale_document(tmp_path: Path) -> None:
    stale = tmp_path / "openapi.json"
    stale.write_text(generated().replace('"version": "1.0.0"', '"version": "0.0.0"'))
    assert openapi.main(["--check", "--output", str(stale)]) == 1
    assert openapi.main(["--output", str(stale)]) == 0
    assert openapi.main(["--check", "--output", str(stale)]) == 0


def test_documents_every_operation(document: dict[str, Any]) -> None:
    assert set(_operations(document)) == OPERATIONS


@pytest.mark.parametrize(("method", "path"), PIN_OPERATIONS)
def test_pin_is_a_required_header_of_appointment_operations(
    document: dict[str, Any], method: str, path: str
) -> None:
    parameters = _operations(document)[(method, path)].get("parameters", [])
    # Header names are case-insensitive; Powertools writes header aliases in lower case.
    pins = [
        parameter
        for parameter in parameters
        if parameter["in"] == "header" and parameter["name"].lower() == PIN_HEADER.lower()
    ]
    assert len(pins) == 1
    assert pins[0]["required"] is True


def test_pin_is_never_a_query_path_or_cookie_parameter(document: dict[str, Any]) -> None:
    misplaced = [
        (method, path, parameter["in"], parameter["name"])
        for (method, path), operation in _operations(document).items()
        for parameter in operation.get("parameters", [])
        if parameter["in"] != "header" and "pin" in parameter["name"].lower()
    ]
    assert misplaced == []


def test_booking_request_body_uses_camel_case_names(document: dict[str, Any]) -> None:
    operation = _operations(document)[("post", "/appointments")]
    body = _resolve(document, operation["requestBody"]["content"]["application/json"]["schema"])
    applicant = _resolve(document, body["properties"]["applicant"])
    assert {"officeId", "slotId", "applicant"} <= set(body["properties"])
    assert "dateOfBirth" in applicant["properties"]
    snake_case = [name for name in [*body["properties"], *applicant["properties"]] if "_" in name]
    assert snake_case == []
