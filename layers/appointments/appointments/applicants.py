"""Applicant identity: normalisation for the one-appointment-per-person rule, and phones.

Two bookings are by the same person when their normalised name and date of birth match:
accents, case, punctuation, spacing and word order do not matter ("José  García-Lopez" and
"garcia lopez, jose" are the same applicant). The key stored in the database is a keyed
digest, so the applicants table holds no readable personal data.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import phonenumbers

from appointments.codes import digest
from appointments.errors import InvalidRequest

_NON_WORD = re.compile(r"[^\w]+")


def normalise_name(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    without_marks = "".join(c for c in decomposed if not unicodedata.combining(c))
    words = _NON_WORD.sub(" ", without_marks.casefold()).split()
    return " ".join(sorted(words))


def applicant_key(name: str, date_of_birth: date) -> str:
    return digest("applicant", normalise_name(name), date_of_birth.isoformat())


def phone_digest(phone_e164: str) -> str:
    return digest("phone", phone_e164)


def normalise_phone(raw: str) -> str:
    """E.164 form of a phone number; numbers without a country code are read as US numbers."""
    try:
        parsed = phonenumbers.parse(raw, "US")
    except phonenumbers.NumberParseException as error:
        raise InvalidRequest("The phone number could not be read.") from error
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidRequest("The phone number is not a valid number.")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone_text(phone_e164: str) -> str:
    """A stored phone number as people write it ("+1 202-555-0143")."""
    try:
        parsed = phonenumbers.parse(phone_e164)
    except phonenumbers.NumberParseException:
        return phone_e164
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
