"""Confirmation numbers, PINs and keyed digests.

Confirmation numbers are 10 random Crockford base-32 characters (50 bits) and one check
character (Luhn mod 32), so a mistyped character is caught before any database request.
PINs are stored only as an HMAC keyed with the service secret: a copy of the table alone
does not allow trying the million possible PINs offline.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sys

from appointments.config import settings
from appointments.snapshots import after_restore

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PAYLOAD_LENGTH = 10
PIN_LENGTH = 6
_TYPO_FIXES = str.maketrans({"I": "1", "L": "1", "O": "0"})


def service_secret() -> bytes:
    """The service's HMAC key, from Secrets Manager (cached for five minutes per container)."""
    # Powertools' parameters bring boto3 along: imported by the functions that read the secret.
    from aws_lambda_powertools.utilities import parameters  # noqa: PLC0415

    value = parameters.get_secret(settings().secret_name, max_age=300)
    return value.encode() if isinstance(value, str) else bytes(value)


@after_restore
def forget_service_secret() -> None:
    """A copy restored from a snapshot reads the secret anew (it may have been rotated since
    the snapshot), with the Secrets Manager client the snapshot already holds."""
    # Powertools keeps the cache on its default providers, which exist only once a secret was
    # read (the parameters module is imported on first use).
    constants = sys.modules.get("aws_lambda_powertools.utilities.parameters.constants")
    for provider in getattr(constants, "DEFAULT_PROVIDERS", {}).values():
        provider.clear_cache()


def digest(purpose: str, *parts: str) -> str:
    """Keyed digest of `parts`; `purpose` keeps digests of different kinds unrelated."""
    message = "\x1f".join((purpose, *parts)).encode()
    return hmac.new(service_secret(), message, hashlib.sha256).hexdigest()


def check_character(payload: str) -> str:
    """Luhn mod 32 over the Crockford alphabet: detects any single substitution."""
    factor = 2
    total = 0
    base = len(ALPHABET)
    for char in reversed(payload):
        addend = factor * ALPHABET.index(char)
        factor = 1 if factor == 2 else 2
        total += addend // base + addend % base
    return ALPHABET[(base - total % base) % base]


def confirmation_from_bits(bits: int) -> str:
    chars = []
    for _ in range(PAYLOAD_LENGTH):
        bits, index = divmod(bits, len(ALPHABET))
        chars.append(ALPHABET[index])
    payload = "".join(chars)
    return payload + check_character(payload)


def new_confirmation_number() -> str:
    return confirmation_from_bits(secrets.randbits(5 * PAYLOAD_LENGTH))


def new_pin() -> str:
    return f"{secrets.randbelow(10**PIN_LENGTH):0{PIN_LENGTH}d}"


def derived_confirmation_number(idempotency_key: str) -> str:
    """The confirmation number a booking with this Idempotency-Key always gets."""
    bits = int(digest("idempotency-confirmation", idempotency_key), 16)
    return confirmation_from_bits(bits & ((1 << (5 * PAYLOAD_LENGTH)) - 1))


def derived_pin(idempotency_key: str) -> str:
    """The PIN a booking with this Idempotency-Key always gets, so a retry can return it
    again without the PIN ever being stored."""
    return f"{int(digest('idempotency-pin', idempotency_key), 16) % 10**PIN_LENGTH:0{PIN_LENGTH}d}"


def normalise_confirmation_number(raw: str) -> str | None:
    """Canonical form of a typed confirmation number, or None if it cannot be one."""
    text = "".join(raw.split()).replace("-", "").upper().translate(_TYPO_FIXES)
    if len(text) != PAYLOAD_LENGTH + 1 or any(char not in ALPHABET for char in text):
        return None
    if check_character(text[:-1]) != text[-1]:
        return None
    return text


def pin_hash(confirmation_number: str, pin: str) -> str:
    return digest("pin", confirmation_number, pin)


def pin_matches(confirmation_number: str, pin: str, stored_hash: str) -> bool:
    return hmac.compare_digest(pin_hash(confirmation_number, pin), stored_hash)
