"""Bad input never gets a 500: any JSON in any field answers 400/404/409/422 with the error
contract, and nothing is booked by a request that was refused."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appointments.models import AppointmentModel
from tests.helpers import booking_body, call
from tests.unit.test_booking_api import first_free_slot

pytestmark = pytest.mark.usefixtures("open_slots")

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


@fuzz
@given(field=st.sampled_from(FIELDS), value=json_values)
def test_any_value_in_a_booking_field_is_refused_cleanly(field: str, value: Any) -> None:
    body = booking_body(first_free_slot())
    body[field] = value
    body["applicant"] = {"name": 1}  # never a valid booking: only the refusal is under test
    response = call("POST", "/appointments", body=body)
    assert_refused_cleanly(response.status, response.body)


@fuzz
@given(field=st.sampled_from(APPLICANT_FIELDS), value=json_values)
def test_any_value_in_an_applicant_field_books_nothing_or_is_refused(
    field: str, value: Any
) -> None:
    body = booking_body(first_free_slot())
    body["applicant"][field] = value
    body["language"] = ["not", "a", "language"]  # keeps every example a refusal
    response = call("POST", "/appointments", body=body)
    assert_refused_cleanly(response.status, response.body)
    assert AppointmentModel.count() == 0


@fuzz
@given(raw=st.text(max_size=60) | st.binary(max_size=40).map(lambda b: b.decode("latin-1")))
def test_any_raw_body_is_refused_cleanly(raw: str) -> None:
    response = call("POST", "/appointments", raw_body=raw)
    assert_refused_cleanly(response.status, response.body)


@fuzz
@given(confirmation=st.text(min_size=1, max_size=40), pin=st.text(max_size=12))
def test_any_confirmation_and_pin_are_refused_cleanly(confirmation: str, pin: str) -> None:
    path = "/appointments/" + confirmation.replace("/", "_")
    response = call("GET", path, headers={"X-Appointment-Pin": pin})
    assert response.status in {403, 404, 422}, response.body
    assert set(response.body) == {"error", "message"}
