"""Slot ids, opening hours, opening days and listing free slots (appointments/slots.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from appointments.errors import InvalidRequest
from appointments.models import SlotModel
from appointments.offices import Address, Office
from appointments.slots import (
    FreeDay,
    SlotId,
    free_days,
    free_slots,
    office_day,
    open_day,
    slot_starts,
)

MONDAY = date(2030, 1, 7)  # a winter Monday, far enough ahead to never be "past"
SATURDAY = date(2030, 1, 5)
SUNDAY = date(2030, 1, 6)
WEEKDAY_HOURS = [["08:00", "12:00"], ["13:00", "16:00"]]

OFFICE = Office(
    office_id="test-office",
    name="Test Field Office",
    kind="field_office",
    time_zone="America/New_York",
    address=Address("1 Main St", "Springfield", "VA", "22150", "US"),
    services=("adit-stamp",),
    opening_hours={day: WEEKDAY_HOURS for day in ("mon", "tue", "wed", "thu", "fri")},
    slot_minutes=30,
    capacity=2,
)


# --- Slot ids ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "slot_id",
    [
        SlotId("new-york", date(2026, 11, 27), "08:30"),
        SlotId("arlington-asylum", date(2030, 1, 7), "16:00"),
        SlotId("honolulu", date(2026, 2, 28), "07:45"),
    ],
)
def test_slot_id_parse_round_trips_str(slot_id: SlotId) -> None:
    assert SlotId.parse(str(slot_id)) == slot_id


def test_slot_id_str_names_office_day_and_time() -> None:
    assert str(SlotId("new-york", date(2026, 11, 27), "08:30")) == "new-york:2026-11-27T08:30"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "new-york",
        "new-york:",
        "new-york:2026-11-27",
        "new-york:2026-11-27T",
        ":2026-11-27T08:30",
        "new-york:2026-13-01T08:30",
        "new-york:2026-02-30T08:30",
        "new-york:2026-11-27T8:30",
        "new-york:2026-11-27T08:30:00",
        "new-york:2026-11-27T25:00",
        "new-york:not-a-dateT08:30",
    ],
)
def test_malformed_slot_id_is_invalid_request(raw: str) -> None:
    with pytest.raises(InvalidRequest):
        SlotId.parse(raw)


def test_slot_start_is_honolulu_local_time() -> None:
    start = SlotId("honolulu", MONDAY, "08:05").start("Pacific/Honolulu")
    assert start.isoformat() == "2030-01-07T08:05:00-10:00"


def test_slot_start_is_new_york_standard_time_in_winter() -> None:
    start = SlotId("new-york", MONDAY, "08:30").start("America/New_York")
    assert start.utcoffset() == timedelta(hours=-5)
    assert start.astimezone(UTC) == datetime(2030, 1, 7, 13, 30, tzinfo=UTC)


def test_slot_start_is_new_york_daylight_time_in_summer() -> None:
    start = SlotId("new-york", date(2030, 7, 8), "08:30").start("America/New_York")
    assert start.utcoffset() == timedelta(hours=-4)


# --- Opening hours -------------------------------------------------------------------------


def test_slot_starts_fill_opening_windows_around_lunch() -> None:
    # Given 08:00-12:00 and 13:00-16:00 at 30 minutes
    # When a weekday's starts are computed
    starts = slot_starts(OFFICE, MONDAY)
    # Then there are 8 morning and 6 afternoon slots, none over lunch
    assert len(starts) == 14
    assert starts[0] == "08:00"
    assert starts[7] == "11:30"
    assert starts[8] == "13:00"
    assert starts[-1] == "15:30"
    assert "12:00" not in starts
    assert "12:30" not in starts


def test_slot_starts_follow_the_slot_length() -> None:
    office = replace(OFFICE, slot_minutes=20, opening_hours={"mon": [["07:45", "08:45"]]})
    assert slot_starts(office, MONDAY) == ["07:45", "08:05", "08:25"]


def test_slot_starts_leave_out_a_slot_that_would_run_past_closing() -> None:
    office = replace(OFFICE, slot_minutes=40, opening_hours={"mon": [["08:00", "10:00"]]})
    # 08:00, 08:40 and 09:20 end by 10:00; a 10:00 start would not
    assert slot_starts(office, MONDAY) == ["08:00", "08:40", "09:20"]


def test_slot_starts_are_empty_on_a_closure_date() -> None:
    office = replace(OFFICE, closures=(MONDAY.isoformat(),))
    assert slot_starts(office, MONDAY) == []


def test_closure_date_does_not_close_other_days() -> None:
    office = replace(OFFICE, closures=(MONDAY.isoformat(),))
    assert len(slot_starts(office, MONDAY + timedelta(days=1))) == 14


@pytest.mark.parametrize("day", [SATURDAY, SUNDAY])
def test_slot_starts_are_empty_on_weekends(day: date) -> None:
    assert slot_starts(OFFICE, day) == []


# --- Opening a day (moto) --------------------------------------------------------------------


@pytest.fixture
def honolulu(offices: dict[str, Office]) -> Office:
    return offices["honolulu"]


def stored_slots(office: Office, day: date) -> dict[str, SlotModel]:
    return {
        slot.start_time: slot
        for slot in SlotModel.query(office_day(office.office_id, day), consistent_read=True)
    }


def test_open_day_creates_the_days_slots(honolulu: Office) -> None:
    # When a weekday is opened
    opened = open_day(honolulu, MONDAY)
    # Then one slot per start exists, empty and with the office's capacity
    starts = slot_starts(honolulu, MONDAY)
    slots = stored_slots(honolulu, MONDAY)
    assert opened.created == len(starts) > 0
    assert opened.already_present == 0
    assert sorted(slots) == sorted(starts)
    assert all(slot.booked == 0 for slot in slots.values())
    assert all(slot.capacity == honolulu.capacity for slot in slots.values())


def test_open_day_stores_the_start_in_utc(honolulu: Office) -> None:
    open_day(honolulu, MONDAY)
    slot = stored_slots(honolulu, MONDAY)["07:45"]
    assert slot.start_utc == datetime(2030, 1, 7, 17, 45, tzinfo=UTC)


def test_open_day_twice_creates_nothing_the_second_time(honolulu: Office) -> None:
    # Given an opened day
    first = open_day(honolulu, MONDAY)
    # When it is opened again
    second = open_day(honolulu, MONDAY)
    # Then nothing is created and every slot is reported as already present
    assert second.created == 0
    assert second.already_present == first.created
    assert len(stored_slots(honolulu, MONDAY)) == first.created


def test_open_day_again_does_not_reset_a_booked_slot(honolulu: Office) -> None:
    # Given an opened day where a slot has two bookings
    open_day(honolulu, MONDAY)
    slot = SlotModel.get(office_day(honolulu.office_id, MONDAY), "07:45")
    slot.update(actions=[SlotModel.booked.set(2)])
    # When the day is opened again
    open_day(honolulu, MONDAY)
    # Then the bookings are kept
    assert stored_slots(honolulu, MONDAY)["07:45"].booked == 2


def test_opening_a_day_again_puts_slots_stored_before_the_calendar_index_in_it(
    honolulu: Office,
) -> None:
    # Given an opened day, one seat booked, whose slots were stored before the calendar's
    # index existed (without its keys): the calendar does not see the day
    open_day(honolulu, MONDAY)
    for slot in stored_slots(honolulu, MONDAY).values():
        slot.update(actions=[SlotModel.office_month.remove(), SlotModel.day_start.remove()])
    SlotModel.get(office_day(honolulu.office_id, MONDAY), "07:45").update(
        actions=[SlotModel.booked.set(1)]
    )
    before = datetime(2030, 1, 1, tzinfo=UTC)
    assert free_days(honolulu, MONDAY, MONDAY, before) == []
    # When the release opens the day again
    open_day(honolulu, MONDAY)
    # Then the calendar shows the day with its free seats, and the booking is kept
    slots = stored_slots(honolulu, MONDAY)
    seats = int(sum(slot.capacity for slot in slots.values())) - 1
    assert free_days(honolulu, MONDAY, MONDAY, before) == [FreeDay(MONDAY, seats)]
    assert slots["07:45"].booked == 1


@pytest.fixture
def stale_query(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A release whose Query ran before a concurrent release created the slots."""

    def nothing_present(*_: Any, **__: Any) -> Iterator[SlotModel]:
        return iter(())

    with monkeypatch.context() as patch:
        patch.setattr(SlotModel, "query", nothing_present)
        yield


