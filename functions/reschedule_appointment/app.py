"""PUT /appointments/{confirmationNumber}/slot: move to another slot in one transaction,
spending the solved challenge the body carries (GET /challenge)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router

from appointments import booking, challenges
from appointments.api import (
    ConfirmationNumberPath,
    PinHeader,
    api_function,
    appointment_out,
    documented,
    utc_now,
)
from appointments.observability import count
from appointments.schemas import AppointmentOut, RescheduleIn
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
    pin: PinHeader,
) -> dict[str, Any]:
    proof = challenges.verify_work(body.challenge)
    new_slot = SlotId.parse(body.slot_id)
    appointment = booking.reschedule(confirmation_number, pin, new_slot, proof=proof, now=utc_now())
    count("AppointmentsRescheduled")
    return appointment_out(appointment)


lambda_handler = api_function(router)
