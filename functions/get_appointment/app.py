"""GET /appointments/{confirmationNumber}: the appointment, for the holder of its PIN."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header

from appointments import access
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


@router.get(
    "/appointments/<confirmationNumber>",
    summary="View an appointment",
    operation_id="getAppointment",
    responses=documented(200, AppointmentOut, "The appointment"),
)
def get_appointment(
    confirmation_number: ConfirmationNumberPath, pin: Annotated[Pin, Header(alias=PIN_HEADER)]
) -> dict[str, Any]:
    appointment = access.authenticate(confirmation_number, pin, utc_now())
    count("AppointmentsViewed")
    return appointment_out(appointment)


app = make_resolver(router)
lambda_handler = lambda_entry(app)
