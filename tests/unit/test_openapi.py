"""The committed OpenAPI document: in step with the code, and documenting the API's contract."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from appointments.api import PIN_HEADER
from infra.tools import openapi

OPERATIONS = {
    ("get", "/offices"),
    ("get", "/offices/{officeId}/slots"),
    ("get", "/offices/{officeId}/days"),
    ("post", "/appointments"),
    ("get", "/appointments/{confirmationNumber}"),
    ("delete", "/appointments/{confirmationNumber}"),
    ("put", "/appointments/{confirmationNumber}/slot"),
    ("post", "/appointments/lookup"),
    ("get", "/appointments/{confirmationNumber}/notice"),
    ("get", "/notices/{token}"),
    ("get", "/challenge"),
}
PIN_OPERATIONS = [
    ("get", "/appointments/{confirmationNumber}/notice"),
    ("get", "/appointments/{confirmationNumber}"),
    ("delete", "/appointments/{confirmationNumber}"),
    ("put", "/appointments/{confirmationNumber}/slot"),
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
    assert committed == generated(), "openapi.json is stale: run `python -m infra.tools.openapi`"


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


def _links(document: dict[str, Any], method: str, path: str, status: str) -> dict[str, Any]:
    links: dict[str, Any] = _operations(document)[(method, path)]["responses"][status]["links"]
    return links


def test_a_booking_links_to_every_appointment_operation(document: dict[str, Any]) -> None:
    links = _links(document, "post", "/appointments", "201")
    assert {link["operationId"] for link in links.values()} == {
        "getAppointment",
        "getNotice",
        "rescheduleAppointment",
        "cancelAppointment",
    }
    for link in links.values():
        assert link["parameters"] == {
            "path.confirmationNumber": "$response.body#/confirmationNumber",
            f"header.{PIN_HEADER.lower()}": "$response.body#/pin",
        }


def test_offices_link_to_their_slots_and_slots_to_booking(document: dict[str, Any]) -> None:
    to_slots = _links(document, "get", "/offices", "200")["listSlots"]
    to_booking = _links(document, "get", "/offices/{officeId}/slots", "200")["bookAppointment"]
    assert to_slots["parameters"]["path.officeId"] == "$response.body#/offices/0/officeId"
    assert to_booking["requestBody"]["slotId"] == "$response.body#/slots/0/slotId"


def test_link_parameters_name_parameters_of_their_target(document: dict[str, Any]) -> None:
    by_id = {operation["operationId"]: operation for operation in _operations(document).values()}
    for operation in _operations(document).values():
        for response in operation["responses"].values():
            for link in response.get("links", {}).values():
                target = by_id[link["operationId"]]
                declared = {(p["in"], p["name"]) for p in target.get("parameters", [])}
                named = {tuple(name.split(".", 1)) for name in link.get("parameters", {})}
                assert named <= declared, link


@pytest.mark.parametrize("path", ["/appointments/{confirmationNumber}/notice", "/notices/{token}"])
def test_redirects_are_documented_without_a_body(document: dict[str, Any], path: str) -> None:
    redirect = _operations(document)[("get", path)]["responses"]["302"]
    assert redirect.get("content") == {}
    assert "Location" in redirect["headers"]
