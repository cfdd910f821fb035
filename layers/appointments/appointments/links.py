"""Signed download links for e-mails: they outlive any AWS credentials.

A presigned S3 URL dies with the credentials that signed it (a Lambda role's last hours), so
the e-mail carries a link to the API instead: a token naming one notice (confirmation number
and notice version) and an expiry, signed with the service secret. The API checks it and
redirects to a fresh short-lived S3 link of the appointment's current notice, so a link from
an older e-mail leads to the new notice, never to a stale time.
"""

from __future__ import annotations

import base64
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from appointments.codes import digest
from appointments.errors import LinkInvalid

SEPARATOR = "."


@dataclass(frozen=True)
class LinkClaims:
    confirmation_number: str
    version: str
    expires: datetime


def _encode(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode(text: str) -> str:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()


def _signature(payload: str) -> str:
    return digest("notice-link", payload)[:43]


def make_token(confirmation_number: str, version: str, now: datetime, valid_for: timedelta) -> str:
    expires = int((now + valid_for).timestamp())
    payload = f"{confirmation_number}{SEPARATOR}{version}{SEPARATOR}{expires}"
    return f"{_encode(payload)}{SEPARATOR}{_signature(payload)}"


def _signed_payload(token: str) -> str | None:
    """The token's payload if the service signed it, else None.

    Only the base64 wrapping is undone before the signature is checked (the signature covers
    the payload text); nothing in the payload is read until it has been.
    """
    encoded, _, signature = token.rpartition(SEPARATOR)
    try:
        payload = _decode(encoded)
    except ValueError:  # not base64, or not UTF-8 inside: nothing the service wrote
        return None
    expected = _signature(payload).encode()
    if not hmac.compare_digest(signature.encode(errors="replace"), expected):
        return None
    return payload


def read_token(token: str, now: datetime) -> LinkClaims:
    """The claims of a token the service signed and that has not expired.

    Every other token, tampered, expired or malformed in any way, raises the same LinkInvalid.
    """
    invalid = LinkInvalid(
        "This link is not valid or has expired. Download the notice with "
        "your confirmation number and PIN instead."
    )
    payload = _signed_payload(token)
    if payload is None:
        raise invalid
    try:
        confirmation_number, version, expires_text = payload.split(SEPARATOR)
        expires = datetime.fromtimestamp(int(expires_text), tz=now.tzinfo)
    except (ValueError, OverflowError, OSError) as error:
        raise invalid from error
    if expires <= now:
        raise invalid
    return LinkClaims(confirmation_number, version, expires)
