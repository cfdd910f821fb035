"""Setting a new PIN when it is lost: a link e-mailed after a lookup, working once, for 30
minutes.

A lookup that matches an appointment (lookup.py) records `pin_reset_requested_at` in the same
update that asks for the notice again; the notice renderer then mails the notice's link and a
link to set a new PIN. The link's token is derived, not stored: the confirmation number, the
time of the request and a keyed digest of both. So a copy of the table holds no usable link,
and only the newest request's link works (a newer lookup replaces the time).

Setting the PIN is one conditional UpdateItem: a new random PIN's digest replaces the old one,
wrong PINs and any lock-out are forgotten, and the request is removed, only if the request's
time is still the token's and the appointment is active. So a link works once, the old PIN
stops working at that moment, and so do the site's sessions opened with it (they carry a
fingerprint of the PIN's digest). Opening the link (GET) reads and changes nothing: mail
scanners open links.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pynamodb.exceptions import DoesNotExist, PynamoDBException, UpdateError

from appointments import codes
from appointments.config import public_site_url
from appointments.errors import ResetLinkGone, ResetLinkInvalid
from appointments.models import ACTIVE_STATUSES, AppointmentModel
from appointments.transactions import raise_if_throttled
from appointments.vocabulary import Language

LINK_MINUTES = 30
LINK_LIFETIME = timedelta(minutes=LINK_MINUTES)
SEPARATOR = "."
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
# Far longer than any token the service makes (about 95 characters); longer ones are not read.
_MAX_TOKEN_LENGTH = 200
_LANGUAGES = frozenset(language.value for language in Language)


@dataclass(frozen=True)
class ResetRequest:
    """What a reset link names: the appointment, and the request it was made for."""

    confirmation_number: str
    requested_at: datetime


@dataclass(frozen=True)
class NewPin:
    confirmation_number: str
    pin: str


def _signature(confirmation_number: str, micros: str) -> str:
    return codes.digest("pin-reset", confirmation_number, micros)


def reset_token(confirmation_number: str, requested_at: datetime) -> str:
    """`<confirmation number>.<request time, microseconds since 1970>.<keyed digest>`: the
    time to the microsecond, so the reset's condition can name the stored request exactly."""
    micros = str((requested_at - _EPOCH) // _MICROSECOND)
    signature = _signature(confirmation_number, micros)
    return SEPARATOR.join((confirmation_number, micros, signature))


def reset_link(appointment: AppointmentModel, now: datetime) -> str | None:
    """The site's page for setting a new PIN, in the appointment's language, while the
    appointment's latest request is less than 30 minutes old; else None."""
    requested = appointment.pin_reset_requested_at
    if requested is None or requested + LINK_LIFETIME <= now:
        return None
    language = appointment.language if appointment.language in _LANGUAGES else Language.EN.value
    token = reset_token(appointment.confirmation_number, requested)
    return f"{public_site_url()}/{language}/pin/{token}"


def read_reset_token(token: str, now: datetime) -> ResetRequest:
    """The request a token the service made names, if it is under 30 minutes old.

    Raises ResetLinkInvalid for anything the service did not sign, ResetLinkGone once expired.
    Nothing in the token is trusted before its digest is checked.
    """
    invalid = ResetLinkInvalid("This link to set a new PIN is not valid.")
    if len(token) > _MAX_TOKEN_LENGTH:
        raise invalid
    parts = token.split(SEPARATOR)
    if len(parts) != 3:
        raise invalid
    confirmation_number, micros, signature = parts
    expected = _signature(confirmation_number, micros)
    if not hmac.compare_digest(signature.encode(errors="replace"), expected.encode()):
        raise invalid
    try:
        requested_at = _EPOCH + int(micros) * _MICROSECOND
    except (ValueError, OverflowError) as error:
        raise invalid from error
    if requested_at + LINK_LIFETIME <= now:
        raise _gone()
    return ResetRequest(confirmation_number, requested_at)


def check_reset_link(token: str, now: datetime) -> ResetRequest:
    """The request a link names, if it can still set a new PIN (one consistent read of the
    request and the status, no personal data); changes nothing."""
    request = read_reset_token(token, now)
    try:
        held = AppointmentModel.get(
            request.confirmation_number,
            consistent_read=True,
            attributes_to_get=[
                AppointmentModel.confirmation_number.attr_name,
                AppointmentModel.status.attr_name,
                AppointmentModel.pin_reset_requested_at.attr_name,
            ],
        )
    except DoesNotExist as error:
        raise _gone() from error
    except PynamoDBException as error:
        raise_if_throttled(error)
        raise
    if held.status not in ACTIVE_STATUSES or held.pin_reset_requested_at != request.requested_at:
        raise _gone()
    return request


def reset_pin(token: str, now: datetime) -> NewPin:
    """Give the appointment a new PIN, if the link can still do it; the PIN (never stored)."""
    request = read_reset_token(token, now)
    pin = codes.new_pin()
    try:
        AppointmentModel(request.confirmation_number).update(
            actions=[
                AppointmentModel.pin_hash.set(codes.pin_hash(request.confirmation_number, pin)),
                AppointmentModel.pin_failures.set(0),
                AppointmentModel.locked_until.remove(),
                AppointmentModel.pin_reset_requested_at.remove(),
            ],
            condition=(AppointmentModel.pin_reset_requested_at == request.requested_at)
            & AppointmentModel.status.is_in(*ACTIVE_STATUSES),
        )
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            raise _gone() from None
        raise_if_throttled(error)
        raise
    return NewPin(request.confirmation_number, pin)


def _gone() -> ResetLinkGone:
    return ResetLinkGone(
        "This link to set a new PIN has expired or was already used. Links work once, "
        "for 30 minutes."
    )
