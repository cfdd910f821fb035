"""GET /offices/{officeId}/days?service=…&from=…&to=…: the days with free seats, and how many.

One DynamoDB Query per calendar month in the range, so a month's calendar costs one request.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from appointments import slots
from appointments.api import api_function, days_out, documented, utc_now
from appointments.observability import count
from appointments.schemas import DaysOut, IsoDate
from appointments.vocabulary import Service

router = Router()


@router.get(
    "/offices/<officeId>/days",
    summary="Days with free seats at an office",
    operation_id="listDays",
    responses=documented(
        200,
        DaysOut,
        "Days with free seats",
        links={
            "listSlots": {
                "operationId": "listSlots",
                "parameters": {
                    "path.officeId": "$response.body#/officeId",
                    "query.date": "$response.body#/days/0/date",
                    "query.service": "$response.body#/service",
                },
            }
        },
    ),
)
def list_days(
    office_id: Annotated[str, Path(alias="officeId", max_length=64)],
    service: Annotated[Service, Query()],
    first: Annotated[
        IsoDate | None,
        Query(alias="from", description="The office's local date; default: its today"),
    ] = None,
    last: Annotated[
        IsoDate | None,
        Query(
            alias="to",
            description=(
                f"Default: the end of the month after from's; at most {slots.MAX_LISTED_DAYS} "
                "days after from"
            ),
        ),
    ] = None,
) -> DaysOut:
    listing = slots.list_free_days(office_id, service, first, last, utc_now())
    count("DayListings")
    return days_out(listing, service)


lambda_handler = api_function(router)
