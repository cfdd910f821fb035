"""GET /appointments/{confirmationNumber}/notice: a redirect to the current notice, for the
holder of the PIN. The link it redirects to is short-lived; ask again for a fresh one."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from appointments import access, notice_files
from appointments.api import (
    ConfirmationNumberPath,
    PinHeader,
    api_function,
    redirect,
    redirected,
    utc_now,
)
from appointments.observability import count

router = Router()


@router.get(
    "/appointments/<confirmationNumber>/notice",
    summary="Download the appointment notice",
    operation_id="getNotice",
    responses=redirected("Redirect to the notice (short-lived link)"),
)
def get_notice(
    confirmation_number: ConfirmationNumberPath,
    pin: PinHeader,
    file_format: Annotated[Literal["pdf", "html"], Query(alias="format")] = "pdf",
) -> Response[str]:
    appointment = access.authenticate(confirmation_number, pin, utc_now())
    location = notice_files.download_url_of_current(appointment, file_format)
    count("NoticesDownloaded")
    return redirect(location)


lambda_handler = api_function(router)
