"""Confirmation numbers, PINs and keyed digests (appointments/codes.py)."""

from __future__ import annotations

import pytest

from appointments.codes import (
    ALPHABET,
    check_character,
    confirmation_from_bits,
    derived_confirmation_number,
    derived_pin,
    new_confirmation_number,
    new_pin,
    normalise_confirmation_number,
    pin_hash,
)

# Numbers whose check characters are verified below; built from chosen payloads so that the
# examples do not depend on randomness.
SAMPLE_PAYLOADS = ("0123456789", "ABCDEFGHJK", "ZZZZZZZZZZ", "MNPQRSTVWX")


def with_check(payload: str) -> str:
    return payload + check_character(payload)


def has_valid_check(number: str) -> bool:
    return check_character(number[:-1]) == number[-1]


# --- Shape of confirmation numbers -------------------------------------------------------


def test_new_confirmation_number_is_11_crockford_chars_with_valid_check_char() -> None:
    for _ in range(50):
        # When a confirmation number is generated
        number = new_confirmation_number()
        # Then it is 11 characters of the Crockford alphabet, the last one the check char
        assert len(number) == 11
        assert set(number) <= set(ALPHABET)
        assert has_valid_check(number)


def test_new_confirmation_number_is_already_in_canonical_form() -> None:
    number = new_confirmation_number()
    assert normalise_confirmation_number(number) == number


def test_confirmation_numbers_carry_at_least_50_bits() -> None:
    # Given the smallest and largest 50-bit values, and two values differing in the top bit
    # When they are turned into confirmation numbers
    numbers = {
        confirmation_from_bits(0),
        confirmation_from_bits((1 << 50) - 1),
        confirmation_from_bits(1 << 49),
        confirmation_from_bits((1 << 49) - 1),
    }
    # Then every one of those 50 bits shows in the number
    assert len(numbers) == 4


def test_1000_generated_confirmation_numbers_are_unique() -> None:
    numbers = {new_confirmation_number() for _ in range(1000)}
    assert len(numbers) == 1000


# --- The check character -----------------------------------------------------------------


@pytest.mark.parametrize("payload", SAMPLE_PAYLOADS)
def test_check_char_catches_every_single_character_substitution(payload: str) -> None:
    # Given a valid confirmation number
    number = with_check(payload)
    # When any one character (check char included) is replaced by any other character
    for position in range(len(number)):
        for replacement in ALPHABET:
            if replacement == number[position]:
                continue
            typo = number[:position] + replacement + number[position + 1 :]
            # Then the mistyped number is rejected
            assert normalise_confirmation_number(typo) is None, typo


@pytest.mark.parametrize(
    ("number", "swapped"),
    [
        # "0123456789T" with its first two characters swapped
        ("0123456789T", "1023456789T"),
        # ... and with its last two payload characters swapped
        ("0123456789T", "0123456798T"),
    ],
)
def test_check_char_catches_adjacent_transposition_example(number: str, swapped: str) -> None:
    # Given a valid number
    assert normalise_confirmation_number(number) == number
    # When two neighbouring, different characters are swapped
    # Then the result is rejected
    assert normalise_confirmation_number(swapped) is None


def test_check_char_catches_adjacent_transpositions_except_zero_and_z() -> None:
    # Given numbers holding every ordered pair of distinct characters side by side, at the
    # start of the payload (pair at an odd/even weight) and at its end (the other way round)
    missed = set()
    for first in ALPHABET:
        for second in ALPHABET:
            if first == second:
                continue
            for position, payload in (
                (0, f"{first}{second}ABCDEFGH"),
                (8, f"ABCDEFGH{first}{second}"),
            ):
                number = with_check(payload)
                # When the pair is swapped
                swapped = number[:position] + second + first + number[position + 2 :]
                if normalise_confirmation_number(swapped) is not None:
                    missed.add(frozenset((first, second)))
    # Then only the 0 <-> Z swap escapes the check (Luhn mod 32's blind spot, like 0 <-> 9)
    assert missed <= {frozenset("0Z")}


# --- Reading what a person types ---------------------------------------------------------


@pytest.fixture
def number() -> str:
    return with_check("ABCDEFGHJK")


def test_normalise_accepts_lowercase(number: str) -> None:
    assert normalise_confirmation_number(number.lower()) == number


def test_normalise_accepts_dashes(number: str) -> None:
    typed = f"{number[:4]}-{number[4:8]}-{number[8:]}"
    assert normalise_confirmation_number(typed) == number


