"""Taking a seat costs a solved challenge or, without JavaScript, a ripe time-lock
(challenges.py, site/proofs.py): through the API and the site as clients use them."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import altcha
import pytest

from appointments import challenges, codes
from appointments.models import AppointmentModel
from appointments.site import proofs
from tests.helpers import (
    SiteVisitor,
    applicant,
    book,
    booking_body,
    call,
    first_free_slot,
    free_slots,
    solve,
    solved_challenge,
)

pytestmark = pytest.mark.usefixtures("open_slots")


def _book_with(challenge: str, name: str = "Ana Lima") -> Any:
    body = booking_body(
        first_free_slot(), applicant=applicant(name=name, dob="1990-02-03"), challenge=challenge
    )
    return call("POST", "/appointments", body=body)


def _refused_as_challenge(response: Any) -> None:
    assert (response.status, response.body["error"]) == (403, "challenge_failed"), response.body
    assert AppointmentModel.count() == 0


def test_a_booking_without_a_challenge_is_refused() -> None:
    body = booking_body(first_free_slot())
    body["challenge"] = None
    response = call("POST", "/appointments", body=body)
    assert response.status == 422
    assert "challenge" in response.body["message"]
    assert AppointmentModel.count() == 0


def test_a_wrong_solution_is_refused_and_books_nothing() -> None:
    # Given a challenge answered with the wrong counter
    payload = json.loads(base64.b64decode(solved_challenge()))
    payload["solution"]["counter"] += 1
    payload["solution"]["derivedKey"] = "00" * 32
    # When it is sent with a booking
    response = _book_with(base64.b64encode(json.dumps(payload).encode()).decode())
    # Then the booking is refused
    _refused_as_challenge(response)


def test_a_challenge_the_client_changed_is_refused() -> None:
    # Given a challenge whose expiry the client moved a day later before solving it
    challenge = call("GET", "/challenge").body
    challenge["parameters"]["expiresAt"] += 86_400
    # When its solution is sent
    response = _book_with(solve(challenge))
    # Then the signature no longer matches, and nothing is booked
    _refused_as_challenge(response)


def test_an_expired_challenge_is_refused() -> None:
    # Given a challenge of the service that expired a minute ago
    expired = altcha.create_challenge(
        challenges.ALGORITHM,
        challenges.PBKDF2_ITERATIONS,
        counter=3,
        expires_at=datetime.now(UTC) - timedelta(minutes=1),
        hmac_secret=bytes.fromhex(codes.digest("altcha-challenge")),
        hmac_key_secret=bytes.fromhex(codes.digest("altcha-key")),
    )
    # When it is solved and sent
    response = _book_with(solve(expired.to_dict()))
    # Then it is refused
    _refused_as_challenge(response)
    assert "expired" in response.body["message"]


def test_a_solved_challenge_takes_one_seat_once() -> None:
    # Given a booking made with a solved challenge
    solved = solved_challenge()
    assert _book_with(solved).status == 201
    # When the same solution is sent again, for someone else
    replayed = _book_with(solved, name="Rui Lima")
    # Then it is refused, and only the first booking holds a seat
    assert (replayed.status, replayed.body["error"]) == (403, "challenge_failed")
    assert "already used" in replayed.body["message"]
    assert AppointmentModel.count() == 1


def test_a_retry_with_the_same_idempotency_key_and_challenge_returns_the_booking() -> None:
    # Given a booking sent with an Idempotency-Key and a solved challenge
    body = booking_body(first_free_slot(), challenge=solved_challenge())
    key = {"Idempotency-Key": "b7e0d8a2-7a53-4c52-9e0c-2f3d1c6f0a11"}
    first = call("POST", "/appointments", body=body, headers=key)
    # When the client retries it unchanged (its answer was lost)
    again = call("POST", "/appointments", body=body, headers=key)
    # Then the retry gets the same appointment, not a refusal of the spent challenge
    assert (first.status, again.status) == (201, 201)
    assert again.body["confirmationNumber"] == first.body["confirmationNumber"]


def test_a_move_with_a_spent_challenge_is_refused_and_keeps_the_seat() -> None:
    # Given an appointment, and a challenge already spent on a booking
    first, second = free_slots()[:2]
    booked = book(first["slotId"])
    spent = solved_challenge()
    assert _book_with(spent).status == 201
    # When the appointment is moved with that challenge
    response = call(
        "PUT",
        f"/appointments/{booked['confirmationNumber']}/slot",
        body={"slotId": second["slotId"], "challenge": spent},
        headers={"X-Appointment-Pin": booked["pin"]},
    )
    # Then it is refused and stays where it was
    assert (response.status, response.body["error"]) == (403, "challenge_failed")
    assert AppointmentModel.get(booked["confirmationNumber"]).slot_id == first["slotId"]


def test_the_work_rises_with_demand_and_is_light_the_rest_of_the_day() -> None:
    # Given the release minute, when many challenges are asked for
    release = datetime(2026, 12, 1, 22, 0, 5, tzinfo=UTC)
    for _ in range(400):
        demand = challenges.measured_demand(release)
    # Then the work of a challenge is far above the calm day's
    calm_work = challenges.work_for(0.0)
    assert challenges.work_for(challenges.rush_level(demand)) > 10 * calm_work
    # And a few minutes later, with one person asking, it is calm again
    later = challenges.measured_demand(release + timedelta(minutes=3))
    assert challenges.work_for(challenges.rush_level(later)) == calm_work


def test_the_challenge_names_its_expiry_and_is_never_cached() -> None:
    response = call("GET", "/challenge")
    assert response.status == 200
    assert response.headers["cache-control"] == "no-store"
    expires = datetime.fromtimestamp(response.body["parameters"]["expiresAt"], UTC)
    assert timedelta(minutes=25) < expires - datetime.now(UTC) <= timedelta(minutes=30)


# ----------------------------------------------------------------- the site without JavaScript


def _details_form(visitor: SiteVisitor, slot: str) -> dict[str, str]:
    page = visitor.get("/en/book/details", query={"slot": slot, "service": "adit-stamp"})
    time_lock = page.hidden_field("time_lock")
    assert time_lock
    person = {"name": "Ana Lima", "dob-month": "2", "dob-day": "3", "dob-year": "1990",
              "phone": "+12025550166", "email": "", "language": "en"}  # fmt: skip
    return {"slot": slot, "service": "adit-stamp", "time_lock": time_lock, **person}


def test_without_javascript_a_booking_sent_at_once_is_asked_to_wait() -> None:
    # Given a browser without JavaScript that sends the details form at once
    visitor = SiteVisitor(widget=False)
    visitor.post("/en/book/details", _details_form(visitor, first_free_slot()))
    # When it confirms
    page = visitor.post("/en/book/confirm", {})
    # Then it is asked to wait, with a Continue button that sends the confirmation again,
    # and nothing is booked
    assert page.status == 200
    assert "One moment, please" in page.text
    assert 'action="/en/book/confirm"' in page.html
    assert "Seconds left to wait: " in page.text
    assert AppointmentModel.count() == 0


def test_without_javascript_a_ripe_time_lock_books() -> None:
    # Given a details form shown a minute ago (its time-lock is ripe)
    visitor = SiteVisitor(widget=False)
    form = _details_form(visitor, first_free_slot())
    form["time_lock"] = proofs.new_time_lock(datetime.now(UTC) - timedelta(minutes=1))
    visitor.post("/en/book/details", form)
    # When it confirms
    page = visitor.post("/en/book/confirm", {})
    # Then it is booked
    assert page.status == 303
    assert page.headers["location"] == "/en/book/confirmation"
    assert AppointmentModel.count() == 1


def test_a_time_lock_takes_one_seat_once() -> None:
    # Given a ripe time-lock that already booked
    ripe = proofs.new_time_lock(datetime.now(UTC) - timedelta(minutes=1))
    first = SiteVisitor(widget=False)
    first.post("/en/book/details", _details_form(first, first_free_slot()) | {"time_lock": ripe})
    assert first.post("/en/book/confirm", {}).status == 303
    # When another browser sends it with other details
    other = SiteVisitor(widget=False)
    form = _details_form(other, first_free_slot()) | {"time_lock": ripe}
    form |= {"name": "Rui Lima", "phone": "+12025550167"}
    other.post("/en/book/details", form)
    page = other.post("/en/book/confirm", {})
    # Then it is refused, and only the first booking was made
    assert page.status == 403
    assert AppointmentModel.count() == 1


def test_without_javascript_a_move_sent_at_once_is_asked_to_wait_and_keeps_the_time() -> None:
    # Given an appointment and its holder signed in, without JavaScript
    first, second = (slot["slotId"] for slot in free_slots()[:2])
    booked = book(first)
    visitor = SiteVisitor(widget=False)
    visitor.get("/en/appointment/sign-in")
    visitor.post(
        "/en/appointment/sign-in",
        {"confirmation_number": booked["confirmationNumber"], "pin": booked["pin"]},
    )
    day = second.split(":", 1)[1].split("T")[0]
    times = visitor.get("/en/appointment/times", query={"date": day})
    time_lock = times.hidden_field("time_lock") or ""
    # When the new time is sent at once
    page = visitor.post(
        "/en/appointment/reschedule", {"date": day, "slot": second, "time_lock": time_lock}
    )
    # Then it is asked to wait, the form's fields kept for Continue, and nothing moved
    assert page.status == 200
    assert "One moment, please" in page.text
    assert f'value="{second}"' in page.html
    assert AppointmentModel.get(booked["confirmationNumber"]).slot_id == first


# ------------------------------------------------------------------------------------ signals


def _published(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith('{"_aws"')]


def test_refusals_are_counted_by_reason(capsys: pytest.CaptureFixture[str]) -> None:
    # Given a spent challenge
    solved = solved_challenge()
    assert _book_with(solved).status == 201
    capsys.readouterr()
    # When it is replayed
    _book_with(solved, name="Rui Lima")
    # Then a refusal is counted with its reason
    refusals = [blob for blob in _published(capsys.readouterr().out) if "Refusals" in blob]
    assert [blob["reason"] for blob in refusals] == ["challenge_used"]


def test_a_booking_counts_how_long_after_its_release_the_seat_went(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # When a seat of a released day is booked
    capsys.readouterr()
    assert _book_with(solved_challenge()).status == 201
    # Then the seconds since the release that opened the day are published
    blobs = [blob for blob in _published(capsys.readouterr().out) if "SecondsAfterRelease" in blob]
    (seconds,) = blobs[0]["SecondsAfterRelease"]
    assert 0 <= seconds < 8 * 86_400
