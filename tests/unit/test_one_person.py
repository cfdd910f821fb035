"""Who is "one person" (applicants.py, guards.py) and how often an appointment moves, through
the API as a client uses it."""

from __future__ import annotations

from typing import Any

import pytest

from appointments import booking
from appointments.errors import RescheduleLimit
from appointments.models import ApplicantModel, AppointmentModel
from appointments.slots import SlotId
from tests.helpers import applicant, book, booking_body, call, free_slots, fresh_proof

pytestmark = pytest.mark.usefixtures("open_slots")


def _try_to_book(slot: dict[str, Any], **details: Any) -> Any:
    return call(
        "POST", "/appointments", body=booking_body(slot["slotId"], applicant=applicant(**details))
    )


def _move(booked: dict[str, Any], slot: dict[str, Any]) -> Any:
    return call(
        "PUT",
        f"/appointments/{booked['confirmationNumber']}/slot",
        body={"slotId": slot["slotId"]},
        headers={"X-Appointment-Pin": booked["pin"]},
    )


def _cancel(booked: dict[str, Any]) -> Any:
    return call(
        "DELETE",
        f"/appointments/{booked['confirmationNumber']}",
        headers={"X-Appointment-Pin": booked["pin"]},
    )


@pytest.mark.parametrize(
    "variant",
    [
        "Ma\u200bria Garcia",  # a zero-width space
        "M\u0430ria Garcia",  # Cyrillic a for Latin a
        "Maria \u202eGarcia",  # a bidi override
        "  Maria    Garcia\t",  # extra spaces
        "MARIA garcia",  # case
        "\uff2d\uff41\uff52\uff49\uff41 Garcia",  # fullwidth letters
    ],
)
def test_a_name_written_differently_is_the_same_person(variant: str) -> None:
    # Given Maria Garcia has an appointment
    first, second = free_slots()[:2]
    book(first["slotId"])
    # When a booking with her date of birth and the name written another way comes
    # (from another phone and e-mail address)
    response = _try_to_book(second, name=variant, phone="+12125550188", email=None)
    # Then it is refused as hers, and nothing more is booked
    assert (response.status, response.body["error"]) == (409, "already_booked"), response.body
    assert "applicant" in response.body["message"]
    assert AppointmentModel.count() == 1


def test_another_person_with_the_same_phone_is_refused() -> None:
    # Given an appointment booked with a phone number
    first, second = free_slots()[:2]
    book(first["slotId"], applicant=applicant(phone="+12025550171"))
    # When someone else books with that phone number, written another way
    response = _try_to_book(second, name="Ana Lima", dob="1990-02-03", phone="(202) 555-0171")
    # Then it is refused, naming the phone number, and nothing more is booked
    assert (response.status, response.body["error"]) == (409, "already_booked")
    assert "phone number" in response.body["message"]
    assert AppointmentModel.count() == 1


def test_another_person_with_the_same_mailbox_is_refused() -> None:
    # Given an appointment booked with an e-mail address
    first, second = free_slots()[:2]
    book(first["slotId"], applicant=applicant(email="ana.lima@gmail.com"))
    # When someone else books with a sub-address of the same mailbox
    response = _try_to_book(
        second, name="Rui Lima", dob="1991-02-03", email="Ana.Lima+second@GMAIL.com"
    )
    # Then it is refused, naming the e-mail address
    assert (response.status, response.body["error"]) == (409, "already_booked")
    assert "e-mail address" in response.body["message"]
    assert AppointmentModel.count() == 1


def test_without_an_e_mail_address_only_the_person_and_phone_count() -> None:
    # Given an appointment booked without an e-mail address
    first, second = free_slots()[:2]
    book(first["slotId"], applicant=applicant(email=None))
    # When another person, also without one, books
    response = _try_to_book(second, name="Rui Lima", dob="1991-02-03", email=None)
    # Then it is booked
    assert response.status == 201, response.body


def test_cancelling_frees_the_phone_and_the_e_mail_address() -> None:
    # Given an appointment that was cancelled
    first, second = free_slots()[:2]
    booked = book(first["slotId"], applicant=applicant(phone="+12025550172", email="a@example.org"))
    assert _cancel(booked).status == 200
    # When another person books with the same phone and e-mail address
    response = _try_to_book(
        second, name="Rui Lima", dob="1991-02-03", phone="+12025550172", email="a@example.org"
    )
    # Then it is booked
    assert response.status == 201, response.body


