"""GET /notices/{token}: the download link of the e-mails. Checks the signed token and
redirects to a fresh short-lived link of the appointment's current notice."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from appointments import notice_files
from appointments.api import api_function, redirect, redirected, utc_now
from appointments.observability import count

router = Router()


@router.get(
    "/notices/<token>",
    summary="Open the notice link of an e-mail",
    operation_id="openNoticeLink",
    responses=redirected("Redirect to the current notice"),
)
def open_notice_link(token: str) -> Response[str]:
    location = notice_files.download_url_for_link(token, utc_now())
    count("NoticeLinksOpened")
    return redirect(location)


lambda_handler = api_function(router)
