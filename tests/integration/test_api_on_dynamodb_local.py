"""The whole API path on DynamoDB Local, where conditions, transactions, batch limits and
request tokens behave as on AWS."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from pynamodb.transactions import TransactWrite

from appointments.models import SlotModel, transaction_connection
from appointments.offices import Office
from infra.tools.seed import seed_offices
from tests.helpers import (
    applicant,
    booking_body,
    call,
    count_dynamodb_calls,
    next_weekday,
    open_weekdays,
    solved_challenge,
)


@pytest.fixture
def day(offices: dict[str, Office]) -> str:
    open_weekdays([offices["new-york"], offices["honolulu"]], next_weekday(), 1)
    return next_weekday().isoformat()


def slots(office_id: str, day: str) -> list[dict[str, Any]]:
    response = call(
        "GET", f"/offices/{office_id}/slots", query={"date": day, "service": "adit-stamp"}
    )
    assert response.status == 200, response.body
    return list(response.body["slots"])


def test_book_view_reschedule_cancel(day: str) -> None:
    # Given two free slots at New York
    first, second = slots("new-york", day)[:2]
    # When a person books, views, moves and cancels
    booked = call(
        "POST",
        "/appointments",
        body=booking_body(first["slotId"], applicant=applicant()),
    ).body
    pin = {"X-Appointment-Pin": booked["pin"]}
    path = f"/appointments/{booked['confirmationNumber']}"
    viewed = call("GET", path, headers=pin)
    moved = call("PUT", f"{path}/slot", body={"slotId": second["slotId"]}, headers=pin)
    cancelled = call("DELETE", path, headers=pin)
    # Then each step answers as the contract says, and both seats are free again
    assert (viewed.status, viewed.body["slotId"]) == (200, first["slotId"])
    assert (moved.status, moved.body["slotId"], moved.body["status"]) == (
        200,
        second["slotId"],
        "rescheduled",
    )
    assert (cancelled.status, cancelled.body["status"]) == (200, "cancelled")
    after = {s["slotId"]: s["available"] for s in slots("new-york", day)}
    assert after[first["slotId"]] == first["available"]
    assert after[second["slotId"]] == second["available"]


def test_round_trips_on_dynamodb_local(day: str) -> None:
    first = slots("honolulu", day)[0]
    body = booking_body(
        first["slotId"], applicant=applicant(phone="+18085550143"), challenge=solved_challenge()
    )
    with count_dynamodb_calls() as calls:
        response = call("POST", "/appointments", body=body)
    assert response.status == 201, response.body
    assert dict(calls) == {"TransactWriteItems": 1}


def test_full_slot_reason_is_read_from_the_cancellation_reasons(
    day: str, offices: dict[str, Office]
) -> None:
    # Given a slot whose seats are all taken
    slot = slots("new-york", day)[0]
    for person in range(int(slot["available"])):
        assert (
            call(
                "POST",
                "/appointments",
                body=booking_body(
                    slot["slotId"], applicant=applicant(name=f"Person {person}", dob="1970-01-01")
                ),
            ).status
            == 201
        )
    # When the applicant of an active appointment tries it too
    response = call(
        "POST",
        "/appointments",
        body=booking_body(slot["slotId"], applicant=applicant(name="Person 0", dob="1970-01-01")),
    )
    # Then both reasons failed, and the answer is the slot's, which tells nothing about the person
    assert response.status == 409
    assert response.body["error"] == "slot_full"


def test_catalogue_and_a_week_of_slots_seed_twice_without_duplicates(
    offices: dict[str, Office],
) -> None:
    # Given the whole sample catalogue (batch writes of at most 25 items on DynamoDB Local)
    again = seed_offices()
    first_day = next_weekday()
    # When a week of slots is opened twice
    first = open_weekdays(list(offices.values()), first_day, 5)
    second = open_weekdays(again, first_day, 5)
    # Then the second run creates nothing and finds everything
    created = sum(d.created for d in first)
    assert created > 1000
    assert sum(d.created for d in second) == 0
    assert sum(d.already_present for d in second) == created
    assert len(list(SlotModel.scan())) == created


def test_a_repeated_request_token_applies_a_transaction_once(day: str) -> None:
    # Given a slot and a booking-style increment sent with one client request token
    slot = slots("new-york", day)[0]
    office_day, start_time = "new-york#" + day, str(slot["slotId"]).rsplit("T", 1)[1]
    token = uuid.uuid4().hex

    def increment() -> None:
        with TransactWrite(
            connection=transaction_connection(), client_request_token=token
        ) as transaction:
            transaction.update(
                SlotModel(office_day, start_time),
                actions=[SlotModel.booked.add(1)],
                condition=SlotModel.booked < SlotModel.capacity,
            )

    # When the SDK sends it twice (as after a timeout)
    increment()
    increment()
    # Then DynamoDB applied it once: the seat count moved by one
    stored = SlotModel.get(office_day, start_time, consistent_read=True)
    assert stored.booked == 1
    assert stored.start_utc > datetime.now(UTC)
