"""GET /offices/{officeId}/slots?date=…&service=…: the free times of an office's day."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from appointments import slots
from appointments.api import documented, lambda_entry, make_resolver, utc_now
from appointments.observability import count
from appointments.offices import catalogue
from appointments.schemas import IsoDate, ServiceCode, SlotOut, SlotsOut
from appointments.services import Service, check_service_allowed

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
    service: Annotated[ServiceCode, Query()],
) -> SlotsOut:
    office = catalogue.get(office_id)
    # Case services are checked fully at booking, where the case number is given.
    check_service_allowed(office, Service(service), case_number=None, require_case=False)
    free = slots.free_slots(office, day, utc_now())
    count("SlotListings")
    return SlotsOut(
        office_id=office.office_id,
        date=day,
        time_zone=office.time_zone,
        slots=[
            SlotOut(
                slot_id=str(slot.slot_id),
                start=slot.start,
                utc_offset=slot.start.isoformat()[-6:],
                available=slot.available,
            )
            for slot in free
        ],
    )


app = make_resolver(router)
lambda_handler = lambda_entry(app)