def test_normalise_accepts_spaces_and_surrounding_whitespace(number: str) -> None:
    typed = f"  {number[:4]} {number[4:8]}  {number[8:]}\n"
    assert normalise_confirmation_number(typed) == number


@pytest.mark.parametrize(("typed_for_one", "typed_for_zero"), [("I", "O"), ("L", "O"), ("l", "o")])
def test_normalise_reads_i_and_l_as_one_and_o_as_zero(
    typed_for_one: str, typed_for_zero: str
) -> None:
    # Given a number containing the digits 1 and 0
    number = with_check("10ABCDEF01")
    # When the person types I or L for 1 and O for 0
    typed = number.replace("1", typed_for_one).replace("0", typed_for_zero)
    # Then the number is still recognised
    assert normalise_confirmation_number(typed) == number


def test_normalise_rejects_a_number_that_is_too_short(number: str) -> None:
    assert normalise_confirmation_number(number[:-1]) is None


def test_normalise_rejects_a_number_that_is_too_long(number: str) -> None:
    assert normalise_confirmation_number(number + "0") is None


def test_normalise_rejects_an_empty_string() -> None:
    assert normalise_confirmation_number("") is None


def test_normalise_rejects_a_wrong_check_char(number: str) -> None:
    wrong = next(char for char in ALPHABET if char != number[-1])
    assert normalise_confirmation_number(number[:-1] + wrong) is None


def test_normalise_rejects_characters_outside_the_alphabet(number: str) -> None:
    assert normalise_confirmation_number("U" + number[1:]) is None
    assert normalise_confirmation_number("*" + number[1:]) is None


# --- PINs ----------------------------------------------------------------------------------


def test_new_pin_is_six_digits() -> None:
    for _ in range(200):
        pin = new_pin()
        assert len(pin) == 6
        assert pin.isdigit()


@pytest.mark.usefixtures("secret")
def test_pin_hash_does_not_contain_the_pin() -> None:
    # Given a PIN for a confirmation number
    confirmation_number, pin = with_check("ABCDEFGHJK"), "123456"
    # When it is hashed
    hashed = pin_hash(confirmation_number, pin)
    # Then the stored value does not reveal it
    assert hashed != pin
    assert pin not in hashed


@pytest.mark.usefixtures("secret")
def test_pin_hash_is_stable_for_the_same_confirmation_and_pin() -> None:
    confirmation_number = with_check("ABCDEFGHJK")
    assert pin_hash(confirmation_number, "123456") == pin_hash(confirmation_number, "123456")


@pytest.mark.usefixtures("secret")
def test_pin_hash_differs_per_confirmation_number() -> None:
    # Given the same PIN on two appointments
    first, second = with_check("ABCDEFGHJK"), with_check("0123456789")
    # Then the stored hashes differ
    assert pin_hash(first, "123456") != pin_hash(second, "123456")


# --- Values derived from an Idempotency-Key --------------------------------------------


@pytest.mark.usefixtures("secret")
def test_derived_confirmation_number_is_stable_for_the_same_key() -> None:
    key = "7f1c1d6e-0b7e-4f55-9a57-2f3b8e0c9d11"
    assert derived_confirmation_number(key) == derived_confirmation_number(key)


@pytest.mark.usefixtures("secret")
def test_derived_confirmation_number_is_a_valid_confirmation_number() -> None:
    number = derived_confirmation_number("some-key")
    assert len(number) == 11
    assert normalise_confirmation_number(number) == number


@pytest.mark.usefixtures("secret")
def test_derived_confirmation_number_differs_for_different_keys() -> None:
    assert derived_confirmation_number("key-one") != derived_confirmation_number("key-two")


@pytest.mark.usefixtures("secret")
def test_derived_pin_is_stable_for_the_same_key_and_six_digits() -> None:
    key = "7f1c1d6e-0b7e-4f55-9a57-2f3b8e0c9d11"
    pin = derived_pin(key)
    assert pin == derived_pin(key)
    assert len(pin) == 6
    assert pin.isdigit()


@pytest.mark.usefixtures("secret")
def test_derived_pin_differs_for_different_keys() -> None:
    # A single pair could collide with probability 1e-6; several keys make the test robust.
    pins = {derived_pin(f"key-{index}") for index in range(20)}
    assert len(pins) > 1
    assert derived_pin("key-one") != derived_pin("key-two")
