"""Being signed in to one appointment: after its confirmation number and PIN (or right after
booking it), a sealed cookie names the appointment for 15 minutes from the last page seen.

The cookie carries a fingerprint of the PIN's digest, so a new PIN (a reset) ends every
session opened with the old one. The PIN itself is never in a cookie or a URL.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from appointments import access
from appointments.errors import AppointmentError
from appointments.models import AppointmentModel
from appointments.site import security
from appointments.site.pages import Visit

SESSION_COOKIE = "__Host-appointment"
SESSION_LIFETIME = timedelta(minutes=15)
_FINGERPRINT_LENGTH = 16


class SignInNeeded(AppointmentError):
    """No session, or it ended: the page sends the visitor to sign in (not an error page)."""

    code = "sign_in_needed"


def _fingerprint(appointment: AppointmentModel) -> str:
    return appointment.pin_hash[:_FINGERPRINT_LENGTH]


def start_session(visit: Visit, appointment: AppointmentModel, now: datetime) -> None:
    """Sign the visitor in to `appointment` (the answer sets the cookie)."""
    payload = {"c": appointment.confirmation_number, "p": _fingerprint(appointment)}
    visit.set_cookie(security.sealed_cookie(SESSION_COOKIE, payload, now, SESSION_LIFETIME))


def end_session(visit: Visit) -> None:
    visit.set_cookie(security.expired_cookie(SESSION_COOKIE))


def signed_in_appointment(visit: Visit, now: datetime) -> AppointmentModel:
    """The appointment this visitor is signed in to (one consistent read), its session renewed
    for another 15 minutes; SignInNeeded if there is none, it ended, or the PIN changed."""
    payload = security.unseal(SESSION_COOKIE, visit.cookies.get(SESSION_COOKIE), now)
    if payload is None:
        raise SignInNeeded("Please sign in.")
    try:
        appointment = access.find(str(payload.get("c", "")))
    except AppointmentError as error:
        raise SignInNeeded("Please sign in.") from error
    if _fingerprint(appointment) != payload.get("p"):
        raise SignInNeeded("Please sign in.")
    start_session(visit, appointment, now)
    return appointment
