"""Faults lose nothing: conflicts are retried, throttling and contention answer 429/503, and
no log line carries personal data."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders

from appointments.models import AppointmentModel
from tests.helpers import (
    ApiResponse,
    book,
    booking_body,
    call,
    free_slots,
    on_dynamodb_calls,
    solved_challenge,
)

pytestmark = pytest.mark.usefixtures("open_slots")


def _error(error_type: str, extra: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
    """What botocore would make of DynamoDB answering 400 with `error_type`."""
    parsed = {
        "Error": {"Code": error_type, "Message": extra.get("message", "")},
        "ResponseMetadata": {"HTTPStatusCode": 400},
        **extra,
    }
    return AWSResponse("https://dynamodb", 400, HTTPHeaders(), None), parsed


@contextmanager
def transact_write_fails(times: int, error_type: str, extra: dict[str, Any]) -> Iterator[list[int]]:
    """Answer the next `times` TransactWriteItems requests with an error, as DynamoDB would."""
    sent = [0]

    def maybe_fail(**_: Any) -> Any:
        sent[0] += 1
        return _error(error_type, extra) if sent[0] <= times else None

    with on_dynamodb_calls("before-call", maybe_fail, "TransactWriteItems"):
        yield sent


CONFLICT = {
    "message": "Transaction cancelled",
    "CancellationReasons": [
        {"Code": "None"},
        {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"},
        {"Code": "None"},
    ],
}


def seats(slot_id: str) -> int:
    return {s["slotId"]: s["available"] for s in free_slots()}.get(slot_id, 0)


def test_transaction_conflicts_are_retried_and_book_once() -> None:
    # Given a slot, and DynamoDB reporting two conflicts in a row
    slot = free_slots()[0]
    with transact_write_fails(2, "TransactionCanceledException", CONFLICT) as sent:
        # When a booking is made
        response = call("POST", "/appointments", body=booking_body(slot["slotId"]))
    # Then it succeeds on the third attempt and takes one seat
    assert response.status == 201, response.body
    assert sent[0] == 3
    assert seats(slot["slotId"]) == slot["available"] - 1


def test_persistent_conflicts_answer_503_with_retry_after_and_take_no_seat() -> None:
    slot = free_slots()[0]
    with transact_write_fails(100, "TransactionCanceledException", CONFLICT) as sent:
        response = call("POST", "/appointments", body=booking_body(slot["slotId"]))
    assert response.status == 503
    assert response.body["error"] == "busy"
    assert int(response.headers["retry-after"]) >= 1
    assert 1 < sent[0] <= 10  # bounded
    assert seats(slot["slotId"]) == slot["available"]


def test_throttling_answers_429_with_retry_after() -> None:
    slot = free_slots()[0]
    throttled = {"message": "Rate of requests exceeds the allowed throughput."}
    with transact_write_fails(100, "ProvisionedThroughputExceededException", throttled):
        response = call("POST", "/appointments", body=booking_body(slot["slotId"]))
    assert response.status == 429
    assert response.body["error"] == "throttled"
    assert "retry-after" in response.headers
    assert seats(slot["slotId"]) == slot["available"]


def test_logs_carry_no_personal_data(log_output: io.StringIO) -> None:
    # Given a full day of use: booking, a bad request, wrong PINs, a lookup, a cancellation
    booked = book()
    path = f"/appointments/{booked['confirmationNumber']}"
    call("POST", "/appointments", body=booking_body(free_slots()[0]["slotId"]))  # 409
    call("POST", "/appointments", body={**booking_body("x"), "applicant": {"name": "Maria"}})
    call("GET", path, headers={"X-Appointment-Pin": "999999"})
    call("DELETE", path, headers={"X-Appointment-Pin": booked["pin"]})
    # Then nothing personal was written to the logs
    logs = log_output.getvalue()
    assert logs  # the functions did log
    for secret in ("Maria", "Garcia", "1985-04-12", "2025550143", "maria@example.com"):
        assert secret not in logs
    assert booked["pin"] not in logs


@contextmanager
def dynamodb_fails(operation: str, error_type: str, failing: set[int]) -> Iterator[list[int]]:
    """Answer the `failing` (1-based) `operation` requests with `error_type`, as DynamoDB would
    once the SDK's own retries are used up; every other request goes through."""
    sent = [0]

    def maybe_fail(**_: Any) -> Any:
        sent[0] += 1
        if sent[0] in failing:
            return _error(error_type, {"message": "Rate of requests exceeds the allowed rate."})
        return None

    with on_dynamodb_calls("before-call", maybe_fail, operation):
        yield sent


