"""What every API function shares: the resolver, the error contract, logging and metrics.

Errors always have the body {"error": code, "message": text}. Validation messages name the
field and the problem, never the value sent, so personal data is not echoed or logged.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cached_property
from http import HTTPStatus
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
)
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.params import Header, Path
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.event_handler.types import EventHandlerInstance
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel
from pynamodb.exceptions import PynamoDBException

from appointments import snapshots  # noqa: F401 - every API function: the SnapStart restore hooks
from appointments.errors import AppointmentError, Throttled
from appointments.models import AppointmentModel
from appointments.observability import count, count_refusal, log_unexpected, logger, metrics
from appointments.offices import OfficeMatch, catalogue
from appointments.schemas import (
    AddressOut,
    Applicant,
    AppointmentOut,
    DayOut,
    DaysOut,
    ErrorOut,
    OfficeOut,
    Pin,
    SlotOut,
    SlotsOut,
)
from appointments.slots import DayListing, DaysListing
from appointments.transactions import raise_if_throttled
from appointments.vocabulary import AppointmentStatus, Language, OfficeKind, Service

JSON_CONTENT_TYPE = "application/json"
PIN_HEADER = "X-Appointment-Pin"
IDEMPOTENCY_HEADER = "Idempotency-Key"
# The confirmation number as the appointment routes name it: /appointments/{confirmationNumber}.
ConfirmationNumberPath = Annotated[str, Path(alias="confirmationNumber")]
# The PIN travels only in this header, never in a URL (URLs end up in access logs).
PinHeader = Annotated[Pin, Header(alias=PIN_HEADER)]
ERROR_RESPONSES: dict[int, OpenAPIResponse] = {
    status: {
        "description": HTTPStatus(status).phrase,
        "content": {"application/json": {"model": ErrorOut}},
    }
    for status in (400, 403, 404, 409, 422, 423, 429, 503)
}
# What a booking's answer opens: its confirmation number and PIN reach every appointment
# operation (OpenAPI links; header names as the document writes them, in lower case).
APPOINTMENT_LINKS = {
    operation: {
        "operationId": operation,
        "parameters": {
            "path.confirmationNumber": "$response.body#/confirmationNumber",
            f"header.{PIN_HEADER.lower()}": "$response.body#/pin",
        },
    }
    for operation in ("getAppointment", "getNotice", "rescheduleAppointment", "cancelAppointment")
}


def documented(
    status: int,
    model: type[BaseModel],
    description: str,
    links: dict[str, dict[str, Any]] | None = None,
) -> dict[int, OpenAPIResponse]:
    """OpenAPI responses of a route: its success body, the operations its answer leads to
    (OpenAPI links), and the common error bodies."""
    success: OpenAPIResponse = {
        "description": description,
        "content": {"application/json": {"model": model}},
    }
    if links:
        success["links"] = links
    return {status: success, **ERROR_RESPONSES}


def redirected(description: str) -> dict[int, OpenAPIResponse]:
    """OpenAPI responses of a route answering with a redirect: no body, a Location header
    (an empty `content`, or Powertools would document the handler's return type as a body)."""
    redirect: OpenAPIResponse = {
        "description": description,
        "headers": {
            "Location": {"description": "Where the notice is", "schema": {"type": "string"}}
        },
        "content": {},
    }
    return {302: redirect, **ERROR_RESPONSES}


def redirect(location: str) -> Response[str]:
    """A 302 to a short-lived link: never cached, ask again for a fresh one."""
    return Response(
        status_code=302, headers={"Location": location, "Cache-Control": "no-store"}, body=""
    )


def utc_now() -> datetime:
    return datetime.now(UTC)


def error_response(
    status: HTTPStatus, code: str, message: str, retry_after: int | None = None
) -> Response[dict[str, str]]:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return Response(
        status_code=status,
        content_type="application/json",
        body={"error": code, "message": message},
        headers=headers,
    )


def _describe_validation_errors(errors: list[dict[str, Any]]) -> str:
    problems = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ()) if part not in ("body", "header")]
        field = ".".join(location) or "request"
        problems.append(f"{field}: {error.get('msg', 'is not valid')}")
    return "; ".join(problems)


