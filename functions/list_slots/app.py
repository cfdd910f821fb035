"""GET /offices/{officeId}/slots?date=…&service=…: the free times of an office's day."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from appointments import slots
from appointments.api import api_function, documented, slots_out, utc_now
from appointments.observability import count
from appointments.schemas import IsoDate, SlotsOut
from appointments.vocabulary import Service

router = Router()


@router.get(
    "/offices/<officeId>/slots",
    summary="Free slots of an office's day",
    operation_id="listSlots",
    responses=documented(
        200,
        SlotsOut,
        "Free slots",
        links={
            "bookAppointment": {
                "operationId": "bookAppointment",
                "requestBody": {
                    "officeId": "$response.body#/officeId",
                    "slotId": "$response.body#/slots/0/slotId",
                    "service": "$request.query.service",
                },
            }
        },
    ),
)
def list_slots(
    office_id: Annotated[str, Path(alias="officeId", max_length=64)],
    day: Annotated[IsoDate, Query(alias="date", description="The office's local date")],
    service: Annotated[Service, Query()],
) -> SlotsOut:
    listing = slots.list_free_slots(office_id, day, service, utc_now())
    count("SlotListings")
    return slots_out(listing)


lambda_handler = api_function(router)
