"""The daily release on DynamoDB Local: concurrent runs, bookings kept, then booking."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from appointments.models import SlotModel
from appointments.offices import Office
from appointments.release import release
from tests.helpers import applicant, booking_body, call


def all_slots() -> dict[tuple[str, str], int]:
    return {(slot.office_day, slot.start_time): int(slot.booked) for slot in SlotModel.scan()}


def test_parallel_releases_create_each_slot_once(offices: dict[str, Office]) -> None:
    # Given the whole catalogue, and four releases of the same moment at once
    now = datetime.now(UTC)
    with ThreadPoolExecutor(max_workers=4) as pool:
        summaries = list(pool.map(lambda _: release(now), range(4)))
    # Then every slot exists once, and between them the runs created each slot exactly once
    expected = summaries[0].slots_opened + summaries[0].slots_present
    assert len(all_slots()) == expected
    assert sum(summary.slots_opened for summary in summaries) == expected
    assert all(summary.slots_opened + summary.slots_present == expected for summary in summaries)


def test_release_racing_a_booking_keeps_the_booking(offices: dict[str, Office]) -> None:
    # Given a released day and a booking in it
    now = datetime.now(UTC)
    day = release(now, horizon=3, offices=[offices["new-york"]]).days[-1].day
    listing = call(
        "GET",
        "/offices/new-york/slots",
        query={"date": day.isoformat(), "service": "adit-stamp"},
    ).body["slots"]
    booked = call("POST", "/appointments", body=booking_body(listing[0]["slotId"]))
    # When the release runs again, twice at once
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda _: release(now, horizon=3, offices=[offices["new-york"]]), range(2)))
    # Then the booked seat is still taken
    assert booked.status == 201
    after = call(
        "GET",
        "/offices/new-york/slots",
        query={"date": day.isoformat(), "service": "adit-stamp"},
    ).body["slots"]
    seats = {slot["slotId"]: slot["available"] for slot in after}
    assert seats.get(listing[0]["slotId"], 0) == listing[0]["available"] - 1


def test_released_slots_can_be_booked_through_the_api(offices: dict[str, Office]) -> None:
    # Given a release of Honolulu's coming days
    honolulu = offices["honolulu"]
    day = release(datetime.now(UTC), horizon=3, offices=[honolulu]).days[-1].day
    # When a person lists and books a released slot
    listing = call(
        "GET", "/offices/honolulu/slots", query={"date": day.isoformat(), "service": "other"}
    )
    booked = call(
        "POST",
        "/appointments",
        body=booking_body(
            listing.body["slots"][0]["slotId"],
            service="other",
            applicant=applicant(phone="+18085550100"),
        ),
    )
    # Then it is booked in Honolulu time
    assert listing.status == 200
    assert booked.status == 201, booked.body
    assert booked.body["start"].endswith("-10:00")