def test_a_moved_appointment_still_holds_its_phone() -> None:
    # Given an appointment moved to another time
    first, second, third = free_slots()[:3]
    booked = book(first["slotId"], applicant=applicant(phone="+12025550173"))
    assert _move(booked, second).status == 200
    # When someone else books with its phone number
    response = _try_to_book(third, name="Rui Lima", dob="1991-02-03", phone="+12025550173")
    # Then it is refused
    assert (response.status, response.body["error"]) == (409, "already_booked")


@pytest.mark.parametrize(
    "name", ["Maria\x00Garcia", "Maria\x1bGarcia", "Maria\x85Garcia", "Maria\x9bGarcia"]
)
def test_a_name_with_a_control_character_is_refused(name: str) -> None:
    # When a booking's name holds a control character
    response = _try_to_book(free_slots()[0], name=name)
    # Then it is refused as invalid, and nothing is booked
    assert (response.status, response.body["error"]) == (422, "invalid_request")
    assert AppointmentModel.count() == 0


@pytest.mark.parametrize("name", ["\u200b\u200b", "\u202e \u2066"])
def test_a_name_of_invisible_characters_only_is_refused(name: str) -> None:
    response = _try_to_book(free_slots()[0], name=name)
    assert (response.status, response.body["error"]) == (422, "invalid_request")
    assert AppointmentModel.count() == 0


def test_an_appointment_moves_twice_and_no_more() -> None:
    # Given an appointment moved twice
    slots = free_slots()[:4]
    booked = book(slots[0]["slotId"])
    assert _move(booked, slots[1]).status == 200
    assert _move(booked, slots[2]).status == 200
    # When it is moved a third time
    response = _move(booked, slots[3])
    # Then it is refused and stays where it is, holding its seat
    assert (response.status, response.body["error"]) == (409, "reschedule_limit")
    stored = AppointmentModel.get(booked["confirmationNumber"])
    assert (stored.slot_id, stored.reschedules) == (slots[2]["slotId"], 2)
    seats = {slot["slotId"]: slot["available"] for slot in free_slots()}
    assert seats[slots[2]["slotId"]] == slots[2]["available"] - 1
    assert seats[slots[3]["slotId"]] == slots[3]["available"]


def test_the_move_limit_holds_in_the_transaction(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an appointment moved twice, read before its second move (as a racing request would)
    slots = free_slots()[:4]
    booked = book(slots[0]["slotId"])
    assert _move(booked, slots[1]).status == 200
    stale = AppointmentModel.get(booked["confirmationNumber"])
    assert _move(booked, slots[2]).status == 200
    stale.slot_id = slots[2]["slotId"]  # it passes the slot check, not the count
    # When the stale copy is moved again straight through the domain
    with pytest.raises(RescheduleLimit):
        booking.reschedule_appointment(
            stale,
            SlotId.parse(slots[3]["slotId"]),
            proof=fresh_proof(),
            now=stale.updated_at,
        )
    # Then the appointment did not move
    assert AppointmentModel.get(booked["confirmationNumber"]).slot_id == slots[2]["slotId"]


def test_an_appointment_booked_before_phone_guards_can_be_cancelled() -> None:
    # Given an appointment stored when only the person had a guard
    booked = book()
    stored = AppointmentModel.get(booked["confirmationNumber"])
    for key in stored.guard_keys[1:]:
        ApplicantModel(key).delete()
    stored.update(actions=[AppointmentModel.guard_keys.remove()])
    # When it is cancelled
    response = _cancel(booked)
    # Then it is
    assert response.status == 200, response.body


def test_an_e_mail_address_the_mail_service_cannot_take_is_refused_at_booking() -> None:
    # When a booking gives an address with a non-ASCII letter before the @
    response = _try_to_book(free_slots()[0], email="josé@example.com")
    # Then it is refused, saying why, and nothing is booked
    assert (response.status, response.body["error"]) == (422, "invalid_request")
    assert "ASCII" in response.body["message"]
    assert "josé" not in response.body["message"]
    assert AppointmentModel.count() == 0


def test_an_international_domain_is_stored_as_the_mail_service_takes_it() -> None:
    # When a booking gives an address at an international domain name
    booked = book(applicant=applicant(email="jose@exämple.com"))
    # Then it is booked with the domain's ASCII form
    assert AppointmentModel.get(booked["confirmationNumber"]).email == "jose@xn--exmple-cua.com"
