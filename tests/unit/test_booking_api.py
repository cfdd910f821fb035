"""Booking through the API handlers, on moto."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from appointments import booking
from appointments.models import AppointmentModel
from appointments.offices import Office
from appointments.slots import open_day
from tests.helpers import (
    applicant,
    book,
    booking_body,
    call,
    first_free_slot,
    free_slots,
    next_weekday,
)

pytestmark = pytest.mark.usefixtures("open_slots")


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


def test_wrong_pin_is_refused_with_403() -> None:
    booked = book()
    wrong = "000000" if booked["pin"] != "000000" else "111111"
    response = call(
        "GET", f"/appointments/{booked['confirmationNumber']}", headers={"X-Appointment-Pin": wrong}
    )
    assert response.status == 403
    assert response.body["error"] == "wrong_pin"


def test_five_wrong_pins_lock_the_appointment_even_for_the_right_pin() -> None:
    # Given an appointment and five wrong PINs
    booked = book()
    path = f"/appointments/{booked['confirmationNumber']}"
    wrong = "000000" if booked["pin"] != "000000" else "111111"
    statuses = [call("GET", path, headers={"X-Appointment-Pin": wrong}).status for _ in range(5)]
    # When the right PIN is tried during the cool-down
    response = call("GET", path, headers={"X-Appointment-Pin": booked["pin"]})
    # Then it is locked, and says how long to wait
    assert statuses == [403, 403, 403, 403, 423]
    assert response.status == 423
    assert response.body["error"] == "locked"
    assert 0 < int(response.headers["retry-after"]) <= 15 * 60


def test_unknown_confirmation_number_is_404() -> None:
    response = call("GET", "/appointments/0000000000X", headers={"X-Appointment-Pin": "123456"})
    assert response.status == 404
    assert response.body["error"] == "not_found"


def test_missing_pin_header_is_422_and_pin_never_in_query() -> None:
    booked = book()
    response = call(
        "GET", f"/appointments/{booked['confirmationNumber']}", query={"pin": booked["pin"]}
    )
    assert response.status == 422
    assert "X-Appointment-Pin" in response.body["message"] or "pin" in response.body["message"]


def test_cancel_frees_the_seat_at_once() -> None:
    # Given a booked slot
    slot = free_slots()[0]
    booked = book(slot["slotId"])
    after_booking = next(s for s in free_slots() if s["slotId"] == slot["slotId"])
    # When the appointment is cancelled
    response = call(
        "DELETE",
        f"/appointments/{booked['confirmationNumber']}",
        headers={"X-Appointment-Pin": booked["pin"]},
    )
    # Then its status is cancelled and the seat is available again
    assert response.status == 200, response.body
    assert response.body["status"] == "cancelled"
    after_cancel = next(s for s in free_slots() if s["slotId"] == slot["slotId"])
    assert after_cancel["available"] == after_booking["available"] + 1 == slot["available"]


def test_cancelling_twice_is_409() -> None:
    booked = book()
    path = f"/appointments/{booked['confirmationNumber']}"
    call("DELETE", path, headers={"X-Appointment-Pin": booked["pin"]})
    response = call("DELETE", path, headers={"X-Appointment-Pin": booked["pin"]})
    assert response.status == 409
    assert response.body["error"] == "not_active"


def test_reschedule_moves_the_seat() -> None:
    # Given an appointment in the first slot
    first, second = free_slots()[:2]
    booked = book(first["slotId"])
    # When it is moved to the second slot
    response = call(
        "PUT",
        f"/appointments/{booked['confirmationNumber']}/slot",
        body={"slotId": second["slotId"]},
        headers={"X-Appointment-Pin": booked["pin"]},
    )
    # Then it holds the new seat and has given back the old one
    assert response.status == 200, response.body
    assert response.body["status"] == "rescheduled"
    assert response.body["slotId"] == second["slotId"]
    seats = {s["slotId"]: s["available"] for s in free_slots()}
    assert seats[first["slotId"]] == first["available"]
    assert seats.get(second["slotId"], 0) == second["available"] - 1


def test_one_active_appointment_per_applicant() -> None:
    # Given an applicant with an appointment
    first, second = free_slots()[:2]
    book(first["slotId"])
    # When the same person (spelled differently) books another slot
    response = call(
        "POST",
        "/appointments",
        body=booking_body(
            second["slotId"], applicant=applicant(name="  maria GARCÍA ", phone="+12025550199")
        ),
    )
    # Then it is refused
    assert response.status == 409
    assert response.body["error"] == "already_booked"


def test_after_cancelling_the_applicant_can_book_again() -> None:
    first, second = free_slots()[:2]
    booked = book(first["slotId"])
    call(
        "DELETE",
        f"/appointments/{booked['confirmationNumber']}",
        headers={"X-Appointment-Pin": booked["pin"]},
    )
    assert book(second["slotId"])["status"] == "booked"


def test_full_slot_is_409_and_consumes_nothing() -> None:
    # Given a slot filled to capacity by different people
    slot = free_slots()[0]
    for index in range(slot["available"]):
        book(slot["slotId"], applicant=applicant(name=f"Person {index}", dob="1990-01-01"))
    # When one more person tries
    response = call("POST", "/appointments", body=booking_body(slot["slotId"]))
    # Then it is refused and the slot is no longer listed
    assert response.status == 409
    assert response.body["error"] == "slot_full"
    assert slot["slotId"] not in {s["slotId"] for s in free_slots()}


def test_unknown_slot_is_404() -> None:
    day = next_weekday().isoformat()
    response = call("POST", "/appointments", body=booking_body(f"new-york:{day}T03:17"))
    assert response.status == 404
    assert response.body["error"] == "not_found"


def test_idempotency_key_returns_the_same_booking() -> None:
    # Given a booking made with an Idempotency-Key
    slot = free_slots()[0]
    headers = {"Idempotency-Key": "3f2b8c1e-booking-0001"}
    first = book(slot["slotId"], headers=headers)
    # When the same request is sent again
    second = book(slot["slotId"], headers=headers)
    # Then it is the same appointment with the same PIN, and only one seat is taken
    assert second["confirmationNumber"] == first["confirmationNumber"]
    assert second["pin"] == first["pin"]
    remaining = {s["slotId"]: s["available"] for s in free_slots()}
    assert remaining.get(slot["slotId"], 0) == slot["available"] - 1


def test_idempotency_key_reused_for_another_request_is_422() -> None:
    first, second = free_slots()[:2]
    headers = {"Idempotency-Key": "3f2b8c1e-booking-0002"}
    book(first["slotId"], headers=headers)
    response = call("POST", "/appointments", body=booking_body(second["slotId"]), headers=headers)
    assert response.status == 422
    assert response.body["error"] == "idempotency_key_reused"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"language": "xx"}, "language"),
        ({"service": "passport"}, "service"),
        ({"applicant": applicant(dob="not-a-date")}, "applicant.dateOfBirth"),
        ({"applicant": applicant(email="nope")}, "applicant.email"),
        ({"applicant": {**applicant(), "name": ""}}, "applicant.name"),
    ],
)
def test_invalid_booking_is_422_naming_the_field_not_the_value(
    overrides: dict[str, Any], field: str
) -> None:
    response = call("POST", "/appointments", body=booking_body(first_free_slot(), **overrides))
    assert response.status == 422
    assert response.body["error"] == "invalid_request"
    assert field in response.body["message"]
    assert "Maria" not in response.body["message"]
    assert "not-a-date" not in response.body["message"]


def test_invalid_phone_is_422() -> None:
    response = call(
        "POST",
        "/appointments",
        body=booking_body(first_free_slot(), applicant=applicant(phone="12345")),
    )
    assert response.status == 422
    assert response.body["error"] == "invalid_request"


def test_malformed_json_is_400() -> None:
    response = call("POST", "/appointments", raw_body='{"officeId": ')
    assert response.status == 400
    assert response.body["error"] == "bad_request"


def test_asylum_service_at_field_office_is_refused_with_reason() -> None:
    response = call("POST", "/appointments", body=booking_body(first_free_slot(), service="asylum"))
    assert response.status == 422
    assert response.body["error"] == "service_not_offered"


def test_asylum_interview_needs_a_case_pending_at_that_office() -> None:
    slot_id = first_free_slot("arlington-asylum", service="asylum")
    without_case = call("POST", "/appointments", body=booking_body(slot_id, service="asylum"))
    elsewhere = call(
        "POST",
        "/appointments",
        body=booking_body(slot_id, service="asylum", caseNumber="ZNY2612345678"),
    )
    here = call(
        "POST",
        "/appointments",
        body=booking_body(slot_id, service="asylum", caseNumber="zar 2612345678"),
    )
    assert (without_case.status, without_case.body["error"]) == (422, "case_number_required")
    assert (elsewhere.status, elsewhere.body["error"]) == (422, "case_not_pending_here")
    assert here.status == 201
    assert here.body["caseNumber"] == "ZAR2612345678"


def test_date_of_birth_in_the_future_is_422() -> None:
    response = call(
        "POST",
        "/appointments",
        body=booking_body(first_free_slot(), applicant=applicant(dob="2999-01-01")),
    )
    assert response.status == 422
    assert "applicant.dateOfBirth" in response.body["message"]


def test_slot_of_another_office_than_office_id_is_422() -> None:
    response = call(
        "POST", "/appointments", body=booking_body(first_free_slot(), officeId="honolulu")
    )
    assert response.status == 422
    assert response.body["error"] == "invalid_request"


def test_reschedule_to_another_office_that_offers_the_service() -> None:
    booked = book()
    honolulu = free_slots("honolulu")[0]
    response = call(
        "PUT",
        f"/appointments/{booked['confirmationNumber']}/slot",
        body={"slotId": honolulu["slotId"]},
        headers={"X-Appointment-Pin": booked["pin"]},
    )
    assert response.status == 200, response.body
    assert response.body["officeId"] == "honolulu"
    assert response.body["start"].endswith("-10:00")


def test_reschedule_to_an_office_without_the_service_is_refused_and_keeps_the_seat() -> None:
    slot = free_slots()[0]
    booked = book(slot["slotId"])
    asylum_slot = first_free_slot("arlington-asylum", service="asylum")
    response = call(
        "PUT",
        f"/appointments/{booked['confirmationNumber']}/slot",
        body={"slotId": asylum_slot},
        headers={"X-Appointment-Pin": booked["pin"]},
    )
    assert response.status == 422
    assert response.body["error"] == "service_not_offered"
    assert {s["slotId"]: s["available"] for s in free_slots()}.get(slot["slotId"], 0) == (
        slot["available"] - 1
    )


def test_reschedule_into_a_full_slot_keeps_the_old_seat() -> None:
    # Given an appointment, and another slot filled by others
    first, second = free_slots()[:2]
    booked = book(first["slotId"])
    for index in range(second["available"]):
        book(second["slotId"], applicant=applicant(name=f"Other {index}", dob="1970-01-01"))
    # When it is moved to the full slot
    response = call(
        "PUT",
        f"/appointments/{booked['confirmationNumber']}/slot",
        body={"slotId": second["slotId"]},
        headers={"X-Appointment-Pin": booked["pin"]},
    )
    # Then it is refused and the appointment still holds its first seat
    assert response.status == 409
    assert response.body["error"] == "slot_full"
    kept = call(
        "GET",
        f"/appointments/{booked['confirmationNumber']}",
        headers={"X-Appointment-Pin": booked["pin"]},
    )
    assert kept.body["slotId"] == first["slotId"]
    assert kept.body["status"] == "booked"


def test_personal_data_is_purged_a_configured_time_after_the_appointment() -> None:
    booked = book()
    stored = AppointmentModel.get(booked["confirmationNumber"])
    start = datetime.fromisoformat(booked["start"])
    assert stored.expires_at == start + timedelta(days=30)


def test_unexpected_failure_is_500_without_details(
    monkeypatch: pytest.MonkeyPatch, log_output: io.StringIO
) -> None:
    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError(f"secret detail about {secret_name}")

    secret_name = "Maria Garcia"
    monkeypatch.setattr(booking, "book", broken)
    response = call("POST", "/appointments", body=booking_body(first_free_slot()))
    assert response.status == 500
    assert response.body == {
        "error": "internal_error",
        "message": "Something went wrong on our side.",
    }
    logs = log_output.getvalue()
    assert "RuntimeError" in logs
    assert "secret detail" not in logs


def test_pin_header_name_is_case_insensitive() -> None:
    booked = book()
    response = call(
        "GET",
        f"/appointments/{booked['confirmationNumber']}",
        headers={"x-appointment-pin": booked["pin"]},
    )
    assert response.status == 200, response.body


def fill(slot: dict[str, Any], prefix: str = "Other") -> None:
    """Book every seat of `slot` for other people."""
    for index in range(slot["available"]):
        book(slot["slotId"], applicant=applicant(name=f"{prefix} {index}", dob="1970-01-01"))


def test_a_full_slot_tells_nothing_about_who_has_an_appointment() -> None:
    # Given a person with an appointment, and a slot filled by others
    first, second = free_slots()[:2]
    book(first["slotId"])
    fill(second)
    # When someone tries the full slot with that person's name and date of birth
    response = call("POST", "/appointments", body=booking_body(second["slotId"]))
    # Then the answer is the same as for anyone: the slot is full
    assert (response.status, response.body["error"]) == (409, "slot_full")


def test_a_passed_slot_tells_nothing_about_who_has_an_appointment(
    offices: dict[str, Office],
) -> None:
    # Given a person with an appointment, and a slot that has passed
    book()
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    open_day(offices["new-york"], yesterday, starts=["09:00"])
    # When someone tries the passed slot with that person's name and date of birth
    response = call(
        "POST", "/appointments", body=booking_body(f"new-york:{yesterday.isoformat()}T09:00")
    )
    # Then the answer is the same as for anyone: the slot has passed
    assert (response.status, response.body["error"]) == (409, "slot_passed")


def test_already_booked_is_told_only_for_a_bookable_slot_and_names_no_place_or_time() -> None:
    # Given a person with an appointment
    first, second = free_slots()[:2]
    booked = book(first["slotId"])
    # When they try to book another free slot
    response = call("POST", "/appointments", body=booking_body(second["slotId"]))
    # Then they are told they already have one, but not where or when it is
    assert (response.status, response.body["error"]) == (409, "already_booked")
    message = response.body["message"]
    start = datetime.fromisoformat(booked["start"])
    for detail in (
        "new-york",
        "New York",
        booked["slotId"],
        start.strftime("%H:%M"),
        start.date().isoformat(),
        booked["confirmationNumber"],
    ):
        assert detail not in message
    assert not re.search(r"\d", message)
