"""Shared test tools: API Gateway events, loading function handlers, counting DynamoDB calls."""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import boto3
from aws_lambda_powertools.utilities import parameters

from appointments import notice_files
from appointments.business_days import is_business_day
from appointments.models import ALL_MODELS, SlotModel, transaction_connection
from appointments.notices import NoticeInput
from appointments.offices import (
    Office,
    catalogue,
    office_from_catalogue_entry,
    office_from_model,
)
from appointments.slots import OpenedDay, new_slot, open_day, slot_starts
from infra.local.gateway import LocalGateway, routes_from
from infra.local.lambda_runtime import Invocation
from infra.local.template import create_tables, function_specs, load_template

REPO_ROOT = Path(__file__).resolve().parent.parent
TABLE_NAMES = {
    "OfficesTable": "test-OfficesTable",
    "SlotsTable": "test-SlotsTable",
    "AppointmentsTable": "test-AppointmentsTable",
    "ApplicantsTable": "test-ApplicantsTable",
}
SECRET_NAME = "test/service-secret"


@cache
def load_function(name: str) -> ModuleType:
    """Import functions/<name>/app.py (every function's module is called app)."""
    path = REPO_ROOT / "functions" / name / "app.py"
    spec = importlib.util.spec_from_file_location(f"function_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


class LambdaContext:
    function_name = "test"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test"
    aws_request_id = "test-request"


def api_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    raw_body: str | None = None,
) -> dict[str, Any]:
    """A minimal API Gateway REST (v1) proxy event."""
    text = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {key: [value] for key, value in all_headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": (
            {key: [value] for key, value in query.items()} if query else None
        ),
        "pathParameters": None,
        "requestContext": {
            "requestId": "test-request",
            "stage": "test",
            "httpMethod": method,
            "path": path,
            "resourcePath": path,
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": text,
        "isBase64Encoded": False,
    }


@dataclass(frozen=True)
class ApiResponse:
    status: int
    headers: dict[str, str]
    body: Any


@cache
def _gateway() -> LocalGateway:
    specs = function_specs(load_template(), REPO_ROOT)
    return LocalGateway(routes_from(specs), invoke=lambda *_: Invocation(False, None, 0))


@cache
def _function_dirs() -> dict[str, str]:
    return {
        spec.logical_id: spec.code_dir.name for spec in function_specs(load_template(), REPO_ROOT)
    }


def function_serving(method: str, path: str) -> str:
    """The template's function (logical id) API Gateway would invoke for a request."""
    matched = _gateway().match(method, path)
    if matched is None:
        raise KeyError(f"no function serves {method} {path}")
    return matched[0].function


def _function_for(method: str, path: str) -> str:
    """The function directory API Gateway would invoke, from the template's routes."""
    return _function_dirs()[function_serving(method, path)]


def call(method: str, path: str, **kwargs: Any) -> ApiResponse:
    """Send a request through the function API Gateway would invoke for it."""
    module = load_function(_function_for(method, path))
    result = module.lambda_handler(api_event(method, path, **kwargs), LambdaContext())
    body = json.loads(result["body"]) if result.get("body") else None
    headers = {key.lower(): value for key, value in (result.get("headers") or {}).items()}
    for key, values in (result.get("multiValueHeaders") or {}).items():
        headers[key.lower()] = values[-1]
    return ApiResponse(result["statusCode"], headers, body)


def reset_connections() -> None:
    """Forget cached clients and the office cache, so the next call sees the current engine."""
    for model in ALL_MODELS:
        model._connection = None
    transaction_connection.cache_clear()
    catalogue.invalidate()
    parameters.clear_caches()
    notice_files._s3.cache_clear()
    notice_files._ses.cache_clear()
    parameters.base.DEFAULT_PROVIDERS.clear()  # type: ignore[attr-defined]


def create_secret(endpoint_url: str | None = None) -> None:
    """The service secret, if absent (moto's backends are shared by everything in-process)."""
    client = boto3.client("secretsmanager", endpoint_url=endpoint_url)
    with suppress(client.exceptions.ResourceExistsException):
        client.create_secret(
            Name=SECRET_NAME, SecretString="test-secret-0123456789abcdef0123456789abcdef"
        )


@cache
def _template() -> dict[str, Any]:
    return load_template()


def make_resources(endpoint_url: str | None = None) -> None:
    """Create the template's tables on the current engine (the template read once per run)."""
    client = boto3.client("dynamodb", endpoint_url=endpoint_url)
    create_tables(client, TABLE_NAMES, copy.deepcopy(_template()))


