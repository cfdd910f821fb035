"""GET /offices?zip=… or ?country=…: the offices that serve a place, nearest first."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from appointments import offices
from appointments.api import api_function, documented, office_out
from appointments.observability import count
from appointments.schemas import OfficesOut

router = Router()


@router.get(
    "/offices",
    summary="Find offices by ZIP code or country",
    operation_id="listOffices",
    responses=documented(
        200,
        OfficesOut,
        "Offices, nearest first",
        links={
            "listSlots": {
                "operationId": "listSlots",
                "parameters": {
                    "path.officeId": "$response.body#/offices/0/officeId",
                    "query.service": "$response.body#/offices/0/services/0",
                },
            }
        },
    ),
)
def list_offices(
    zip_code: Annotated[str | None, Query(alias="zip", pattern=r"^\d{5}$")] = None,
    country: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$")] = None,
) -> OfficesOut:
    matches = offices.find_offices(zip_code=zip_code, country=country)
    count("OfficeSearches")
    return OfficesOut(offices=[office_out(match) for match in matches])


lambda_handler = api_function(router)
