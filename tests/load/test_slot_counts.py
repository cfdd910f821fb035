"""The load run's overbooking check finds what it must, and only that."""

from collections import Counter

from tests.load.slot_counts import SlotCount, miscounted

DAY = "new-york:2027-01-26T"


def test_full_and_partly_booked_slots_that_match_their_appointments_pass() -> None:
    slots = [SlotCount(f"{DAY}07:30", 4, 4), SlotCount(f"{DAY}07:45", 4, 1)]
    named = Counter({f"{DAY}07:30": 4, f"{DAY}07:45": 1})
    assert miscounted(slots, named) == []


def test_a_slot_over_its_capacity_is_found_even_when_its_appointments_agree() -> None:
    wrong = miscounted([SlotCount(f"{DAY}07:30", 4, 5)], Counter({f"{DAY}07:30": 5}))
    assert wrong == [f"{DAY}07:30: 5 booked of 4, 5 named"]


def test_a_counter_that_differs_from_its_appointments_is_found_both_ways() -> None:
    slots = [SlotCount(f"{DAY}07:30", 4, 3), SlotCount(f"{DAY}07:45", 4, 2)]
    named = Counter({f"{DAY}07:30": 4, f"{DAY}07:45": 1})
    assert miscounted(slots, named) == [
        f"{DAY}07:30: 3 booked of 4, 4 named",
        f"{DAY}07:45: 2 booked of 4, 1 named",
    ]


def test_appointments_naming_a_slot_that_is_not_there_are_found() -> None:
    wrong = miscounted([], Counter({f"{DAY}08:00": 2}))
    assert wrong == [f"{DAY}08:00: no such slot, 2 named"]
