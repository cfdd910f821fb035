"""The e-mailed download link: valid, expired, tampered, wrong notice, replaced notice."""

from __future__ import annotations

import base64
import string
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appointments.errors import LinkInvalid
from appointments.links import make_token, read_token
from appointments.models import AppointmentModel
from tests.helpers import book, call, deliver, free_slots, stream_record

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
WEEK = timedelta(days=7)
REFUSED = {
    "error": "link_invalid",
    "message": "This link is not valid or has expired. Download the notice with your "
    "confirmation number and PIN instead.",
}
# What a URL path segment carries unescaped (RFC 3986 pchar), and the percent sign.
PATH_SEGMENT = string.ascii_letters + string.digits + "-._~!$&'()*+,;=:@%"
tokens = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def forged(confirmation_number: str, version: str, expires: str, signature: str) -> str:
    """A token in the service's format, signed by someone without the secret."""
    payload = f"{confirmation_number}.{version}.{expires}".encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=") + "." + signature


forged_tokens = st.builds(
    forged,
    confirmation_number=st.text(max_size=12),
    version=st.text(max_size=20),
    expires=st.integers().map(str) | st.integers(min_value=2**63).map(str) | st.text(max_size=12),
    signature=st.text(alphabet="0123456789abcdef", max_size=43)
    | st.text(alphabet=PATH_SEGMENT, max_size=43),
)


@pytest.mark.usefixtures("aws")
def test_a_valid_token_names_its_notice() -> None:
    claims = read_token(make_token("7K2M9QX4TR8", "20261126T120000Z", NOW, WEEK), NOW)
    assert (claims.confirmation_number, claims.version) == ("7K2M9QX4TR8", "20261126T120000Z")
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


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("expires", ["9" * 400, "-" + "9" * 30, "1e3"])
def test_a_forged_token_with_any_expiry_gets_the_tampered_answer(expires: str) -> None:
    # Given a token in the service's format with an unreadable expiry and a made-up signature
    token = forged("7K2M9QX4TR8", "20261126T120000Z", expires, "0" * 43)
    # When its link is opened
    response = call("GET", f"/notices/{token}")
    # Then it is refused exactly like a tampered link
    assert (response.status, response.body) == (403, REFUSED)


@pytest.mark.usefixtures("aws")
@tokens
@given(token=forged_tokens | st.text(alphabet=PATH_SEGMENT, min_size=1, max_size=80))
def test_any_token_the_service_did_not_sign_gets_the_tampered_answer(token: str) -> None:
    response = call("GET", f"/notices/{token}")
    assert (response.status, response.body) == (403, REFUSED)


@pytest.mark.usefixtures("aws")
@tokens
@given(token=st.text(min_size=1, max_size=80).filter(lambda text: "/" not in text))
def test_any_text_as_a_token_is_refused_without_a_server_error(token: str) -> None:
    response = call("GET", f"/notices/{token}")
    assert response.status in {403, 404}, response.body
    assert set(response.body) == {"error", "message"}


@pytest.mark.usefixtures("open_slots")
def test_the_link_redirects_to_the_current_notice_even_after_a_reschedule() -> None:
    # Given a booking with its notice, and the link of that first notice
    booked = book()
    first = AppointmentModel.get(booked["confirmationNumber"])
    deliver(stream_record("INSERT", first))
    rendered = AppointmentModel.get(first.confirmation_number)
    assert rendered.notice_version is not None
    token = make_token(first.confirmation_number, rendered.notice_version, datetime.now(UTC), WEEK)
    # When the appointment moves and gets a new notice
    call(
        "PUT",
        f"/appointments/{first.confirmation_number}/slot",
        body={"slotId": free_slots()[1]["slotId"]},
        headers={"X-Appointment-Pin": booked["pin"]},
    )
    moved = AppointmentModel.get(first.confirmation_number)
    deliver(stream_record("MODIFY", moved, rendered))
    response = call("GET", f"/notices/{token}")
    # Then the old link leads to the new notice
    current = AppointmentModel.get(first.confirmation_number)
    assert response.status == 302
    assert current.notice_key is not None
    assert current.notice_key in response.headers["location"]
    assert current.notice_version != rendered.notice_version


@pytest.mark.usefixtures("open_slots")
def test_a_link_naming_a_notice_that_does_not_exist_is_refused() -> None:
    booked = book()
    appointment = AppointmentModel.get(booked["confirmationNumber"])
    deliver(stream_record("INSERT", appointment))
    token = make_token(appointment.confirmation_number, "99991231T000000Z", datetime.now(UTC), WEEK)
    response = call("GET", f"/notices/{token}")
    assert (response.status, response.body["error"]) == (403, "link_invalid")


@pytest.mark.usefixtures("open_slots")
def test_a_tampered_link_gets_403_and_reveals_nothing() -> None:
    response = call("GET", "/notices/N0tAReaLT0ken.deadbeef")
    assert (response.status, response.body) == (403, REFUSED)
