"""Who may see or change an appointment: the holder of its confirmation number and PIN.

After `max_pin_failures` wrong PINs the appointment is locked for `lockout_minutes`, so a PIN
cannot be guessed online. Failures are counted with an atomic ADD, so parallel guesses cannot
slip past the limit.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import NoReturn

from pynamodb.exceptions import DoesNotExist, PynamoDBException

from appointments.codes import normalise_confirmation_number, pin_matches
from appointments.config import settings
from appointments.errors import Locked, NotFound, WrongPin
from appointments.models import AppointmentModel
from appointments.transactions import raise_if_throttled


def find(confirmation_number: str) -> AppointmentModel:
    """The appointment for a typed confirmation number (one consistent read)."""
    confirmation = normalise_confirmation_number(confirmation_number)
    if confirmation is None:
        raise NotFound("There is no appointment with that confirmation number.")
    try:
        return AppointmentModel.get(confirmation, consistent_read=True)
    except DoesNotExist as error:
        raise NotFound("There is no appointment with that confirmation number.") from error
    except PynamoDBException as error:
        raise_if_throttled(error)
        raise


def authenticate(confirmation_number: str, pin: str, now: datetime) -> AppointmentModel:
    appointment = find(confirmation_number)
    _raise_if_locked(appointment, now)
    if not pin_matches(appointment.confirmation, pin, appointment.pin_hash):
        _record_wrong_pin(appointment, now)
    if appointment.pin_failures:
        appointment.update(
            actions=[AppointmentModel.pin_failures.set(0), AppointmentModel.locked_until.remove()]
        )
    return appointment


def _locked(locked_until: datetime, now: datetime) -> Locked:
    return Locked(
        "Too many wrong PINs. The appointment is locked for a while; try again later.",
        retry_after_seconds=math.ceil((locked_until - now).total_seconds()),
    )


def _raise_if_locked(appointment: AppointmentModel, now: datetime) -> None:
    if appointment.locked_until is not None and appointment.locked_until > now:
        raise _locked(appointment.locked_until, now)


def _record_wrong_pin(appointment: AppointmentModel, now: datetime) -> NoReturn:
    limit = settings().max_pin_failures
    appointment.update(actions=[AppointmentModel.pin_failures.add(1)])
    if appointment.pin_failures < limit:
        left = limit - appointment.pin_failures
        raise WrongPin(f"The PIN is not correct. {left} more tries before the lock-out.")
    locked_until = now + timedelta(minutes=settings().lockout_minutes)
    appointment.update(
        actions=[
            AppointmentModel.locked_until.set(locked_until),
            AppointmentModel.pin_failures.set(0),
        ]
    )
    raise _locked(locked_until, now)
