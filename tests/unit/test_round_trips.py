"""The DynamoDB request budget of each operation, counted with a botocore event hook."""

from __future__ import annotations

import pytest

from tests.helpers import booking_body, call, count_dynamodb_calls
from tests.unit.test_booking_api import book, free_slots

pytestmark = pytest.mark.usefixtures("open_slots")


def test_booking_is_one_write_request() -> None:
    slot = free_slots()[0]  # warms the office catalogue cache
    with count_dynamodb_calls() as calls:
        response = call("POST", "/appointments", body=booking_body(slot["slotId"]))
    assert response.status == 201
    assert dict(calls) == {"TransactWriteItems": 1}


def test_fetch_is_one_read() -> None:
    booked = book()
    with count_dynamodb_calls() as calls:
        call(
            "GET",
            f"/appointments/{booked['confirmationNumber']}",
            headers={"X-Appointment-Pin": booked["pin"]},
        )
    assert dict(calls) == {"GetItem": 1}


def test_cancel_is_two_requests() -> None:
    booked = book()
    with count_dynamodb_calls() as calls:
        response = call(
            "DELETE",
            f"/appointments/{booked['confirmationNumber']}",
            headers={"X-Appointment-Pin": booked["pin"]},
        )
    assert response.status == 200
    assert dict(calls) == {"GetItem": 1, "TransactWriteItems": 1}


def test_reschedule_is_two_requests() -> None:
    first, second = free_slots()[:2]
    booked = book(first["slotId"])
    with count_dynamodb_calls() as calls:
        response = call(
            "PUT",
            f"/appointments/{booked['confirmationNumber']}/slot",
            body={"slotId": second["slotId"]},
            headers={"X-Appointment-Pin": booked["pin"]},
        )
    assert response.status == 200
    assert dict(calls) == {"GetItem": 1, "TransactWriteItems": 1}
