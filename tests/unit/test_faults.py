"""Faults lose nothing: conflicts are retried, throttling and contention answer 429/503, and
no log line carries personal data."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders

from appointments.models import transaction_connection
from tests.helpers import booking_body, call
from tests.unit.test_booking_api import book, free_slots

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

    events = transaction_connection().client.meta.events
    events.register_first("before-call.dynamodb.TransactWriteItems", maybe_fail)
    try:
        yield sent
    finally:
        events.unregister("before-call.dynamodb.TransactWriteItems", maybe_fail)


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