PROVISIONED, ON_DEMAND = "ProvisionedThroughputExceededException", "ThrottlingException"


def pin_request(
    route: str, booked: dict[str, Any], pin: str, slot_id: str, challenge: str | None = None
) -> ApiResponse:
    """`route` with `pin`; a move spends `challenge` (solved before the faults, whose request
    counts would include its own otherwise) or a new one."""
    path = f"/appointments/{booked['confirmationNumber']}"
    headers = {"X-Appointment-Pin": pin}
    if route == "view":
        return call("GET", path, headers=headers)
    if route == "reschedule":
        body = {"slotId": slot_id} | ({"challenge": challenge} if challenge else {})
        return call("PUT", f"{path}/slot", body=body, headers=headers)
    return call("DELETE", path, headers=headers)


def assert_throttled(response: ApiResponse) -> None:
    assert (response.status, response.body["error"]) == (429, "throttled"), response.body
    assert int(response.headers["retry-after"]) >= 1


@pytest.mark.parametrize(
    ("route", "error_type"),
    [("view", PROVISIONED), ("reschedule", ON_DEMAND), ("cancel", PROVISIONED)],
)
def test_a_throttled_pin_check_answers_429_and_changes_nothing(route: str, error_type: str) -> None:
    # Given an appointment
    first, second = free_slots()[:2]
    booked = book(first["slotId"])
    solved = solved_challenge()
    # When its PIN check is throttled
    with dynamodb_fails("UpdateItem", error_type, failing={1}):
        response = pin_request(route, booked, booked["pin"], second["slotId"], solved)
    # Then the caller is told to retry, and the appointment and its seat are as they were
    assert_throttled(response)
    stored = AppointmentModel.get(booked["confirmationNumber"])
    assert (stored.status, stored.slot_id, stored.pin_failures) == ("booked", first["slotId"], 0)
    assert seats(first["slotId"]) == first["available"] - 1
    # And the same request succeeds once the throttling is over
    assert pin_request(route, booked, booked["pin"], second["slotId"]).status == 200


def test_a_throttled_wrong_pin_is_not_counted() -> None:
    booked = book()
    wrong = "000000" if booked["pin"] != "000000" else "111111"
    with dynamodb_fails("UpdateItem", ON_DEMAND, failing={1}):
        response = pin_request("view", booked, wrong, "")
    assert_throttled(response)
    assert AppointmentModel.get(booked["confirmationNumber"]).pin_failures == 0


def test_a_throttled_reset_after_the_right_pin_answers_429_and_the_retry_resets() -> None:
    # Given an appointment with a wrong PIN counted
    booked = book()
    wrong = "000000" if booked["pin"] != "000000" else "111111"
    assert pin_request("view", booked, wrong, "").status == 403
    # When the right PIN is checked and forgetting the wrong one is throttled
    with dynamodb_fails("UpdateItem", PROVISIONED, failing={2}) as sent:
        response = pin_request("view", booked, booked["pin"], "")
    assert sent[0] == 2
    # Then the caller is told to retry, and the retry is answered and forgets the wrong PIN
    assert_throttled(response)
    assert pin_request("view", booked, booked["pin"], "").status == 200
    assert AppointmentModel.get(booked["confirmationNumber"]).pin_failures == 0


def lookup(phone: str) -> ApiResponse:
    details = {"name": "Maria Garcia", "dateOfBirth": "1985-04-12", "phone": phone}
    return call("POST", "/appointments/lookup", body=details)


@pytest.mark.parametrize(
    ("throttled", "error_type"),
    # the guard's current window, its new window, then the appointment
    [(1, PROVISIONED), (2, ON_DEMAND), (3, PROVISIONED)],
)
def test_a_throttled_lookup_answers_the_same_for_a_match_and_a_miss_and_loses_nothing(
    throttled: int, error_type: str
) -> None:
    # Given an appointment
    booked = book()
    # When one request of a matching lookup, and of one that matches nothing, is throttled
    with dynamodb_fails("UpdateItem", error_type, failing={throttled}):
        match = lookup("+12025550143")
    with dynamodb_fails("UpdateItem", error_type, failing={throttled}):
        miss = lookup("+12025550100")
    # Then both are told to retry, in the same words
    assert_throttled(match)
    assert (match.status, match.body, match.headers["retry-after"]) == (
        miss.status,
        miss.body,
        miss.headers["retry-after"],
    )
    # And the match's retry, once the throttling is over, requests the notice
    assert AppointmentModel.get(booked["confirmationNumber"]).notice_requested_at is None
    assert lookup("+12025550143").status == 202
    assert AppointmentModel.get(booked["confirmationNumber"]).notice_requested_at is not None
