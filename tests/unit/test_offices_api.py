"""GET /offices and GET /offices/{officeId}/slots through their handlers."""

from __future__ import annotations

import pytest

from tests.helpers import call, next_weekday

pytestmark = pytest.mark.usefixtures("open_slots")


def test_offices_for_a_zip_code_nearest_first_with_their_services() -> None:
    response = call("GET", "/offices", query={"zip": "96813"})
    assert response.status == 200
    first = response.body["offices"][0]
    assert first["officeId"] == "honolulu"
    assert first["address"]["postalCode"] == "96813"
    assert first["timeZone"] == "Pacific/Honolulu"
    assert "adit-stamp" in first["services"]
    assert first["distanceMiles"] < 5


def test_offices_for_a_country() -> None:
    response = call("GET", "/offices", query={"country": "mx"})
    assert [office["officeId"] for office in response.body["offices"]] == ["mexico-city"]


@pytest.mark.parametrize("query", [{}, {"zip": "96813", "country": "MX"}, {"zip": "abcde"}])
def test_offices_need_exactly_one_valid_place(query: dict[str, str]) -> None:
    response = call("GET", "/offices", query=query or None)
    assert response.status == 422
    assert response.body["error"] == "invalid_request"


def test_slots_carry_local_time_and_utc_offset() -> None:
    response = call(
        "GET",
        "/offices/honolulu/slots",
        query={"date": next_weekday().isoformat(), "service": "adit-stamp"},
    )
    slot = response.body["slots"][0]
    assert response.body["timeZone"] == "Pacific/Honolulu"
    assert slot["utcOffset"] == "-10:00"
    assert slot["start"].endswith("-10:00")
    assert slot["slotId"].startswith("honolulu:")


def test_slots_of_an_unknown_office_are_404() -> None:
    response = call(
        "GET", "/offices/atlantis/slots", query={"date": "2026-12-01", "service": "other"}
    )
    assert response.status == 404


def test_slots_for_a_service_the_office_does_not_offer_are_422() -> None:
    response = call(
        "GET", "/offices/honolulu/slots", query={"date": "2026-12-01", "service": "asylum"}
    )
    assert (response.status, response.body["error"]) == (422, "service_not_offered")