def test_concurrent_open_day_does_not_reset_a_booked_slot(
    honolulu: Office, request: pytest.FixtureRequest
) -> None:
    # Given an opened day where a slot has two bookings
    opened = open_day(honolulu, MONDAY)
    SlotModel.get(office_day(honolulu.office_id, MONDAY), "07:45").update(
        actions=[SlotModel.booked.set(2)]
    )
    # When a release that did not see the existing slots opens the day
    request.getfixturevalue("stale_query")
    again = open_day(honolulu, MONDAY)
    # Then the conditional writes create nothing, and the bookings are kept
    assert again.created == 0
    assert again.already_present == opened.created
    slot = SlotModel.get(office_day(honolulu.office_id, MONDAY), "07:45", consistent_read=True)
    assert slot.booked == 2


def test_concurrent_open_day_creates_only_the_missing_slots(
    honolulu: Office, request: pytest.FixtureRequest
) -> None:
    # Given an opened day where one slot is missing
    opened = open_day(honolulu, MONDAY)
    SlotModel.get(office_day(honolulu.office_id, MONDAY), "08:05").delete()
    # When a release that did not see the existing slots opens the day
    request.getfixturevalue("stale_query")
    again = open_day(honolulu, MONDAY)
    # Then only the missing slot is created
    assert again.created == 1
    assert again.already_present == opened.created - 1


