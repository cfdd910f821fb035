"""Booking through the API handlers, on moto."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import applicant, call, next_weekday

pytestmark = pytest.mark.usefixtures("open_slots")


def first_free_slot(office_id: str = "new-york", service: str = "adit-stamp") -> str:
    day = next_weekday()
    response = call(
        "GET", f"/offices/{office_id}/slots", query={"date": day.isoformat(), "service": service}
    )
    assert response.status == 200, response.body
    return str(response.body["slots"][0]["slotId"])


def booking_body(slot_id: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "officeId": slot_id.split(":")[0],
        "service": "adit-stamp",
        "slotId": slot_id,
        "applicant": applicant(),
        "language": "es",
    }
    body.update(overrides)
    return body


def test_booking_returns_confirmation_number_and_pin() -> None:
    # Given a free slot
    slot_id = first_free_slot()
    # When a person books it
    response = call("POST", "/appointments", body=booking_body(slot_id))
    # Then they get a confirmation number and a PIN
    assert response.status == 201, response.body
    assert len(response.body["confirmationNumber"]) == 11
    assert response.body["pin"].isdigit()
    assert len(response.body["pin"]) == 6
    assert response.body["status"] == "booked"
    assert response.body["slotId"] == slot_id
    assert response.headers["location"] == f"/appointments/{response.body['confirmationNumber']}"


def test_fetch_with_pin_returns_the_appointment() -> None:
    booked = call("POST", "/appointments", body=booking_body(first_free_slot())).body
    response = call(
        "GET",
        f"/appointments/{booked['confirmationNumber']}",
        headers={"X-Appointment-Pin": booked["pin"]},
    )
    assert response.status == 200, response.body
    assert response.body["applicant"]["name"] == "Maria Garcia"
    assert response.body["start"].endswith(("-05:00", "-04:00"))
    assert "pin" not in response.body
