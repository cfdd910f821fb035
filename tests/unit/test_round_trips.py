"""The DynamoDB request budget of each operation, counted with a botocore event hook."""

from __future__ import annotations

import pytest

from tests.helpers import (
    book,
    booking_body,
    call,
    count_dynamodb_calls,
    free_slots,
    solved_challenge,
)

pytestmark = pytest.mark.usefixtures("open_slots")


def test_booking_is_one_write_request() -> None:
    # Given a solved challenge (the challenge's own request is GET /challenge's)
    slot = free_slots()[0]  # warms the office catalogue cache
    body = booking_body(slot["slotId"], challenge=solved_challenge())
    # When the booking is sent, its guards and the spent challenge included
    with count_dynamodb_calls() as calls:
        response = call("POST", "/appointments", body=body)
    # Then it is one transaction
    assert response.status == 201
    assert dict(calls) == {"TransactWriteItems": 1}


def test_fetch_is_one_conditional_update() -> None:
    # The PIN is compared by the update that would count it as wrong; DynamoDB refuses it and
    # returns the appointment, so the right PIN costs one request and writes nothing.
    booked = book()
    with count_dynamodb_calls() as calls:
        response = call(
            "GET",
            f"/appointments/{booked['confirmationNumber']}",
            headers={"X-Appointment-Pin": booked["pin"]},
        )
    assert response.status == 200
    assert dict(calls) == {"UpdateItem": 1}


def test_wrong_pin_is_one_conditional_update() -> None:
    booked = book()
    wrong = "000000" if booked["pin"] != "000000" else "111111"
    with count_dynamodb_calls() as calls:
        response = call(
            "GET",
            f"/appointments/{booked['confirmationNumber']}",
            headers={"X-Appointment-Pin": wrong},
        )
    assert response.status == 403
    assert dict(calls) == {"UpdateItem": 1}


def test_right_pin_after_a_wrong_one_costs_one_more_update() -> None:
    booked = book()
    path = f"/appointments/{booked['confirmationNumber']}"
    wrong = "000000" if booked["pin"] != "000000" else "111111"
    call("GET", path, headers={"X-Appointment-Pin": wrong})
    with count_dynamodb_calls() as calls:
        response = call("GET", path, headers={"X-Appointment-Pin": booked["pin"]})
    assert response.status == 200
    assert dict(calls) == {"UpdateItem": 2}  # the refused count, then forgetting the wrong PIN


def test_cancel_is_two_requests() -> None:
    booked = book()
    with count_dynamodb_calls() as calls:
        response = call(
            "DELETE",
            f"/appointments/{booked['confirmationNumber']}",
            headers={"X-Appointment-Pin": booked["pin"]},
        )
    assert response.status == 200
    assert dict(calls) == {"UpdateItem": 1, "TransactWriteItems": 1}


def test_reschedule_is_two_requests() -> None:
    first, second = free_slots()[:2]
    booked = book(first["slotId"])
    solved = solved_challenge()
    with count_dynamodb_calls() as calls:
        response = call(
            "PUT",
            f"/appointments/{booked['confirmationNumber']}/slot",
            body={"slotId": second["slotId"], "challenge": solved},
            headers={"X-Appointment-Pin": booked["pin"]},
        )
    assert response.status == 200
    assert dict(calls) == {"UpdateItem": 1, "TransactWriteItems": 1}
