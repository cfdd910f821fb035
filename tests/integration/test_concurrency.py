"""The capacity and anti-scalping rules under real contention, on DynamoDB Local."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from appointments import access, booking
from appointments.errors import AppointmentError
from appointments.models import SlotModel
from appointments.offices import Office
from appointments.slots import SlotId
from tests.helpers import (
    ApiResponse,
    book_numbered,
    call,
    fresh_proof,
    numbered_request,
    slot_with_capacity,
)

PARALLEL = 100


def outcome(action: Callable[[], Any]) -> str:
    """ "ok", or the error code the API would answer for `action`."""
    try:
        action()
    except AppointmentError as error:
        return error.code
    return "ok"


def run_in_parallel(actions: list[Callable[[], Any]]) -> Counter[str]:
    with ThreadPoolExecutor(max_workers=len(actions)) as pool:
        return Counter(pool.map(outcome, actions))


def booked_count(slot_id: SlotId) -> int:
    return int(SlotModel.get(slot_id.office_day, slot_id.start_time, consistent_read=True).booked)


def test_hundred_parallel_bookings_fill_capacity_three_exactly(
    offices: dict[str, Office],
) -> None:
    # Given a slot with three seats
    slot_id = slot_with_capacity(offices["new-york"], capacity=3)
    # When a hundred different people book it at the same moment
    outcomes = run_in_parallel([lambda p=p: book_numbered(slot_id, p) for p in range(PARALLEL)])
    # Then exactly three succeed, everyone else is told it is full, and three seats are taken
    assert outcomes == Counter({"ok": 3, "slot_full": PARALLEL - 3})
    assert booked_count(slot_id) == 3


def cancel(result: booking.Booking) -> Any:
    return booking.cancel(result.appointment.confirmation_number, result.pin, now=datetime.now(UTC))


def reschedule(result: booking.Booking, to: SlotId) -> Any:
    return booking.reschedule(
        result.appointment.confirmation_number,
        result.pin,
        to,
        proof=fresh_proof(),
        now=datetime.now(UTC),
    )


def test_parallel_cancels_of_one_appointment_free_one_seat(offices: dict[str, Office]) -> None:
    # Given a slot of three with two appointments
    slot_id = slot_with_capacity(offices["new-york"], capacity=3)
    first, _second = book_numbered(slot_id, 1), book_numbered(slot_id, 2)
    # When the first is cancelled twenty times at once
    outcomes = run_in_parallel([lambda: cancel(first) for _ in range(20)])
    # Then one cancel succeeds, the rest are told it is no longer active, one seat is freed
    assert outcomes == Counter({"ok": 1, "not_active": 19})
    assert booked_count(slot_id) == 1


def test_cancel_racing_rebookings_never_overbooks(offices: dict[str, Office]) -> None:
    # Given a full slot of one seat
    slot_id = slot_with_capacity(offices["new-york"], capacity=1)
    holder = book_numbered(slot_id, 0)
    # When its holder cancels while fifty others try to book it
    actions: list[Callable[[], Any]] = [lambda: cancel(holder)]
    actions += [lambda p=p: book_numbered(slot_id, p) for p in range(1, 51)]
    outcomes = run_in_parallel(actions)
    # Then at most one newcomer got the seat, and the count matches what succeeded
    rebooked = outcomes["ok"] - 1
    assert rebooked in (0, 1)
    assert outcomes["slot_full"] == 50 - rebooked
    assert booked_count(slot_id) == rebooked


def test_parallel_reschedules_into_a_slot_fill_its_capacity_exactly(
    offices: dict[str, Office],
) -> None:
    # Given twenty appointments in a morning slot, and an afternoon slot with three seats
    office = offices["new-york"]
    morning = slot_with_capacity(office, capacity=20, start="09:00")
    afternoon = slot_with_capacity(office, capacity=3, start="14:00")
    bookings = [book_numbered(morning, p) for p in range(20)]
    # When all of them move to the afternoon at once
    outcomes = run_in_parallel([lambda b=b: reschedule(b, afternoon) for b in bookings])
    # Then three moved, seventeen kept their morning seat, and no seat was lost or doubled
    assert outcomes == Counter({"ok": 3, "slot_full": 17})
    assert booked_count(afternoon) == 3
    assert booked_count(morning) == 17


def test_one_appointment_rescheduled_to_many_slots_at_once_holds_one_seat(
    offices: dict[str, Office],
) -> None:
    # Given an appointment and six other free slots
    office = offices["new-york"]
    origin = slot_with_capacity(office, capacity=2, start="09:00")
    targets = [slot_with_capacity(office, 2, start=f"{h:02d}:30") for h in range(10, 16)]
    result = book_numbered(origin, 1)
    # When it is moved to six different slots at once (later moves may chain after earlier ones)
    outcomes = run_in_parallel([lambda t=t: reschedule(result, t) for t in targets])
    # Then it moved at most twice, and holds exactly one seat, in the slot it names
    final = access.find(result.appointment.confirmation_number)
    assert 1 <= outcomes["ok"] <= 2
    assert final.reschedules == outcomes["ok"]
    assert outcomes["ok"] + outcomes["not_active"] + outcomes["reschedule_limit"] == len(targets)
    assert {str(slot): booked_count(slot) for slot in [origin, *targets] if booked_count(slot)} == {
        final.slot_id: 1
    }


def test_parallel_retries_with_one_idempotency_key_book_once(offices: dict[str, Office]) -> None:
    # Given a slot, and a client retrying the same booking twenty times at once
    slot_id = slot_with_capacity(offices["new-york"], capacity=3)
    same_request = numbered_request(slot_id, 7)

    def retry() -> str:
        result = booking.book(
            same_request,
            proof=fresh_proof(),
            idempotency_key="retry-key-42",
            now=datetime.now(UTC),
        )
        return f"{result.appointment.confirmation_number}/{result.pin}"

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = set(pool.map(lambda _: retry(), range(20)))
    # Then every answer names the same appointment, and one seat is taken
    assert len(answers) == 1
    assert booked_count(slot_id) == 1


def wrong_pins(right: str, count: int) -> list[str]:
    """`count` different PINs that are not `right`."""
    return [pin for pin in (f"{n:06d}" for n in range(count + 1)) if pin != right][:count]


def authenticate(result: booking.Booking, pin: str) -> Any:
    return access.authenticate(result.appointment.confirmation_number, pin, datetime.now(UTC))


def view(result: booking.Booking, pin: str) -> ApiResponse:
    return call(
        "GET",
        f"/appointments/{result.appointment.confirmation_number}",
        headers={"X-Appointment-Pin": pin},
    )


def test_fifty_parallel_wrong_pins_evaluate_at_most_five_then_the_right_pin_is_locked(
    offices: dict[str, Office],
) -> None:
    # Given an appointment
    result = book_numbered(slot_with_capacity(offices["new-york"], capacity=3), 1)
    # When fifty different wrong PINs are tried at the same moment
    guesses = wrong_pins(result.pin, 50)
    outcomes = run_in_parallel([lambda g=g: authenticate(result, g) for g in guesses])
    # Then at most five were told "wrong", all the others "locked"
    assert outcomes["wrong_pin"] <= 5
    assert outcomes["wrong_pin"] + outcomes["locked"] == 50
    # And the right PIN, sent next through the API, is locked out too, for up to 15 minutes
    response = view(result, result.pin)
    assert (response.status, response.body["error"]) == (423, "locked")
    assert 0 < int(response.headers["retry-after"]) <= 15 * 60


def test_the_right_pin_inside_a_burst_of_wrong_ones_does_not_clear_the_lock(
    offices: dict[str, Office],
) -> None:
    # Given an appointment
    result = book_numbered(slot_with_capacity(offices["new-york"], capacity=3), 1)
    # When its right PIN is sent in the middle of forty-nine wrong ones, all at once
    guesses = wrong_pins(result.pin, 49)
    guesses.insert(24, result.pin)
    outcomes = run_in_parallel([lambda g=g: authenticate(result, g) for g in guesses])
    # Then the right PIN was answered only if it came before the lock-out, and the burst
    # leaves the appointment locked: even the right PIN is refused now
    assert outcomes["ok"] <= 1
    assert outcomes["wrong_pin"] + outcomes["locked"] == 50 - outcomes["ok"]
    assert view(result, result.pin).status == 423