class ApiEvent(APIGatewayProxyEvent):
    """An API Gateway event whose body is either JSON or refused as such.

    Powertools turns only `json.JSONDecodeError` into a validation error; bytes that are not
    UTF-8 (a base64-encoded body), broken base64, nesting deeper than the parser's recursion
    limit and integers past Python's digit limit raise other errors, which would otherwise
    reach the catch-all handler as a 500. JSON text is UTF-8 (RFC 8259), so all of them are
    simply a body that is not JSON.
    """

    @cached_property
    def json_body(self) -> Any:
        try:
            return super().json_body
        except json.JSONDecodeError:
            raise
        except (ValueError, RecursionError) as error:
            raise json.JSONDecodeError("The request body is not JSON text", "", 0) from error


class JsonBodiesOnly(OpenAPIRequestValidationMiddleware):
    """Request validation that reads a body as JSON or refuses it.

    Powertools also parses form and multipart bodies, which this API does not take (a
    multipart header without a boundary even fails with a 500); every other content type is
    refused as unsupported.
    """

    def _get_body(self, app: EventHandlerInstance) -> dict[str, Any]:
        content_type = app.current_event.headers.get("content-type", "").strip()
        if content_type and not content_type.lower().startswith(JSON_CONTENT_TYPE):
            raise RequestUnsupportedContentType(
                "Unsupported content type",
                errors=[{"type": "unsupported_content_type", "loc": ("body",), "msg": "not JSON"}],
            )
        return super()._get_body(app)


