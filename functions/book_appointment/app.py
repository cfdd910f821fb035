"""POST /appointments: book a slot; answers 201 with the confirmation number and PIN.

An Idempotency-Key header makes a retried request return the same appointment (and PIN)
instead of booking twice. The body carries a solved challenge (GET /challenge), spent by the
booking's own transaction, which also counts the booking against the day of the network it
came from (networks.py).
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header

from appointments import booking, challenges, networks
from appointments.api import (
    APPOINTMENT_LINKS,
    IDEMPOTENCY_HEADER,
    api_function,
    appointment_out,
    documented,
    utc_now,
)
from appointments.observability import measure
from appointments.schemas import BookingIn, BookingOut

router = Router()


@router.post(
    "/appointments",
    summary="Book an appointment",
    operation_id="bookAppointment",
    responses=documented(201, BookingOut, "Booked", links=APPOINTMENT_LINKS),
)
def book_appointment(
    body: BookingIn,
    idempotency_key: Annotated[
        str | None, Header(alias=IDEMPOTENCY_HEADER, min_length=8, max_length=128)
    ] = None,
) -> Response[dict[str, Any]]:
    proof = challenges.verify_work(body.challenge)
    request = booking.BookingRequest.from_body(body)
    now = utc_now()
    result = booking.book(
        request,
        proof=proof,
        idempotency_key=idempotency_key,
        now=now,
        network=networks.viewer_network(router.current_event.headers),
    )
    for metric, (value, unit) in result.metrics(now).items():
        measure(metric, value, unit)
    payload = appointment_out(result.appointment) | {"pin": result.pin}
    return Response(
        status_code=201,
        content_type="application/json",
        body=payload,
        headers={"Location": f"/appointments/{result.appointment.confirmation_number}"},
    )


lambda_handler = api_function(router)
