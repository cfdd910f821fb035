"""Recovering a lost notice from name, date of birth and phone.

The caller learns nothing: every lookup gets the same answer whether or not anything matched,
and the handler answers after the same minimum time either way. A match only re-sends the
notice to the contact details already on file (the notice renderer watches
`notice_requested_at` on the appointments stream), at most `lookups_per_hour` times an hour,
so the endpoint cannot be used to learn who has an appointment or to flood someone's inbox.
"""

from __future__ import annotations

import hmac
from datetime import date, datetime, timedelta

from pynamodb.exceptions import DoesNotExist, UpdateError

from appointments.applicants import applicant_key, phone_digest
from appointments.config import settings
from appointments.models import ACTIVE_STATUSES, ApplicantModel, AppointmentModel


def request_notice(name: str, date_of_birth: date, phone: str, *, now: datetime) -> bool:
    """Ask for the notice of the applicant's active appointment to be sent again.

    Returns whether a notice was requested; the API never tells the caller.
    """
    try:
        guard = ApplicantModel.get(applicant_key(name, date_of_birth), consistent_read=True)
    except DoesNotExist:
        return False
    if guard.active_until <= now or not hmac.compare_digest(
        guard.phone_digest, phone_digest(phone)
    ):
        return False
    if not _count_lookup(guard, now):
        return False
    try:
        AppointmentModel(guard.confirmation).update(
            actions=[AppointmentModel.notice_requested_at.set(now)],
            condition=AppointmentModel.status.is_in(*ACTIVE_STATUSES),
        )
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _count_lookup(guard: ApplicantModel, now: datetime) -> bool:
    """Count this lookup in the hourly window; False when the window's allowance is used."""
    window_start = now - timedelta(hours=1)
    try:
        guard.update(
            actions=[
                ApplicantModel.lookup_window_start.set(now),
                ApplicantModel.lookup_count.set(1),
            ],
            condition=(
                ApplicantModel.lookup_window_start.does_not_exist()
                | (ApplicantModel.lookup_window_start <= window_start)
            ),
        )
    except UpdateError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
    else:
        return True
    try:
        guard.update(
            actions=[ApplicantModel.lookup_count.add(1)],
            condition=ApplicantModel.lookup_count < settings().lookups_per_hour,
        )
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True
