"""DELETE /appointments/{confirmationNumber}: cancel; the seat is free again at once."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header

from appointments import booking
from appointments.api import (
    PIN_HEADER,
    ConfirmationNumberPath,
    appointment_out,
    documented,
    lambda_entry,
    make_resolver,
    utc_now,
)
from appointments.observability import count
from appointments.schemas import AppointmentOut, Pin

router = Router()


@router.delete(
    "/appointments/<confirmationNumber>",
    summary="Cancel an appointment",
    operation_id="cancelAppointment",
    responses=documented(200, AppointmentOut, "Cancelled"),
)
def cancel_appointment(
    confirmation_number: ConfirmationNumberPath, pin: Annotated[Pin, Header(alias=PIN_HEADER)]
) -> dict[str, Any]:
    appointment = booking.cancel(confirmation_number, pin, now=utc_now())
    count("AppointmentsCancelled")
    return appointment_out(appointment)


app = make_resolver(router)
lambda_handler = lambda_entry(app)
