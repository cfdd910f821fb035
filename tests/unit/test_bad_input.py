"""Bad input never gets a 500: any JSON in any field answers 400/404/409/422 with the error
contract, any body that is not JSON answers 400 on every route that reads one, and nothing is
booked by a request that was refused."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appointments.models import AppointmentModel
from infra.tools import openapi
from tests.helpers import (
    ApiResponse,
    LambdaContext,
    _function_for,
    api_event,
    booking_body,
    call,
    first_free_slot,
    load_function,
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=8,
)
FIELDS = ["officeId", "service", "slotId", "applicant", "language", "caseNumber", "extra"]
APPLICANT_FIELDS = ["name", "dateOfBirth", "phone", "email"]
REFUSALS = {400, 404, 409, 422}
fuzz = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def assert_refused_cleanly(status: int, body: Any) -> None:
    assert status in REFUSALS, body
    assert set(body) == {"error", "message"}
    assert "Traceback" not in body["message"]


@pytest.mark.usefixtures("open_slots")
@fuzz
@given(field=st.sampled_from(FIELDS), value=json_values)
def test_any_value_in_a_booking_field_books_or_is_refused_cleanly(field: str, value: Any) -> None:
    # Given a valid booking with any JSON value in one of its fields
    body = booking_body(first_free_slot())
    body[field] = value
    # When it is sent
    response = call("POST", "/appointments", body=body)
    # Then it is booked (the value was acceptable), or refused with the error contract
    if response.status != 201:
        assert_refused_cleanly(response.status, response.body)


@pytest.mark.usefixtures("open_slots")
@fuzz
@given(field=st.sampled_from(APPLICANT_FIELDS), value=json_values)
def test_any_value_in_an_applicant_field_books_nothing_or_is_refused(
    field: str, value: Any
) -> None:
    # Given a valid booking with any JSON value in one of the applicant's fields
    body = booking_body(first_free_slot())
    body["applicant"][field] = value
    booked_before = AppointmentModel.count()
    # When it is sent
    response = call("POST", "/appointments", body=body)
    # Then it is booked, or refused with the error contract and nothing is booked
    if response.status != 201:
        assert_refused_cleanly(response.status, response.body)
        assert AppointmentModel.count() == booked_before


@pytest.mark.usefixtures("open_slots")
@fuzz
@given(raw=st.text(max_size=60) | st.binary(max_size=40).map(lambda b: b.decode("latin-1")))
def test_any_raw_body_is_refused_cleanly(raw: str) -> None:
    response = call("POST", "/appointments", raw_body=raw)
    assert_refused_cleanly(response.status, response.body)


@pytest.mark.usefixtures("open_slots")
@fuzz
@given(confirmation_number=st.text(min_size=1, max_size=40), pin=st.text(max_size=12))
def test_any_confirmation_and_pin_are_refused_cleanly(confirmation_number: str, pin: str) -> None:
    path = "/appointments/" + confirmation_number.replace("/", "_")
    response = call("GET", path, headers={"X-Appointment-Pin": pin})
    assert response.status in {403, 404, 422}, response.body
    assert set(response.body) == {"error", "message"}


def _routes_with_a_body() -> list[tuple[str, str]]:
    """Every operation of the OpenAPI document that reads a request body, its path filled in."""
    document = json.loads(openapi.OPENAPI_PATH.read_text(encoding="utf-8"))
    return [
        (method.upper(), re.sub(r"\{[^}]+\}", "7K2M9QX4TR8", path))
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if "requestBody" in operation
    ]


BODY_ROUTES = _routes_with_a_body()
JSON = "application/json"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# The event's body as API Gateway hands it over, whether it is base64, and the content type.
NOT_JSON_TEXT: dict[str, tuple[str, bool, str | None]] = {
    "base64 bytes that are not UTF-8": (b64(b'{"slotId": "\xff\xfe"}'), True, JSON),
    "base64 Latin-1 text": (b64('{"name": "Jos\u00e9"}'.encode("latin-1")), True, JSON),
    "broken base64": ("abc", True, JSON),
    "nesting deeper than the parser goes": ("[" * 100_000, False, JSON),
    "integer past the digit limit": ('{"slotId": 1' + "0" * 5000 + "}", False, JSON),
    "no content type, not JSON": ("slotId=x", False, None),
    "a content type other than JSON": ('{"slotId": "x"}', False, "text/plain"),
    "a form": ("name=Maria+Garcia&dateOfBirth=1985-04-12&phone=8085550143", False,
               "application/x-www-form-urlencoded"),
    "multipart without a boundary": ('{"slotId": "x"}', False, "multipart/form-data"),
    "multipart with a boundary": (b64(b'--b\r\nContent-Disposition: form-data; name="slotId"'
                                      b"\r\n\r\nx\r\n--b--\r\n"), True,
                                  "multipart/form-data; boundary=b"),
}  # fmt: skip


def send_body(
    method: str, path: str, body: str, *, base64_encoded: bool, content_type: str | None
) -> ApiResponse:
    """Send a request whose body is `body`, with a well-formed PIN, through its function."""
    event = api_event(method, path, raw_body=body, headers={"X-Appointment-Pin": "402913"})
    for headers in (event["headers"], event["multiValueHeaders"]):
        del headers["Content-Type"]
        if content_type is not None:
            headers["Content-Type"] = (
                content_type if headers is event["headers"] else [content_type]
            )
    event["isBase64Encoded"] = base64_encoded
    module = load_function(_function_for(method, path))
    result = module.lambda_handler(event, LambdaContext())
    return ApiResponse(result["statusCode"], {}, json.loads(result["body"]))


def test_every_route_that_reads_a_body_is_checked() -> None:
    assert {path for _, path in BODY_ROUTES} == {
        "/appointments",
        "/appointments/lookup",
        "/appointments/7K2M9QX4TR8/slot",
    }


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("case", list(NOT_JSON_TEXT))
def test_a_body_that_is_not_json_text_gets_400_on_every_route(case: str) -> None:
    # Given a body that cannot be read as JSON text
    body, base64_encoded, content_type = NOT_JSON_TEXT[case]
    # When it is sent to each route that reads a body
    answers = {
        (method, path): send_body(
            method, path, body, base64_encoded=base64_encoded, content_type=content_type
        )
        for method, path in BODY_ROUTES
    }
    # Then every one answers with the 400 of the error contract
    refused = {
        route: (response.status, response.body["error"], set(response.body))
        for route, response in answers.items()
    }
    assert refused == dict.fromkeys(answers, (400, "bad_request", {"error", "message"}))


@pytest.mark.usefixtures("aws")
@fuzz
@given(route=st.sampled_from(BODY_ROUTES), body=st.binary(max_size=64))
def test_any_base64_encoded_body_is_refused_cleanly(route: tuple[str, str], body: bytes) -> None:
    method, path = route
    response = send_body(method, path, b64(body), base64_encoded=True, content_type=JSON)
    assert response.status in {400, 422}, response.body
    assert set(response.body) == {"error", "message"}


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("written", [0, "0", "1654646400", "1985-04-12T00:00:00", 19850412])
def test_a_date_not_written_yyyy_mm_dd_is_refused_with_422(written: object) -> None:
    # Given a date written as a number, a Unix time or with a time of day
    lookup = {"name": "Maria Garcia", "dateOfBirth": written, "phone": "808-555-0143"}
    # When it is sent as a date of birth, and as the day of a slots listing
    answers = [
        call("POST", "/appointments/lookup", body=lookup),
        call("GET", "/offices/honolulu/slots", query={"date": str(written), "service": "other"}),
    ]
    # Then both are refused, naming the field
    assert [(a.status, a.body["error"]) for a in answers] == [(422, "invalid_request")] * 2
    assert "dateOfBirth" in answers[0].body["message"]
