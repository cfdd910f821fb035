"""What every site function shares: the resolver, and a page for every refusal and fault.

A refusal is answered with a page in the visitor's language and the right status; a fault
never shows a stack trace or personal data (it is logged without either, as in the API).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from pynamodb.exceptions import PynamoDBException

from appointments.api import Handler, error_response, lambda_entry
from appointments.errors import AppointmentError, Throttled
from appointments.observability import count, count_refusal, log_unexpected, logger
from appointments.site.i18n import DEFAULT_LANGUAGE
from appointments.site.pages import PageNotFound, Visit, error_page, language_of_path
from appointments.site.sessions import SignInNeeded
from appointments.transactions import raise_if_throttled


class _Unavailable(AppointmentError):
    status = HTTPStatus.SERVICE_UNAVAILABLE
    code = "unavailable"
    retry_after_seconds = 5


class _Unexpected(AppointmentError):
    status = HTTPStatus.INTERNAL_SERVER_ERROR
    code = "internal_error"


def make_site_resolver(*routers: Router) -> APIGatewayRestResolver:
    # No request validation: the pages read their forms themselves and answer with a page.
    app = APIGatewayRestResolver()
    for router in routers:
        app.include_router(router)

    def refusal_page(error: AppointmentError) -> Response[str]:
        response = error_page(app.current_event, error)
        if error.retry_after_seconds is not None:
            response.headers["Retry-After"] = str(error.retry_after_seconds)
        return response

    @app.exception_handler(SignInNeeded)
    def sign_in_first(_: SignInNeeded) -> Response[str]:
        event = app.current_event
        visit = Visit(event, language_of_path(event.path) or DEFAULT_LANGUAGE)
        return visit.redirect("/appointment/sign-in")

    @app.exception_handler(AppointmentError)
    def refused(error: AppointmentError) -> Response[str]:
        logger.info("page refused", extra={"error_code": error.code, "reason": error.reason})
        count("PagesRefused")
        count_refusal(error)
        return refusal_page(error)

    @app.exception_handler(PynamoDBException)
    def database_error(error: PynamoDBException) -> Response[str]:
        count("DatabaseErrors")
        try:
            raise_if_throttled(error)
        except Throttled as throttled:
            return refusal_page(throttled)
        log_unexpected(error)
        return refusal_page(_Unavailable("unavailable"))

    @app.exception_handler(Exception)
    def unexpected(error: Exception) -> Response[str]:
        count("UnexpectedErrors")
        log_unexpected(error)
        return refusal_page(_Unexpected("internal error"))

    @app.not_found
    def no_such_page(_: Exception) -> Response[Any]:
        # An address outside /{lang}/ is one of the JSON API's that does not exist.
        if language_of_path(app.current_event.path) is None:
            count("RequestsRefused")
            return error_response(HTTPStatus.NOT_FOUND, "not_found", "There is no such resource.")
        return refusal_page(PageNotFound("no such page"))

    return app


def site_function(router: Router) -> Handler:
    """The Lambda entry point of a site function serving `router`."""
    return lambda_entry(make_site_resolver(router))
