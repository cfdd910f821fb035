"""Recovering a lost notice: a match requests the notice; the answer never tells."""

from __future__ import annotations

from typing import Any

import pytest

from appointments.models import ApplicantModel, AppointmentModel
from tests.helpers import applicant, book, call, on_dynamodb_calls

pytestmark = pytest.mark.usefixtures("open_slots")


def lookup(**overrides: Any):
    details = applicant()
    body = {
        "name": details["name"],
        "dateOfBirth": details["dateOfBirth"],
        "phone": "(202) 555-0143",
    }
    body.update(overrides)
    return call("POST", "/appointments/lookup", body=body)


def notice_requested(confirmation_number: str) -> bool:
    return AppointmentModel.get(confirmation_number).notice_requested_at is not None


def test_matching_lookup_requests_the_notice() -> None:
    booked = book()
    response = lookup(name="GARCIA, María")
    assert response.status == 202
    assert notice_requested(booked["confirmationNumber"])


def test_lookup_answers_the_same_whether_or_not_it_matches() -> None:
    # Given an appointment
    booked = book()
    # When strangers try other phones, other birth dates and nobody at all
    answers = [
        lookup(phone="+12025550100"),
        lookup(dateOfBirth="1985-04-13"),
        lookup(name="Nobody Here"),
        lookup(phone="garbage"),
    ]
    match = lookup()
    # Then every answer is identical, and only the true match requested the notice
    assert {(a.status, a.body["message"]) for a in [*answers, match]} == {
        (202, match.body["message"])
    }
    assert notice_requested(booked["confirmationNumber"])


def test_a_matching_lookup_asks_for_a_pin_reset_link_in_the_same_update() -> None:
    booked = book()
    lookup()
    appointment = AppointmentModel.get(booked["confirmationNumber"])
    assert appointment.pin_reset_requested_at is not None
    assert appointment.pin_reset_requested_at == appointment.notice_requested_at


def test_wrong_phone_requests_nothing() -> None:
    booked = book()
    lookup(phone="+12025550100")
    assert not notice_requested(booked["confirmationNumber"])
    assert AppointmentModel.get(booked["confirmationNumber"]).pin_reset_requested_at is None


def test_lookups_are_limited_per_hour() -> None:
    booked = book()
    for _ in range(3):
        lookup()
    AppointmentModel(booked["confirmationNumber"]).update(
        actions=[AppointmentModel.notice_requested_at.remove()]
    )
    response = lookup()
    assert response.status == 202
    assert not notice_requested(booked["confirmationNumber"])


def test_lookup_with_missing_fields_is_422() -> None:
    response = call("POST", "/appointments/lookup", body={"name": "Maria Garcia"})
    assert response.status == 422
    assert response.body["error"] == "invalid_request"


def requests_sent(**overrides: Any) -> list[tuple[str, str]]:
    """The DynamoDB requests (operation, table) a lookup sends."""
    sent: list[tuple[str, str]] = []

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        sent.append((model.name, params.get("TableName", "")))

    with on_dynamodb_calls("before-parameter-build", record):
        assert lookup(**overrides).status == 202
    return sent


def test_a_match_and_a_miss_send_the_same_requests_to_the_same_tables() -> None:
    # Given an appointment
    book()
    # When it is looked up, and so are details that match nothing
    match = requests_sent()
    misses = [
        requests_sent(phone="+12025550100"),
        requests_sent(dateOfBirth="1985-04-13"),
        requests_sent(name="Nobody Here"),
    ]
    # Then every lookup sent the same requests, so throttling strikes them alike
    assert [table for _, table in match] == [
        "test-ApplicantsTable",
        "test-ApplicantsTable",
        "test-AppointmentsTable",
    ]
    assert all(miss == match for miss in misses)


def test_a_lookup_that_matches_nothing_writes_nothing() -> None:
    booked = book()
    before = {item.applicant_key: item.lookup_count for item in ApplicantModel.scan()}
    lookup(phone="+12025550100")
    lookup(name="Nobody Here")
    assert {item.applicant_key: item.lookup_count for item in ApplicantModel.scan()} == before
    assert [a.confirmation_number for a in AppointmentModel.scan()] == [
        booked["confirmationNumber"]
    ]
    assert not notice_requested(booked["confirmationNumber"])
