"""POST /appointments/lookup: re-send a lost notice; reveals nothing to the caller.

Every caller gets the same 202 answer after the same minimum time, whether or not the
details matched an appointment.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from appointments import lookup
from appointments.api import api_function, documented, utc_now
from appointments.observability import count
from appointments.schemas import LookupIn, LookupOut

router = Router()

ANSWER = LookupOut(
    message=(
        "If these details match an upcoming appointment, its notice is being sent again "
        "to the contact details on file."
    )
)


@router.post(
    "/appointments/lookup",
    summary="Recover a lost appointment notice",
    operation_id="lookupAppointment",
    responses=documented(202, LookupOut, "Accepted"),
)
def lookup_appointment(body: LookupIn) -> Response[dict[str, Any]]:
    lookup.request_notice_quietly(body.name, body.date_of_birth, body.phone, now=utc_now())
    count("NoticeLookups")
    return Response(
        status_code=202,
        content_type="application/json",
        body=ANSWER.model_dump(mode="json", by_alias=True),
    )


lambda_handler = api_function(router)
