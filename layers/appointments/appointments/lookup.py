"""Recovering a lost notice from name, date of birth and phone.

The caller learns nothing: every lookup gets the same answer whether or not anything matched,
and the handler answers after the same minimum time either way. A match only re-sends the
notice, with a link to set a new PIN (pin_reset.py), to the e-mail address already on file
(the notice renderer watches `notice_requested_at` on the appointments stream), at most
`lookups_per_hour` times an hour, so lookups cannot be used to learn who has an appointment,
to take one over, or to flood someone's inbox.

Every lookup, matching or not, sends the same requests to the same items: conditional updates
of the applicant's guard item, whose conditions are the match (phone, upcoming appointment,
hourly allowance), then a conditional update of the appointment it names, or of a key no
appointment has. So DynamoDB throttling strikes a match and a miss alike, and the 429 the API
then answers (the caller retries; nothing is lost) tells nothing either.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from appointments.applicants import applicant_key, normalise_phone, phone_digest
from appointments.config import settings
from appointments.errors import InvalidRequest
from appointments.models import ACTIVE_STATUSES, ApplicantModel, AppointmentModel
from appointments.transactions import raise_if_throttled

# Long enough to cover a matching lookup's extra writes, so timing tells nothing either.
RESPONSE_FLOOR_SECONDS = 0.4


def request_notice_quietly(name: str, date_of_birth: date, phone: str, *, now: datetime) -> None:
    """`request_notice` as the API offers it: whatever the details, it takes at least
    RESPONSE_FLOOR_SECONDS and tells nothing (an unreadable phone matches nothing)."""
    started = time.monotonic()
    try:
        normalised = normalise_phone(phone)
    except InvalidRequest:
        normalised = None
    try:
        if normalised is not None:
            request_notice(name, date_of_birth, normalised, now=now)
    finally:  # a throttled lookup (429) takes the same time too
        time.sleep(max(0.0, RESPONSE_FLOOR_SECONDS - (time.monotonic() - started)))


def request_notice(name: str, date_of_birth: date, phone: str, *, now: datetime) -> bool:
    """Ask for the notice of the applicant's active appointment to be sent again, with a
    link to set a new PIN: both requests in the one conditional update a miss sends too.

    Returns whether a notice was requested; the API never tells the caller.
    """
    key = applicant_key(name, date_of_birth)
    guard = _count_lookup(key, phone_digest(phone), now)
    # A key no appointment has (confirmation numbers are 11 characters), spread like real ones.
    confirmation_number = (
        guard.confirmation_number if guard is not None else f"no-appointment#{key}"
    )
    return _update_if(
        AppointmentModel(confirmation_number),
        actions=[
            AppointmentModel.notice_requested_at.set(now),
            AppointmentModel.pin_reset_requested_at.set(now),
        ],
        condition=AppointmentModel.status.is_in(*ACTIVE_STATUSES),
    )


def _count_lookup(key: str, phone: str, now: datetime) -> ApplicantModel | None:
    """Count this lookup in the applicant's hourly window if the details match an upcoming
    appointment and the window's allowance is not used; the guard item when counted."""
    guard = ApplicantModel(key)
    matches = (
        ApplicantModel.applicant_key.exists()
        & (ApplicantModel.phone_digest == phone)
        & (ApplicantModel.active_until > now)
    )
    window_start = now - timedelta(hours=1)
    in_window = _update_if(
        guard,
        actions=[ApplicantModel.lookup_count.add(1)],
        condition=(
            matches
            & (ApplicantModel.lookup_window_start > window_start)
            & (ApplicantModel.lookup_count < settings().lookups_per_hour)
        ),
    )
    # Sent even when the first was applied (its window then refuses it), so that every
    # lookup makes the same requests.
    new_window = _update_if(
        guard,
        actions=[
            ApplicantModel.lookup_window_start.set(now),
            ApplicantModel.lookup_count.set(1),
        ],
        condition=(
            matches
            & (
                ApplicantModel.lookup_window_start.does_not_exist()
                | (ApplicantModel.lookup_window_start <= window_start)
            )
        ),
    )
    return guard if in_window or new_window else None


def _update_if(
    item: ApplicantModel | AppointmentModel, actions: list[Action], condition: Condition
) -> bool:
    """Apply a conditional update; whether the condition held. Throttling answers 429."""
    try:
        item.update(actions=actions, condition=condition)
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise_if_throttled(error)
        raise
    return True
