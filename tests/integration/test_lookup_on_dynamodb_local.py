"""Notice lookups on DynamoDB Local: the match is decided by the conditions of the updates
every lookup sends, and a miss creates no item."""

from __future__ import annotations

from datetime import UTC, date, datetime

from appointments import lookup
from appointments.models import ApplicantModel, AppointmentModel
from appointments.offices import Office
from tests.helpers import book_numbered, slot_with_capacity


def test_a_match_requests_the_notice_three_times_an_hour_and_a_miss_writes_nothing(
    offices: dict[str, Office],
) -> None:
    # Given an appointment (applicant "Applicant Number1", born 1990-01-01, phone +12025550001)
    booked = book_numbered(slot_with_capacity(offices["new-york"], capacity=3), 1)
    name, born, phone = "Applicant Number1", date(1990, 1, 1), "+12025550001"
    now = datetime.now(UTC)
    # When it is looked up five times, and details matching nothing are looked up too
    matches = [lookup.request_notice(name, born, phone, now=now) for _ in range(5)]
    misses = [
        lookup.request_notice(name, born, "+12025550002", now=now),
        lookup.request_notice("Nobody Here", born, phone, now=now),
    ]
    # Then the first three matches requested the notice, and the misses created nothing
    assert matches == [True, True, True, False, False]
    assert misses == [False, False]
    stored = AppointmentModel.get(booked.appointment.confirmation_number, consistent_read=True)
    assert stored.notice_requested_at == now
    assert len(list(ApplicantModel.scan())) == 2  # the appointment's: its person's, its phone's
    assert len(list(AppointmentModel.scan())) == 1
