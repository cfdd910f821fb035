"""PUT /appointments/{confirmationNumber}/slot: move to another slot in one transaction."""

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
from appointments.schemas import AppointmentOut, Pin, RescheduleIn
from appointments.slots import SlotId

router = Router()


@router.put(
    "/appointments/<confirmationNumber>/slot",
    summary="Reschedule an appointment",
    operation_id="rescheduleAppointment",
    responses=documented(200, AppointmentOut, "Moved"),
)
def reschedule_appointment(
    confirmation_number: ConfirmationNumberPath,
    body: RescheduleIn,
    pin: Annotated[Pin, Header(alias=PIN_HEADER)],
) -> dict[str, Any]:
    new_slot = SlotId.parse(body.slot_id)
    appointment = booking.reschedule(confirmation_number, pin, new_slot, now=utc_now())
    count("AppointmentsRescheduled")
    return appointment_out(appointment)


app = make_resolver(router)
lambda_handler = lambda_entry(app)
