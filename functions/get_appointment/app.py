"""GET /appointments/{confirmationNumber}: the appointment, for the holder of its PIN."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router

from appointments import access
from appointments.api import (
    ConfirmationNumberPath,
    PinHeader,
    api_function,
    appointment_out,
    documented,
    utc_now,
)
from appointments.observability import count
from appointments.schemas import AppointmentOut

router = Router()


@router.get(
    "/appointments/<confirmationNumber>",
    summary="View an appointment",
    operation_id="getAppointment",
    responses=documented(200, AppointmentOut, "The appointment"),
)
def get_appointment(confirmation_number: ConfirmationNumberPath, pin: PinHeader) -> dict[str, Any]:
    appointment = access.authenticate(confirmation_number, pin, utc_now())
    count("AppointmentsViewed")
    return appointment_out(appointment)


lambda_handler = api_function(router)