def test_open_day_on_a_weekend_creates_nothing(honolulu: Office) -> None:
    opened = open_day(honolulu, SATURDAY)
    assert opened.created == 0
    assert stored_slots(honolulu, SATURDAY) == {}


# --- Listing free slots ----------------------------------------------------------------------


def test_free_slots_lists_every_open_slot_before_the_day(honolulu: Office) -> None:
    opened = open_day(honolulu, MONDAY)
    before = datetime(2030, 1, 1, tzinfo=UTC)
    listed = free_slots(honolulu, MONDAY, before)
    assert len(listed) == opened.created
    assert all(slot.available == honolulu.capacity for slot in listed)


def test_free_slots_start_in_the_office_time_zone(honolulu: Office) -> None:
    open_day(honolulu, MONDAY)
    first = free_slots(honolulu, MONDAY, datetime(2030, 1, 1, tzinfo=UTC))[0]
    assert str(first.slot_id) == "honolulu:2030-01-07T07:45"
    assert first.start.isoformat() == "2030-01-07T07:45:00-10:00"


def test_free_slots_hide_full_slots(honolulu: Office) -> None:
    # Given a slot booked to capacity and one with a seat left
    open_day(honolulu, MONDAY)
    key = office_day(honolulu.office_id, MONDAY)
    SlotModel.get(key, "07:45").update(actions=[SlotModel.booked.set(honolulu.capacity)])
    SlotModel.get(key, "08:05").update(actions=[SlotModel.booked.set(honolulu.capacity - 1)])
    # When the free slots are listed
    listed = {
        slot.slot_id.start_time: slot
        for slot in free_slots(honolulu, MONDAY, datetime(2030, 1, 1, tzinfo=UTC))
    }
    # Then the full slot is hidden and the other shows its remaining seats
    assert "07:45" not in listed
    assert listed["08:05"].available == 1


def test_free_slots_hide_slots_that_have_started(honolulu: Office) -> None:
    # Given an opened day, and "now" exactly at the third slot's start (08:25 Honolulu)
    open_day(honolulu, MONDAY)
    now = datetime(2030, 1, 7, 18, 25, tzinfo=UTC)
    # When the free slots are listed
    starts = [slot.slot_id.start_time for slot in free_slots(honolulu, MONDAY, now)]
    # Then the slots that started at or before now are hidden
    assert "07:45" not in starts
    assert "08:05" not in starts
    assert "08:25" not in starts
    assert starts[0] == "08:45"


def test_free_slots_are_empty_for_a_day_that_was_not_opened(honolulu: Office) -> None:
    assert free_slots(honolulu, MONDAY, datetime(2030, 1, 1, tzinfo=UTC)) == []
