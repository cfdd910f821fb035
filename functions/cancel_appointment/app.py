"""DELETE /appointments/{confirmationNumber}: cancel; the seat is free again at once."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router

from appointments import booking
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


@router.delete(
    "/appointments/<confirmationNumber>",
    summary="Cancel an appointment",
    operation_id="cancelAppointment",
    responses=documented(200, AppointmentOut, "Cancelled"),
)
def cancel_appointment(
    confirmation_number: ConfirmationNumberPath, pin: PinHeader
) -> dict[str, Any]:
    appointment = booking.cancel(confirmation_number, pin, now=utc_now())
    count("AppointmentsCancelled")
    return appointment_out(appointment)


lambda_handler = api_function(router)