class ApiResolver(APIGatewayRestResolver):
    """Powertools' REST resolver, reading request bodies as `ApiEvent`, and only as JSON."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        # The request validation Powertools installs on the first route unless one is set.
        self._request_validation_middleware = JsonBodiesOnly()

    def _to_proxy_event(self, event: dict[str, Any]) -> BaseProxyEvent:
        return ApiEvent(event, self._json_body_deserializer)


def make_resolver(*routers: Router) -> APIGatewayRestResolver:
    """A resolver with validation, CORS and the error contract, serving `routers`."""
    cors = CORSConfig(
        allow_origin=os.environ.get("ALLOWED_ORIGIN", "*"),
        allow_headers=[PIN_HEADER, IDEMPOTENCY_HEADER, "Content-Type"],
        expose_headers=["Retry-After", "Location"],
        max_age=600,
    )
    app = ApiResolver(enable_validation=True, cors=cors)
    for router in routers:
        app.include_router(router)

    @app.exception_handler(AppointmentError)
    def domain_error(error: AppointmentError) -> Response[dict[str, str]]:
        logger.info("request refused", extra={"error_code": error.code, "reason": error.reason})
        count("RequestsRefused")
        count_refusal(error)
        return error_response(error.status, error.code, error.message, error.retry_after_seconds)

    @app.exception_handler(RequestValidationError)
    def invalid_request(error: RequestValidationError) -> Response[dict[str, str]]:
        errors = list(error.errors())
        count("RequestsRefused")
        if any(e.get("type") == "json_invalid" for e in errors):
            return error_response(
                HTTPStatus.BAD_REQUEST, "bad_request", "The request body is not valid JSON."
            )
        logger.info("request invalid", extra={"error_code": "invalid_request"})
        return error_response(
            HTTPStatus.UNPROCESSABLE_ENTITY, "invalid_request", _describe_validation_errors(errors)
        )

    @app.exception_handler(RequestUnsupportedContentType)
    def unsupported_body(_: RequestUnsupportedContentType) -> Response[dict[str, str]]:
        count("RequestsRefused")
        return error_response(
            HTTPStatus.BAD_REQUEST,
            "bad_request",
            "The request body must be JSON (Content-Type: application/json).",
        )

    @app.exception_handler(PynamoDBException)
    def database_error(error: PynamoDBException) -> Response[dict[str, str]]:
        count("DatabaseErrors")
        try:
            raise_if_throttled(error)
        except Throttled as throttled:
            return error_response(
                throttled.status, throttled.code, throttled.message, throttled.retry_after_seconds
            )
        log_unexpected(error)
        return error_response(
            HTTPStatus.SERVICE_UNAVAILABLE,
            "unavailable",
            "The service is temporarily unavailable. Please try again shortly.",
            retry_after=5,
        )

    @app.exception_handler(Exception)
    def unexpected_error(error: Exception) -> Response[dict[str, str]]:
        count("UnexpectedErrors")
        log_unexpected(error)
        return error_response(
            HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "Something went wrong on our side."
        )

    @app.not_found
    def route_not_found(_: Exception) -> Response[dict[str, str]]:
        count("RequestsRefused")
        return error_response(HTTPStatus.NOT_FOUND, "not_found", "There is no such resource.")

    return app


Handler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def api_function(router: Router) -> Handler:
    """The Lambda entry point of an API function serving `router`."""
    return lambda_entry(make_resolver(router))


def lambda_entry(app: APIGatewayRestResolver) -> Handler:
    """The Lambda entry point: correlation id in every log line, metrics flushed."""

    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return app.resolve(event, context)

    with_metrics = metrics.log_metrics(handler, capture_cold_start_metric=True)
    entry: Handler = logger.inject_lambda_context(
        with_metrics, correlation_id_path=correlation_paths.API_GATEWAY_REST
    )
    return entry


def appointment_out(appointment: AppointmentModel) -> dict[str, Any]:
    """The API body of an appointment, its time in the office's time zone."""
    time_zone = catalogue.get(appointment.office_id).time_zone
    return AppointmentOut(
        confirmation_number=appointment.confirmation_number,
        status=AppointmentStatus(appointment.status),
        office_id=appointment.office_id,
        service=Service(appointment.service),
        slot_id=appointment.slot_id,
        start=appointment.start_utc.astimezone(ZoneInfo(time_zone)),
        language=Language(appointment.language),
        applicant=Applicant(
            name=appointment.name,
            date_of_birth=appointment.date_of_birth,  # type: ignore[arg-type]
            phone=appointment.phone,
            email=appointment.email,
        ),
        case_number=appointment.case_number,
        created_at=appointment.created_at,
        updated_at=appointment.updated_at,
    ).model_dump(mode="json", by_alias=True)


def office_out(match: OfficeMatch) -> OfficeOut:
    office = match.office
    return OfficeOut(
        office_id=office.office_id,
        name=office.name,
        kind=OfficeKind(office.kind),
        address=AddressOut(**dataclasses.asdict(office.address)),
        time_zone=office.time_zone,
        services=[Service(service) for service in office.services],
        opening_hours=office.opening_hours,
        distance_miles=match.distance_miles,
    )


def slots_out(listing: DayListing) -> SlotsOut:
    """The API body of a day's free slots, their times in the office's time zone."""
    return SlotsOut(
        office_id=listing.office.office_id,
        date=listing.day,
        time_zone=listing.office.time_zone,
        slots=[
            SlotOut(
                slot_id=str(slot.slot_id),
                start=slot.start,
                utc_offset=slot.start.isoformat()[-6:],
                available=slot.available,
            )
            for slot in listing.slots
        ],
    )


def days_out(listing: DaysListing, service: Service) -> DaysOut:
    """The API body of the days with free seats, dates in the office's time zone."""
    return DaysOut(
        office_id=listing.office.office_id,
        service=service,
        time_zone=listing.office.time_zone,
        from_=listing.first,
        to=listing.last,
        days=[DayOut(date=day.day, available=day.available) for day in listing.days],
    )