@contextmanager
def on_dynamodb_calls(
    event: str, handler: Callable[..., Any], operation: str = "", *, first: bool = False
) -> Iterator[None]:
    """Hook `handler` to a botocore event ("before-call", "after-call", …) of every DynamoDB
    client the domain uses, for `operation` or every operation, while the block runs; `first`
    puts it ahead of the other handlers (to answer instead of the service)."""
    name = f"{event}.dynamodb" + (f".{operation}" if operation else "")
    clients = [model._get_connection().connection.client for model in ALL_MODELS]
    clients.append(transaction_connection().client)
    unique = {id(client): client for client in clients}.values()
    for client in unique:
        register = client.meta.events.register_first if first else client.meta.events.register
        register(name, handler)
    try:
        yield
    finally:
        for client in unique:
            client.meta.events.unregister(name, handler)


@contextmanager
def count_dynamodb_calls() -> Iterator[Counter[str]]:
    """Count DynamoDB API requests made through the domain's clients (botocore event hook)."""
    calls: Counter[str] = Counter()

    def record(model: Any = None, **_: Any) -> None:
        calls[model.name] += 1

    with on_dynamodb_calls("before-call", record):
        yield calls


def next_weekday(after: date | None = None, offset: int = 1) -> date:
    """The `offset`-th weekday after `after` (default today, UTC)."""
    day = after or datetime.now(UTC).date()
    while offset:
        day += timedelta(days=1)
        if day.weekday() < 5:
            offset -= 1
    return day


def applicant(
    name: str = "Maria Garcia",
    dob: str = "1985-04-12",
    phone: str = "+12025550143",
    email: str | None = "maria@example.com",
) -> dict[str, Any]:
    return {"name": name, "dateOfBirth": dob, "phone": phone, "email": email}


def booking_body(slot_id: str, **overrides: Any) -> dict[str, Any]:
    """A valid POST /appointments body for `slot_id`; keyword arguments replace fields."""
    body = {
        "officeId": slot_id.split(":", maxsplit=1)[0],
        "service": "adit-stamp",
        "slotId": slot_id,
        "applicant": applicant(),
        "language": "es",
    }
    body.update(overrides)
    return body


def weekdays(first_day: date, days: int) -> list[date]:
    found: list[date] = []
    day = first_day
    while len(found) < days:
        if day.weekday() < 5:
            found.append(day)
        day += timedelta(days=1)
    return found


def write_weekdays(offices: list[Office], first_day: date, days: int) -> list[date]:
    """Slots of `days` weekdays for every office, written straight with batch writes: data for
    tests that book. (moto copies whole tables for each transaction, which made opening days
    through the release's transactions the slowest part of every unit test's set-up.)"""
    chosen = weekdays(first_day, days)
    with SlotModel.batch_write() as batch:
        for office in offices:
            for day in chosen:
                for start in slot_starts(office, day):
                    batch.save(new_slot(office, day, start))
    return chosen


def open_weekdays(offices: list[Office], first_day: date, days: int) -> list[OpenedDay]:
    """Open `days` weekdays from `first_day` for every office, holidays or not (tests book
    on these days whatever the calendar says)."""
    opened: list[OpenedDay] = []
    day = first_day
    remaining = days
    while remaining:
        if day.weekday() < 5:
            opened.extend(open_day(office, day) for office in offices)
            remaining -= 1
        day += timedelta(days=1)
    return opened


def sample_offices() -> dict[str, Office]:
    """The sample catalogue (infra/data/offices.json) as domain objects, without a database."""
    entries = json.loads((REPO_ROOT / "infra" / "data" / "offices.json").read_text())["offices"]
    offices = (office_from_model(office_from_catalogue_entry(entry)) for entry in entries)
    return {office.office_id: office for office in offices}


def sample_notice(language: str = "en", **changes: object) -> NoticeInput:
    """A notice for the sample catalogue's Honolulu office, on Friday 27 November 2026."""
    fields: dict[str, object] = {
        "confirmation_number": "7K2M9QX4TR8",
        "status": "booked",
        "name": "María José García-López",
        "service": "adit-stamp",
        "case_number": None,
        "start_utc": datetime(2026, 11, 27, 17, 45, tzinfo=UTC),  # 07:45 in Honolulu
        "language": language,
    }
    fields.update(changes)
    return NoticeInput(**fields)  # type: ignore[arg-type]


def business_days_after(office: Office, day: date, count: int) -> list[date]:
    """The next `count` business days of the office strictly after `day`."""
    found: list[date] = []
    while len(found) < count:
        day += timedelta(days=1)
        if is_business_day(office, day):
            found.append(day)
    return found


def next_business_day(office_id: str) -> date:
    """The first business day after the office's own today (the local stack has opened it)."""
    office = sample_offices()[office_id]
    today = datetime.now(ZoneInfo(office.time_zone)).date()
    return business_days_after(office, today, 1)[0]
