"""Domain errors. Each carries the HTTP status and the stable error code the API returns.

Messages are written for the person using the service and never contain personal data.
"""

from __future__ import annotations

from http import HTTPStatus


class AppointmentError(Exception):
    status: HTTPStatus = HTTPStatus.BAD_REQUEST
    code: str = "bad_request"
    retry_after_seconds: int | None = None

    def __init__(
        self, message: str, *, retry_after_seconds: int | None = None, reason: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        # Which rule refused, finer than the code (metrics count refusals by it).
        self.reason = reason or self.code
        if retry_after_seconds is not None:
            self.retry_after_seconds = retry_after_seconds


class InvalidRequest(AppointmentError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "invalid_request"


class ServiceNotOffered(AppointmentError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "service_not_offered"


class CaseNumberRequired(AppointmentError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "case_number_required"


class CaseNotPendingHere(AppointmentError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "case_not_pending_here"


class IdempotencyKeyReused(AppointmentError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "idempotency_key_reused"


class LinkInvalid(AppointmentError):
    """A download link that was tampered with, has expired or names no notice: the caller
    learns nothing more than that."""

    status = HTTPStatus.FORBIDDEN
    code = "link_invalid"


class ResetLinkInvalid(AppointmentError):
    """A link to set a new PIN that the service did not make (tampered with or malformed)."""

    status = HTTPStatus.FORBIDDEN
    code = "reset_link_invalid"


class ResetLinkGone(AppointmentError):
    """A link to set a new PIN that has expired, was used, was replaced by a newer one, or
    whose appointment is no longer active."""

    status = HTTPStatus.GONE
    code = "reset_link_gone"


class ChallengeFailed(AppointmentError):
    """A proof of work or time that is missing, wrong, expired, not yet ripe or spent; its
    reason says which."""

    status = HTTPStatus.FORBIDDEN
    code = "challenge_failed"


class NotFound(AppointmentError):
    status = HTTPStatus.NOT_FOUND
    code = "not_found"


class WrongPin(AppointmentError):
    status = HTTPStatus.FORBIDDEN
    code = "wrong_pin"


class SlotFull(AppointmentError):
    status = HTTPStatus.CONFLICT
    code = "slot_full"


class SlotPassed(AppointmentError):
    status = HTTPStatus.CONFLICT
    code = "slot_passed"


class AlreadyBooked(AppointmentError):
    status = HTTPStatus.CONFLICT
    code = "already_booked"


class RescheduleLimit(AppointmentError):
    status = HTTPStatus.CONFLICT
    code = "reschedule_limit"


class NetworkLimit(AppointmentError):
    """The network the request came from booked its appointments for today (networks.py)."""

    status = HTTPStatus.TOO_MANY_REQUESTS
    code = "network_limit"


class NotActive(AppointmentError):
    status = HTTPStatus.CONFLICT
    code = "not_active"


class Locked(AppointmentError):
    status = HTTPStatus.LOCKED
    code = "locked"


class Busy(AppointmentError):
    """DynamoDB kept reporting conflicting transactions; the caller should retry shortly."""

    status = HTTPStatus.SERVICE_UNAVAILABLE
    code = "busy"
    retry_after_seconds = 1


class Throttled(AppointmentError):
    status = HTTPStatus.TOO_MANY_REQUESTS
    code = "throttled"
    retry_after_seconds = 2
