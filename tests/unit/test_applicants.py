"""Applicant identity and phone numbers (appointments/applicants.py)."""

from __future__ import annotations

from datetime import date

import pytest

from appointments.applicants import applicant_key, normalise_name, normalise_phone
from appointments.errors import InvalidRequest

# --- Names -----------------------------------------------------------------------------------


def test_normalise_name_ignores_accents() -> None:
    assert normalise_name("José García") == normalise_name("Jose Garcia")


def test_normalise_name_ignores_case() -> None:
    assert normalise_name("MARIA GARCIA") == normalise_name("maria garcia")


def test_normalise_name_ignores_punctuation() -> None:
    assert normalise_name("García-Lopez, José.") == normalise_name("Garcia Lopez Jose")


def test_normalise_name_ignores_extra_spaces() -> None:
    assert normalise_name("  Maria \t  Garcia  ") == normalise_name("Maria Garcia")


def test_normalise_name_ignores_word_order() -> None:
    assert normalise_name("Garcia Maria") == normalise_name("Maria Garcia")


def test_normalise_name_keeps_different_names_apart() -> None:
    assert normalise_name("Maria Garcia") != normalise_name("Mario Garcia")


@pytest.mark.usefixtures("secret")
@pytest.mark.parametrize(
    "variant",
    ["garcia lopez, jose", "JOSÉ GARCÍA-LÓPEZ", "  José   García Lopez ", "Lopez Garcia Jose"],
)
def test_applicant_key_is_equal_for_variants_of_the_same_name(variant: str) -> None:
    # Given the same person written differently, with the same date of birth
    born = date(1985, 4, 12)
    # Then both bookings have the same applicant key
    assert applicant_key(variant, born) == applicant_key("José  García-Lopez", born)


@pytest.mark.usefixtures("secret")
def test_applicant_key_differs_for_another_date_of_birth() -> None:
    name = "José García-Lopez"
    assert applicant_key(name, date(1985, 4, 12)) != applicant_key(name, date(1985, 4, 13))


@pytest.mark.usefixtures("secret")
def test_applicant_key_does_not_contain_the_name() -> None:
    key = applicant_key("Maria Garcia", date(1985, 4, 12))
    assert "maria" not in key.lower()
    assert "garcia" not in key.lower()


# --- Phones ----------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["(202) 555-0143", "202-555-0143", "202 555 0143", "2025550143"])
def test_normalise_phone_reads_numbers_without_country_code_as_us(raw: str) -> None:
    assert normalise_phone(raw) == "+12025550143"


def test_normalise_phone_keeps_a_us_number_with_country_code() -> None:
    assert normalise_phone("+1 202 555 0143") == "+12025550143"


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("+44 20 7946 0958", "+442079460958"),
        ("+52 55 1234 5678", "+525512345678"),
    ],
)
def test_normalise_phone_keeps_international_numbers(raw: str, e164: str) -> None:
    assert normalise_phone(raw) == e164


@pytest.mark.parametrize("raw", ["12345", "+1 555 0100", "555-0100", "+1 555 010 0100"])
def test_normalise_phone_rejects_invalid_numbers(raw: str) -> None:
    with pytest.raises(InvalidRequest):
        normalise_phone(raw)


@pytest.mark.parametrize("raw", ["abc", "", "+"])
def test_normalise_phone_rejects_text_that_is_not_a_number(raw: str) -> None:
    with pytest.raises(InvalidRequest):
        normalise_phone(raw)
