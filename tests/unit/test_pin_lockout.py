"""The PIN lock-out: counted in the same atomic step that compares the PIN, never wiped by a
right PIN, and started afresh when it ends."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from appointments import access
from appointments.errors import AppointmentError
from appointments.models import AppointmentModel
from tests.helpers import book, call, on_dynamodb_calls

pytestmark = pytest.mark.usefixtures("open_slots")

LOCKOUT = timedelta(minutes=15)


def wrong_pin(right: str) -> str:
    return "000000" if right != "000000" else "111111"


def attempt(confirmation_number: str, pin: str, now: datetime) -> str:
    """ "ok", or the error code the API would answer."""
    try:
        access.authenticate(confirmation_number, pin, now)
    except AppointmentError as error:
        return error.code
    return "ok"


@contextmanager
def after_first_dynamodb_call(action: Callable[[], Any]) -> Iterator[None]:
    """Run `action` once, right after the next DynamoDB request returns: another request
    arriving between two steps of one."""
    pending = [action]

    def interleave(**_: Any) -> None:
        if pending:
            pending.pop()()

    with on_dynamodb_calls("after-call", interleave):
        yield


def test_a_right_pin_does_not_wipe_a_lock_out_reached_while_it_was_checked() -> None:
    # Given an appointment with four wrong PINs counted
    booked = book()
    confirmation_number, pin = booked["confirmationNumber"], booked["pin"]
    now = datetime.now(UTC)
    assert [attempt(confirmation_number, wrong_pin(pin), now) for _ in range(4)] == [
        "wrong_pin"
    ] * 4
    # When the fifth wrong PIN locks it while the right PIN is being checked
    with after_first_dynamodb_call(lambda: attempt(confirmation_number, wrong_pin(pin), now)):
        during = attempt(confirmation_number, pin, now)
    # Then the right PIN checked before the lock-out is answered, but the lock-out stays
    assert during == "ok"
    assert attempt(confirmation_number, pin, now + timedelta(seconds=1)) == "locked"


def test_the_lock_out_ends_after_fifteen_minutes_and_counting_starts_again() -> None:
    # Given an appointment locked by five wrong PINs
    booked = book()
    confirmation_number, pin = booked["confirmationNumber"], booked["pin"]
    now = datetime.now(UTC)
    assert [attempt(confirmation_number, wrong_pin(pin), now) for _ in range(5)][-1] == "locked"
    # When fifteen minutes have passed
    later = now + LOCKOUT + timedelta(seconds=1)
    # Then a wrong PIN is counted again from the start, and the right PIN works
    with pytest.raises(AppointmentError, match="4 more tries") as refused:
        access.authenticate(confirmation_number, wrong_pin(pin), later)
    assert refused.value.code == "wrong_pin"
    assert attempt(confirmation_number, pin, later) == "ok"


def test_a_burst_after_the_lock_out_ends_gets_five_more_answers_at_most() -> None:
    # Given an appointment whose lock-out has just ended
    booked = book()
    confirmation_number, pin = booked["confirmationNumber"], booked["pin"]
    now = datetime.now(UTC)
    for _ in range(5):
        attempt(confirmation_number, wrong_pin(pin), now)
    later = now + LOCKOUT + timedelta(seconds=1)
    # When ten wrong PINs follow
    outcomes = [attempt(confirmation_number, wrong_pin(pin), later) for _ in range(10)]
    # Then four are told "wrong" and the fifth locks it again
    assert outcomes == ["wrong_pin"] * 4 + ["locked"] * 6


def test_the_right_pin_forgets_earlier_wrong_ones() -> None:
    booked = book()
    confirmation_number, pin = booked["confirmationNumber"], booked["pin"]
    now = datetime.now(UTC)
    before = [attempt(confirmation_number, wrong_pin(pin), now) for _ in range(3)]
    assert attempt(confirmation_number, pin, now) == "ok"
    after = [attempt(confirmation_number, wrong_pin(pin), now) for _ in range(4)]
    assert before + after == ["wrong_pin"] * 7
    assert AppointmentModel.get(confirmation_number).pin_failures == 4


def test_a_locked_appointment_refuses_the_right_pin_through_every_pin_route() -> None:
    # Given a locked appointment
    booked = book()
    path = f"/appointments/{booked['confirmationNumber']}"
    for _ in range(5):
        call("GET", path, headers={"X-Appointment-Pin": wrong_pin(booked["pin"])})
    right = {"X-Appointment-Pin": booked["pin"]}
    # When its holder views, moves or cancels it with the right PIN
    answers = [
        call("GET", path, headers=right),
        call("PUT", f"{path}/slot", body={"slotId": booked["slotId"]}, headers=right),
        call("DELETE", path, headers=right),
    ]
    # Then each is refused with 423 and a Retry-After, and the appointment is unchanged
    assert [(a.status, a.body["error"]) for a in answers] == [(423, "locked")] * 3
    assert all(0 < int(a.headers["retry-after"]) <= 15 * 60 for a in answers)
    assert AppointmentModel.get(booked["confirmationNumber"]).status == "booked"


def test_an_unknown_confirmation_number_is_not_found_and_creates_nothing() -> None:
    # "00000000000" has a valid check character, so it reaches the database
    assert attempt("00000000000", "123456", datetime.now(UTC)) == "not_found"
    assert list(AppointmentModel.scan()) == []


def test_a_wrong_pin_is_counted_even_on_an_item_without_a_counter() -> None:
    # Given an appointment whose item carries no failure counter (written by other means)
    booked = book()
    confirmation_number, pin = booked["confirmationNumber"], booked["pin"]
    AppointmentModel(confirmation_number).update(actions=[AppointmentModel.pin_failures.remove()])
    # When a wrong PIN is tried, then the right one
    wrong = attempt(confirmation_number, wrong_pin(pin), datetime.now(UTC))
    right = attempt(confirmation_number, pin, datetime.now(UTC))
    # Then the wrong one is refused and counted, and the right one lets the holder in
    assert (wrong, right) == ("wrong_pin", "ok")
