"""The daily release on moto: what it opens, idempotency, dry runs, its cost, its log line."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime

import pytest

from appointments.models import SlotModel
from appointments.offices import Office
from appointments.release import release
from appointments.slots import slot_starts
from tests.helpers import LambdaContext, count_dynamodb_calls, load_function

# Thanksgiving, Thursday 2026-11-26, 17:00 in New York: the last run before Friday 27th starts.
THANKSGIVING_RELEASE = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)
FRIDAY = date(2026, 11, 27)


@pytest.fixture
def two_offices(offices: dict[str, Office]) -> list[Office]:
    return [offices["new-york"], offices["honolulu"]]


def slots_of(office: Office, day: date) -> dict[str, int]:
    return {
        slot.start_time: int(slot.booked)
        for slot in SlotModel.query(f"{office.office_id}#{day.isoformat()}")
    }


def test_release_opens_each_offices_next_business_day(two_offices: list[Office]) -> None:
    summary = release(THANKSGIVING_RELEASE, offices=two_offices)
    assert [(day.office_id, day.day) for day in summary.days] == [
        ("new-york", FRIDAY),
        ("honolulu", FRIDAY),
    ]
    for office in two_offices:
        assert sorted(slots_of(office, FRIDAY)) == slot_starts(office, FRIDAY)
    assert summary.slots_opened == sum(len(slot_starts(o, FRIDAY)) for o in two_offices)


def test_second_release_creates_nothing_and_keeps_bookings(two_offices: list[Office]) -> None:
    # Given a release, and a booking on one of its slots
    first = release(THANKSGIVING_RELEASE, offices=two_offices)
    office = two_offices[0]
    booked_start = slot_starts(office, FRIDAY)[0]
    SlotModel(f"{office.office_id}#{FRIDAY.isoformat()}", booked_start).update(
        actions=[SlotModel.booked.add(2)]
    )
    # When the release runs again
    second = release(THANKSGIVING_RELEASE, offices=two_offices)
    # Then it finds everything, creates nothing, and the booking is intact
    assert second.slots_opened == 0
    assert second.slots_present == first.slots_opened
    assert slots_of(office, FRIDAY)[booked_start] == 2


def test_dry_run_lists_without_writing(two_offices: list[Office]) -> None:
    summary = release(THANKSGIVING_RELEASE, offices=two_offices, dry_run=True)
    assert summary.slots_opened == sum(len(slot_starts(o, FRIDAY)) for o in two_offices)
    assert slots_of(two_offices[0], FRIDAY) == {}


def test_missed_days_inside_the_horizon_are_caught_up(two_offices: list[Office]) -> None:
    # Given a release with horizon 1 on Thursday, and none on Friday
    release(THANKSGIVING_RELEASE, offices=two_offices)
    # When Monday's release runs with a horizon of 3
    monday = datetime(2026, 11, 30, 22, 0, tzinfo=UTC)
    summary = release(monday, horizon=3, offices=two_offices)
    # Then it opens every business day inside the horizon that was not open yet
    assert sorted({day.day for day in summary.days}) == [
        date(2026, 12, 1),
        date(2026, 12, 2),
        date(2026, 12, 3),
    ]
    assert summary.slots_present == 0


def test_a_new_day_costs_one_request_per_office(two_offices: list[Office]) -> None:
    release(datetime(2026, 11, 20, 22, 0, tzinfo=UTC), offices=two_offices)  # warms caches
    with count_dynamodb_calls() as calls:
        release(THANKSGIVING_RELEASE, offices=two_offices)
    assert dict(calls) == {"TransactWriteItems": 2}


def test_release_function_logs_one_summary_line_and_publishes_counts(
    offices: dict[str, Office], log_output: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    # When the scheduled function runs with a dry run of two business days
    handler = load_function("release_slots").lambda_handler
    result = handler({"dryRun": True, "horizon": 2}, LambdaContext())
    # Then it answers with the counts, and logs them on one structured line
    lines = [json.loads(line) for line in log_output.getvalue().splitlines()]
    summaries = [line for line in lines if line["message"] == "slot release"]
    assert result["dryRun"] is True
    assert len(summaries) == 1
    assert summaries[0]["slots_opened"] == result["slotsOpened"] > 0
    assert summaries[0]["office_days"] == len(result["days"])
    assert (
        summaries[0]["offices"] == result["offices"] == len({d["officeId"] for d in result["days"]})
    )


def test_release_function_publishes_metrics(
    offices: dict[str, Office], capsys: pytest.CaptureFixture[str]
) -> None:
    handler = load_function("release_slots").lambda_handler
    result = handler({}, LambdaContext())
    metrics = [
        json.loads(line)
        for line in capsys.readouterr().out.splitlines()
        if line.startswith('{"_aws"')
    ]
    published = {name: value for blob in metrics for name, value in blob.items()}
    assert published["SlotsOpened"] == [float(result["slotsOpened"])]
    assert published["OfficeDaysReleased"] == [float(len(result["days"]))]


def test_every_completed_release_beats_with_no_shortfall(two_offices: list[Office]) -> None:
    # When the release opens the offices' next business day
    summary = release(THANKSGIVING_RELEASE, offices=two_offices)
    # Then it beats, and nothing due was left without a slot
    assert summary.metrics()["ReleaseHeartbeat"] == 1
    assert summary.metrics()["ReleaseShortfall"] == 0


def test_a_release_run_again_finds_its_days_open_and_has_no_shortfall(
    two_offices: list[Office],
) -> None:
    # Given a release that ran
    release(THANKSGIVING_RELEASE, offices=two_offices)
    # When it runs again (a retry, or by hand)
    again = release(THANKSGIVING_RELEASE, offices=two_offices)
    # Then it opened nothing, which is no shortfall: the days are open
    assert again.slots_opened == 0
    assert again.metrics()["ReleaseShortfall"] == 0


def test_a_release_that_finds_no_office_is_a_shortfall() -> None:
    # When the release runs while the offices table is empty
    summary = release(THANKSGIVING_RELEASE, offices=[])
    # Then the run beats (it ran) but counts a shortfall, which the release alarm reports
    assert summary.metrics()["ReleaseHeartbeat"] == 1
    assert summary.metrics()["ReleaseShortfall"] == 1


def test_an_office_day_due_that_opens_no_slot_is_a_shortfall(
    two_offices: list[Office], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given offices whose day due would open no slot (no times fit the day)
    monkeypatch.setattr("appointments.slots.slot_starts", lambda office, day: [])
    # When the release runs
    summary = release(THANKSGIVING_RELEASE, offices=two_offices)
    # Then each office day left empty is counted
    assert summary.metrics()["ReleaseShortfall"] == len(two_offices)


def test_the_weekends_dry_run_beats_without_counting_a_release(two_offices: list[Office]) -> None:
    # When the weekend's check runs (a dry run)
    saturday = datetime(2026, 11, 28, 22, 0, tzinfo=UTC)
    summary = release(saturday, offices=two_offices, dry_run=True)
    # Then it beats, and opens or counts nothing
    assert summary.metrics() == {"ReleaseHeartbeat": 1, "DryRunReleases": 1}
