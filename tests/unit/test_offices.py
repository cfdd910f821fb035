"""Finding the office for a ZIP code or a country (appointments/offices.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from appointments.errors import InvalidRequest, NotFound
from appointments.offices import (
    ASYLUM_OFFICE,
    FIELD_OFFICE,
    OfficeMatch,
    is_military_mail_zip,
    offices_for_country,
    offices_for_zip,
)
from infra.tools.seed import seed_offices
from tests.helpers import make_resources, reset_connections


@pytest.fixture(scope="module", autouse=True)
def catalogue_on_moto() -> Iterator[None]:
    """The seeded catalogue (infra/data/offices.json) on moto, shared by the module: these tests
    only read it. Same set-up as the `offices` fixture, once per module instead of per test."""
    with mock_aws():
        reset_connections()
        make_resources()
        seed_offices()
        yield
    reset_connections()


def ids(matches: list[OfficeMatch]) -> list[str]:
    return [match.office.office_id for match in matches]


def field_offices(matches: list[OfficeMatch]) -> list[OfficeMatch]:
    return [match for match in matches if match.office.kind == FIELD_OFFICE]


# --- ZIP codes -------------------------------------------------------------------------------


def test_honolulu_zip_gives_honolulu_first() -> None:
    assert ids(offices_for_zip("96813"))[0] == "honolulu"


def test_new_york_zip_gives_new_york_first() -> None:
    assert ids(offices_for_zip("10001"))[0] == "new-york"


def test_virginia_zip_lists_arlington_asylum_after_the_field_offices() -> None:
    # Given an Arlington, VA ZIP code
    matches = offices_for_zip("22201")
    kinds = [match.office.kind for match in matches]
    # Then the field office(s) come first and the asylum office serving VA follows them
    assert "arlington-asylum" in ids(matches)
    assert kinds[0] == FIELD_OFFICE
    assert ids(matches)[0] == "fairfax"
    first_asylum = kinds.index(ASYLUM_OFFICE)
    assert all(kind == FIELD_OFFICE for kind in kinds[:first_asylum])
    assert all(kind != FIELD_OFFICE for kind in kinds[first_asylum:])


@pytest.mark.parametrize("zip_code", ["22201", "94103", "90012", "75201", "77002"])
def test_field_offices_are_listed_nearest_first(zip_code: str) -> None:
    distances = [match.distance_miles for match in field_offices(offices_for_zip(zip_code))]
    assert distances
    assert all(distance is not None for distance in distances)
    assert distances == sorted(distances)  # type: ignore[type-var]


@pytest.mark.parametrize(
    ("zip_code", "nearest"),
    [("94103", "san-francisco"), ("90012", "los-angeles"), ("75201", "dallas")],
)
def test_state_served_by_two_field_offices_gives_the_nearest_first(
    zip_code: str, nearest: str
) -> None:
    assert ids(offices_for_zip(zip_code))[0] == nearest


def test_zip_lists_only_offices_serving_its_state() -> None:
    matches = offices_for_zip("10001")
    assert all("NY" in match.office.serves_states for match in matches)
    assert "boston" not in ids(matches)


def test_nearby_office_distance_is_small() -> None:
    match = offices_for_zip("10001")[0]
    assert match.distance_miles is not None
    assert match.distance_miles < 10


@pytest.mark.parametrize("zip_code", ["1234", "123456", "abcde", "", "1000-1"])
def test_malformed_zip_is_invalid_request(zip_code: str) -> None:
    with pytest.raises(InvalidRequest):
        offices_for_zip(zip_code)


def test_unknown_zip_is_not_found() -> None:
    with pytest.raises(NotFound):
        offices_for_zip("00000")


@pytest.mark.parametrize(
    ("zip_code", "military"),
    [("09012", True), ("34001", True), ("96201", True), ("96799", False), ("10001", False),
     ("00000", False), ("1234", False)],
)  # fmt: skip
def test_apo_fpo_and_dpo_zip_codes_are_military_mail(zip_code: str, military: bool) -> None:
    # APO/FPO/DPO (Europe, the Americas, the Pacific) but not American Samoa or New York
    assert is_military_mail_zip(zip_code) is military


# --- Countries -------------------------------------------------------------------------------


@pytest.mark.parametrize("country", ["mx", "MX", " Mx "])
def test_mexico_is_served_by_mexico_city(country: str) -> None:
    assert ids(offices_for_country(country)) == ["mexico-city"]


def test_country_matches_have_no_distance() -> None:
    assert all(match.distance_miles is None for match in offices_for_country("KE"))


def test_country_without_an_office_gives_an_empty_list() -> None:
    assert offices_for_country("XX") == []


@pytest.mark.parametrize("country", ["Mexico", "M", "MEX", "1X", ""])
def test_country_that_is_not_a_two_letter_code_is_invalid_request(country: str) -> None:
    with pytest.raises(InvalidRequest):
        offices_for_country(country)
