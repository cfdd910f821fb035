"""The e-mailed download link: valid, expired, tampered, wrong letter, replaced letter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from appointments.errors import LinkInvalid
from appointments.links import make_token, read_token
from appointments.models import AppointmentModel
from tests.helpers import call
from tests.unit.test_booking_api import book, free_slots
from tests.unit.test_letters import deliver, stream_record

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
WEEK = timedelta(days=7)


@pytest.mark.usefixtures("aws")
def test_a_valid_token_names_its_letter() -> None:
    claims = read_token(make_token("7K2M9QX4TR8", "20261126T120000Z", NOW, WEEK), NOW)
    assert (claims.confirmation, claims.version) == ("7K2M9QX4TR8", "20261126T120000Z")
    assert claims.expires == NOW + WEEK


@pytest.mark.usefixtures("aws")
def test_an_expired_token_is_refused() -> None:
    token = make_token("7K2M9QX4TR8", "v1", NOW, WEEK)
    with pytest.raises(LinkInvalid):
        read_token(token, NOW + WEEK + timedelta(seconds=1))


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("position", [0, 5, 20, -1, -10])
def test_a_tampered_token_is_refused(position: int) -> None:
    token = make_token("7K2M9QX4TR8", "v1", NOW, WEEK)
    flipped = "A" if token[position] != "A" else "B"
    tampered = (
        token[:position] + flipped + token[position + 1 :]
        if position >= 0
        else (token[:position] + flipped + (token[position + 1 :] if position != -1 else ""))
    )
    with pytest.raises(LinkInvalid):
        read_token(tampered, NOW)


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("garbage", ["", ".", "abc", "x.y.z", "%%%.###"])
def test_garbage_is_refused(garbage: str) -> None:
    with pytest.raises(LinkInvalid):
        read_token(garbage, NOW)


@pytest.mark.usefixtures("open_slots")
def test_the_link_redirects_to_the_current_letter_even_after_a_reschedule() -> None:
    # Given a booking with its letter, and the link of that first letter
    booked = book()
    first = AppointmentModel.get(booked["confirmationNumber"])
    deliver(stream_record("INSERT", first))
    rendered = AppointmentModel.get(first.confirmation)
    assert rendered.letter_version is not None
    token = make_token(first.confirmation, rendered.letter_version, datetime.now(UTC), WEEK)
    # When the appointment moves and gets a new letter
    call(
        "PUT",
        f"/appointments/{first.confirmation}/slot",
        body={"slotId": free_slots()[1]["slotId"]},
        headers={"X-Appointment-Pin": booked["pin"]},
    )
    moved = AppointmentModel.get(first.confirmation)
    deliver(stream_record("MODIFY", moved, rendered))
    response = call("GET", f"/letters/{token}")
    # Then the old link leads to the new letter
    current = AppointmentModel.get(first.confirmation)
    assert response.status == 302
    assert current.letter_key is not None
    assert current.letter_key in response.headers["location"]
    assert current.letter_version != rendered.letter_version


@pytest.mark.usefixtures("open_slots")
def test_a_link_naming_a_letter_that_does_not_exist_is_refused() -> None:
    booked = book()
    appointment = AppointmentModel.get(booked["confirmationNumber"])
    deliver(stream_record("INSERT", appointment))
    token = make_token(appointment.confirmation, "99991231T000000Z", datetime.now(UTC), WEEK)
    response = call("GET", f"/letters/{token}")
    assert (response.status, response.body["error"]) == (403, "link_invalid")


@pytest.mark.usefixtures("open_slots")
def test_a_tampered_link_gets_403_and_reveals_nothing() -> None:
    response = call("GET", "/letters/N0tAReaLT0ken.deadbeef")
    assert response.status == 403
    assert response.body == {
        "error": "link_invalid",
        "message": "This link is not valid or has expired. Download the notice with your "
        "confirmation number and PIN instead.",
    }
