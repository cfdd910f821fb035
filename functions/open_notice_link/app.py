"""GET /notices/{token}: the download link of the e-mails. Checks the signed token and
redirects to a fresh short-lived link of the appointment's current notice."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from appointments import access, links, notice_files
from appointments.api import lambda_entry, make_resolver, redirected, utc_now
from appointments.errors import LinkInvalid, NotFound
from appointments.observability import count

router = Router()


@router.get(
    "/notices/<token>",
    summary="Open the notice link of an e-mail",
    operation_id="openNoticeLink",
    responses=redirected("Redirect to the current notice"),
)
def open_notice_link(token: str) -> Response[str]:
    claims = links.read_token(token, utc_now())
    try:
        appointment = access.find(claims.confirmation_number)
    except NotFound as error:
        raise LinkInvalid("This notice is no longer available.") from error
    current = notice_files.current_notice(appointment)
    if current is None or claims.version > current.version:
        raise LinkInvalid("This link is not valid or has expired.")
    count("NoticeLinksOpened")
    return Response(
        status_code=302,
        headers={
            "Location": notice_files.download_url(current.pdf_key),
            "Cache-Control": "no-store",
        },
        body="",
    )


app = make_resolver(router)
lambda_handler = lambda_entry(app)
