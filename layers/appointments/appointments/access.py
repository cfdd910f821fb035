"""Who may see or change an appointment: the holder of its confirmation number and PIN.

After `max_pin_failures` wrong PINs the appointment is locked for `lockout_minutes`, so a PIN
cannot be guessed online, not even with many guesses sent at once. DynamoDB itself compares
the PIN, in the same atomic step that counts it: every attempt is one conditional UpdateItem
that adds a failure unless the PIN's keyed digest equals the stored one, and only while fewer
than the limit are counted. So no wrong PIN is ever compared without being counted, at most
`max_pin_failures` wrong PINs are compared per lock-out, and the right PIN sent inside a burst
of guesses is refused like the rest once the limit is reached. The right PIN is the update
DynamoDB refuses while the appointment is not locked; the refusal returns the appointment
(ReturnValuesOnConditionCheckFailure=ALL_OLD), so no separate read is needed.

State on the appointment: `pin_failures` counts wrong PINs since the last right one;
`locked_until` is set by every wrong PIN to when a lock-out would end if that PIN reached the
limit. The appointment is locked while `pin_failures` has reached the limit and `locked_until`
is in the future.

Request budget: one UpdateItem per attempt (a refused one writes nothing); one more after the
right PIN when earlier wrong PINs are forgotten, and one more when a lock-out has just ended.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import DoesNotExist, PynamoDBException, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from appointments.codes import normalise_confirmation_number, pin_hash
from appointments.config import settings
from appointments.errors import Locked, NotFound, WrongPin
from appointments.models import AppointmentModel, transaction_connection
from appointments.transactions import raise_if_throttled

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

NOT_FOUND = "There is no appointment with that confirmation number."


def find(typed_number: str) -> AppointmentModel:
    """The appointment for a typed confirmation number (one consistent read)."""
    confirmation_number = normalise_confirmation_number(typed_number)
    if confirmation_number is None:
        raise NotFound(NOT_FOUND)
    try:
        return AppointmentModel.get(confirmation_number, consistent_read=True)
    except DoesNotExist as error:
        raise NotFound(NOT_FOUND) from error
    except PynamoDBException as error:
        raise_if_throttled(error)
        raise


def authenticate(typed_number: str, pin: str, now: datetime) -> AppointmentModel:
    """The appointment, if `pin` is its PIN and it is not locked; otherwise the refusal."""
    confirmation_number = normalise_confirmation_number(typed_number)
    if confirmation_number is None:
        raise NotFound(NOT_FOUND)
    guess = pin_hash(confirmation_number, pin)
    appointment = _attempt(confirmation_number, guess, now)
    if _limit_reached(appointment) and not _lock_in_force(appointment, now):
        _forget_failures(appointment)  # the lock-out has ended: counting starts again
        appointment = _attempt(confirmation_number, guess, now)
    if _limit_reached(appointment):
        raise _locked(appointment.locked_until, now)
    # DynamoDB refused to count the attempt although the appointment is not locked: the PIN
    # is right. Earlier wrong PINs are forgotten.
    if appointment.pin_failures:
        _forget_failures(appointment)
    return appointment


def _attempt(confirmation_number: str, guess: str, now: datetime) -> AppointmentModel:
    """Count the attempt as a wrong PIN unless `guess` is the PIN's digest, in one atomic step.

    Raises WrongPin or Locked when it was counted; returns the appointment as DynamoDB held it
    when it refused to count (the PIN is right, or the limit is reached).
    """
    limit = settings().max_pin_failures
    lock_ends = now + timedelta(minutes=settings().lockout_minutes)
    counted, appointment = _conditional_update(
        confirmation_number,
        actions=[
            AppointmentModel.pin_failures.add(1),
            AppointmentModel.locked_until.set(lock_ends),
        ],
        condition=(
            AppointmentModel.confirmation_number.exists()
            & (AppointmentModel.pin_hash != guess)
            # A counter missing from the item must count as none, never as a right PIN.
            & (
                AppointmentModel.pin_failures.does_not_exist()
                | (AppointmentModel.pin_failures < limit)
            )
        ),
    )
    if not counted:
        return appointment
    if _limit_reached(appointment):
        raise _locked(lock_ends, now)
    left = limit - appointment.pin_failures
    raise WrongPin(f"The PIN is not correct. {left} more tries before the lock-out.")


def _limit_reached(appointment: AppointmentModel) -> bool:
    return bool(appointment.pin_failures >= settings().max_pin_failures)


def _lock_in_force(appointment: AppointmentModel, now: datetime) -> bool:
    return appointment.locked_until is not None and appointment.locked_until > now


def _locked(locked_until: datetime | None, now: datetime) -> Locked:
    seconds = (locked_until - now).total_seconds() if locked_until is not None else 0.0
    return Locked(
        "Too many wrong PINs. The appointment is locked for a while; try again later.",
        retry_after_seconds=max(1, math.ceil(seconds)),
    )


def _forget_failures(appointment: AppointmentModel) -> None:
    """Reset the count, only if no attempt was counted since `appointment` was returned: a
    lock-out reached meanwhile is never wiped. Every count sets a new `locked_until`, so an
    unchanged one proves nothing was counted in between."""
    unchanged_lock: Condition = (
        AppointmentModel.locked_until.does_not_exist()
        if appointment.locked_until is None
        else AppointmentModel.locked_until == appointment.locked_until
    )
    _conditional_update(
        appointment.confirmation_number,
        actions=[AppointmentModel.pin_failures.set(0), AppointmentModel.locked_until.remove()],
        condition=(AppointmentModel.pin_failures == appointment.pin_failures) & unchanged_lock,
    )


def _conditional_update(
    confirmation_number: str, actions: list[Action], condition: Condition
) -> tuple[bool, AppointmentModel]:
    """One conditional UpdateItem of the appointment: whether it was applied, and the item
    after it (applied) or as DynamoDB held it when the condition refused it.

    pynamodb's `Model.update` cannot ask for the refused item, so the request it would send
    is sent with ReturnValuesOnConditionCheckFailure through the same botocore client.
    """
    request: dict[str, Any] = AppointmentModel(confirmation_number).get_update_kwargs_from_instance(
        actions=actions, condition=condition, return_values_on_condition_failure="ALL_OLD"
    )
    client = cast("DynamoDBClient", transaction_connection().client)
    try:
        answer = client.update_item(**request, ReturnValues="ALL_NEW")
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise _database_error(error) from error
        item = cast("dict[str, Any] | None", error.response.get("Item"))
        if not item:
            raise NotFound(NOT_FOUND) from None
        return False, AppointmentModel.from_raw_data(item)
    except BotoCoreError as error:
        raise _database_error(error) from error
    return True, AppointmentModel.from_raw_data(cast(dict[str, Any], answer["Attributes"]))


def _database_error(error: ClientError | BotoCoreError) -> PynamoDBException:
    """The error pynamodb would have raised, so throttling answers 429 like everywhere else."""
    update_error = UpdateError("Failed to update item", error)
    raise_if_throttled(update_error)
    return update_error
