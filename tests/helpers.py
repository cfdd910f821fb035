"""Shared test tools: API Gateway events, loading function handlers, counting DynamoDB calls."""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import itertools
import json
import re
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import altcha
import boto3
import yaml
from aws_lambda_powertools.utilities import parameters

from appointments import booking, models
from appointments.business_days import is_business_day
from appointments.challenges import Proof
from appointments.models import AppointmentModel, SlotModel
from appointments.notice_files import notice_prefix
from appointments.notices import NoticeInput
from appointments.offices import (
    Office,
    catalogue,
    office_from_catalogue_entry,
    office_from_model,
)
from appointments.services import Service
from appointments.slots import OpenedDay, SlotId, new_slot, open_day, slot_starts
from infra.local.gateway import LocalGateway, routes_from
from infra.local.lambda_runtime import Invocation
from infra.local.template import (
    create_tables,
    function_specs,
    load_template,
    resources_of_type,
)
from infra.tools.seed import load_catalogue, write_offices
from tests import aws_hooks

REPO_ROOT = Path(__file__).resolve().parent.parent
TABLE_NAMES = {
    "OfficesTable": "test-OfficesTable",
    "SlotsTable": "test-SlotsTable",
    "AppointmentsTable": "test-AppointmentsTable",
    "ApplicantsTable": "test-ApplicantsTable",
    "LimitsTable": "test-LimitsTable",
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


def after_the_edge_copies() -> None:
    """Wait until every copy of the free times and days the distribution may serve was
    fetched from the API after this call began (their cache policy's MaxTTL)."""
    policy = load_template()["Resources"]["AvailabilityCachePolicy"]["Properties"]
    time.sleep(policy["CachePolicyConfig"]["MaxTTL"])


def solve(challenge: dict[str, Any]) -> str:
    """The solution of a challenge as GET /challenge gives it, as a client sends it."""
    asked = altcha.Challenge.from_dict(challenge)
    solution = altcha.solve_challenge(asked)
    assert solution is not None
    return altcha.Payload(asked, solution).to_base64()


def solved_challenge() -> str:
    return solve(call("GET", "/challenge").body)


def solved_over(client: Any) -> str:
    """A challenge fetched over HTTP (an httpx or Playwright client at the stack) and solved."""
    answer = client.get("/challenge")
    return solve(answer.json())


def _takes_a_seat(method: str, path: str) -> bool:
    return (method, path) == ("POST", "/appointments") or (
        method == "PUT" and path.endswith("/slot")
    )


def call(method: str, path: str, **kwargs: Any) -> ApiResponse:
    """Send a request through the function API Gateway would invoke for it. A booking or a
    move without a "challenge" gets a freshly solved one, as a client would send it."""
    body = kwargs.get("body")
    if _takes_a_seat(method, path) and isinstance(body, dict) and "challenge" not in body:
        kwargs["body"] = {**body, "challenge": solved_challenge()}
    module = load_function(_function_for(method, path))
    result = module.lambda_handler(api_event(method, path, **kwargs), LambdaContext())
    body = json.loads(result["body"]) if result.get("body") else None
    headers = {key.lower(): value for key, value in (result.get("headers") or {}).items()}
    for key, values in (result.get("multiValueHeaders") or {}).items():
        headers[key.lower()] = values[-1]
    return ApiResponse(result["statusCode"], headers, body)


@dataclass(frozen=True)
class Page:
    """A site function's answer as a browser gets it."""

    status: int
    headers: dict[str, str]
    html: str
    set_cookies: list[str]

    @property
    def text(self) -> str:
        return visible_text(self.html)

    def hidden_field(self, name: str) -> str | None:
        match = re.search(
            rf'<input type="hidden" name="{re.escape(name)}" value="([^"]*)"', self.html
        )
        return match.group(1) if match else None


# The site's forms that take a seat, and so carry a proof (site/proofs.py)
FORMS_WITH_PROOF = ("/book/details", "/appointment/reschedule")


class SiteVisitor:
    """A browser on the site, its requests sent to the function API Gateway would invoke: it
    keeps its cookies, and sends each form with the CSRF token of the last page it was given.
    Its only script is the challenge widget (unless `widget` is False): a form that takes a
    seat carries a solved challenge, as the widget adds it, unless the test gives "altcha"."""

    def __init__(self, headers: dict[str, str] | None = None, *, widget: bool = True) -> None:
        self.cookies: dict[str, str] = {}
        self.headers = headers or {}
        self.csrf_token: str | None = None
        self.widget = widget

    def get(self, path: str, query: dict[str, str] | None = None) -> Page:
        return self._send("GET", path, query=query)

    def post(self, path: str, form: dict[str, str], *, with_csrf: bool = True) -> Page:
        fields = dict(form)
        if with_csrf and self.csrf_token is not None:
            fields.setdefault("csrf_token", self.csrf_token)
        if self.widget and path.endswith(FORMS_WITH_PROOF) and "altcha" not in fields:
            fields["altcha"] = solved_challenge()
        return self._send(
            "POST",
            path,
            raw_body=urlencode(fields),
            content_type="application/x-www-form-urlencoded",
        )

    def _send(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        raw_body: str | None = None,
        content_type: str = "text/html",
    ) -> Page:
        headers = {"Content-Type": content_type, **self.headers}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        module = load_function(_function_for(method, path))
        event = api_event(method, path, headers=headers, query=query, raw_body=raw_body)
        result = module.lambda_handler(event, LambdaContext())
        answer_headers = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
        multi = {k.lower(): v for k, v in (result.get("multiValueHeaders") or {}).items()}
        for key, values in multi.items():
            answer_headers[key] = values[-1]
        set_cookies = list(multi.get("set-cookie", []))
        for cookie in set_cookies:
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if "Max-Age=0" in cookie or not value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        page = Page(result["statusCode"], answer_headers, result.get("body") or "", set_cookies)
        token = page.hidden_field("csrf_token")
        if token is not None:
            self.csrf_token = token
        return page


def reset_connections() -> None:
    """Forget DynamoDB connections, cached parameters and the office cache, so the next call
    sees the current engine. (S3 and SES are only ever moto's, whose clients outlive a mock.)"""
    models.reset_connections()
    catalogue.invalidate()
    parameters.clear_caches()


@cache
def _seed_entries() -> tuple[dict[str, Any], ...]:
    return tuple(load_catalogue())


def write_seed_offices(only: Collection[str] | None = None) -> dict[str, Office]:
    """The seed's offices (infra/data/offices.json), or `only` those, leaving the office cache
    as it is (seed_offices empties it)."""
    entries = [e for e in _seed_entries() if only is None or e["officeId"] in only]
    return {office.office_id: office for office in write_offices(entries)}


@cache
def aws_client(service: str, endpoint_url: str | None = None) -> Any:
    """A boto3 client, made once per process and endpoint (making one costs tens of
    milliseconds). Moto answers every client inside a mock, wherever it was made."""
    return boto3.client(service, endpoint_url=endpoint_url)  # type: ignore[call-overload]


def create_secret(endpoint_url: str | None = None) -> None:
    """The service secret, if absent (moto's backends are shared by everything in-process)."""
    client = aws_client("secretsmanager", endpoint_url)
    with suppress(client.exceptions.ResourceExistsException):
        client.create_secret(
            Name=SECRET_NAME, SecretString="test-secret-0123456789abcdef0123456789abcdef"
        )


@cache
def _tables_of_the_template() -> dict[str, Any]:
    """The template's tables, as a template of their own (the template read once per run)."""
    return {"Resources": resources_of_type(load_template(), "AWS::DynamoDB::Table")}


def make_resources(endpoint_url: str | None = None) -> None:
    """Create the template's tables on the current engine (from a copy of them: copying the
    whole template was a twentieth of a unit test)."""
    client = aws_client("dynamodb", endpoint_url)
    create_tables(client, TABLE_NAMES, copy.deepcopy(_tables_of_the_template()))


@contextmanager
def on_dynamodb_calls(
    event: str, handler: Callable[..., Any], operation: str = ""
) -> Iterator[None]:
    """Hook `handler` to a botocore event ("before-call", "after-call", …) of every DynamoDB
    request, for `operation` or every operation, while the block runs."""
    with aws_hooks.hooked(f"{event}.dynamodb" + (f".{operation}" if operation else ""), handler):
        yield


@contextmanager
def count_dynamodb_calls() -> Iterator[Counter[str]]:
    """Count the DynamoDB API requests the block sends (a botocore event hook)."""
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


MARIA = ("Maria Garcia", "1985-04-12")


def applicant(
    name: str = MARIA[0],
    dob: str = MARIA[1],
    phone: str | None = None,
    email: str | None = "",
) -> dict[str, Any]:
    """An applicant's details; the phone and e-mail address, unless given, are the person's
    own (one active appointment per phone and per e-mail address)."""
    if phone is None:
        phone = "+12025550143" if (name, dob) == MARIA else phone_of(name, dob)
    if email == "":
        email = "maria@example.com" if (name, dob) == MARIA else email_of(name, dob)
    return {"name": name, "dateOfBirth": dob, "phone": phone, "email": email}


def _number_of(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("\x1f".join(parts).encode()).digest()[:8], "big")


# US area codes in service: with an exchange of 2-9 and any line, every number is valid.
# fmt: off
AREA_CODES = (
    "202", "212", "213", "214", "215", "216", "217", "218", "219", "224",
    "225", "228", "229", "231", "234", "239", "240", "248", "251", "252",
    "253", "254", "256", "260", "262", "267", "269", "270", "272", "276",
    "281", "301", "302", "303", "304", "305", "307", "308", "309", "310",
)
# fmt: on


def phone_of(*person: str) -> str:
    """A valid US phone number of this person's own (320 million of them)."""
    number = _number_of(*person)
    area, number = AREA_CODES[number % len(AREA_CODES)], number // len(AREA_CODES)
    number %= 8_000_000
    return f"+1{area}{2 + number // 1_000_000}{number % 1_000_000:06d}"


def email_of(*person: str) -> str:
    return f"person-{_number_of(*person):016x}@example.com"


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


def walkthrough_booking(slot_id: str) -> dict[str, Any]:
    """A booking of the README walk-through's applicant (a Honolulu phone)."""
    return booking_body(slot_id, applicant=applicant(phone="+18085550143"))


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


# ------------------------------------------------------------------ journeys through the API


def first_free_slot(office_id: str = "new-york", service: str = "adit-stamp") -> str:
    """The first slot of the next weekday's listing at the office, for the service."""
    day = next_weekday()
    response = call(
        "GET", f"/offices/{office_id}/slots", query={"date": day.isoformat(), "service": service}
    )
    assert response.status == 200, response.body
    return str(response.body["slots"][0]["slotId"])


def book(
    slot_id: str | None = None, headers: dict[str, str] | None = None, **overrides: Any
) -> Any:
    """Book through the API (`booking_body` with `overrides`); the 201 answer's body."""
    response = call(
        "POST",
        "/appointments",
        body=booking_body(slot_id or first_free_slot(), **overrides),
        headers=headers,
    )
    assert response.status == 201, response.body
    return response.body


def free_slots(office_id: str = "new-york") -> list[dict[str, Any]]:
    """The next weekday's listing of free adit-stamp slots at the office."""
    response = call(
        "GET",
        f"/offices/{office_id}/slots",
        query={"date": next_weekday().isoformat(), "service": "adit-stamp"},
    )
    return list(response.body["slots"])


# ---------------------------------------------------------- bookings straight through the domain


def fresh_proof() -> Proof:
    """A proof of work as the API verifies it (challenges.verify_work), for the domain's own
    functions: each is spent once."""
    return Proof(
        id=f"work#{uuid.uuid4().hex}",
        expires_at=datetime.now(UTC) + timedelta(minutes=30),
    )


def numbered_request(
    slot_id: SlotId, person: int, dob: date = date(1990, 1, 1)
) -> booking.BookingRequest:
    """A booking request of applicant number `person` (a name and phone of their own)."""
    return booking.BookingRequest(
        slot_id=slot_id,
        service=Service.ADIT_STAMP,
        name=f"Applicant Number{person}",
        date_of_birth=dob,
        phone=f"+1202555{person:04d}",
        email=None,
        language="en",
        case_number=None,
    )


def book_numbered(slot_id: SlotId, person: int) -> booking.Booking:
    """Applicant number `person` books `slot_id` through the domain, without an API request."""
    return booking.book(
        numbered_request(slot_id, person),
        proof=fresh_proof(),
        idempotency_key=None,
        now=datetime.now(UTC),
    )


def slot_with_capacity(office: Office, capacity: int, start: str = "09:00") -> SlotId:
    """A slot of the next weekday at the office, opened with `capacity` seats."""
    day = next_weekday()
    open_day(replace(office, capacity=capacity), day, starts=[start])
    return SlotId(office.office_id, day, start)


# --------------------------------------------------------------------- the table's stream

_stream_sequence = itertools.count(1)


def stream_record(
    name: str, new: AppointmentModel | None, old: AppointmentModel | None = None
) -> dict[str, Any]:
    """A record of the appointments table's stream (NEW_AND_OLD_IMAGES), as Lambda gets it."""
    images: dict[str, Any] = {}
    if new is not None:
        images["NewImage"] = new.serialize()
    if old is not None:
        images["OldImage"] = old.serialize()
    item = new or old
    assert item is not None
    return {
        "eventID": str(next(_stream_sequence)),
        "eventName": name,
        "eventSource": "aws:dynamodb",
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/test/stream/1",
        "dynamodb": {
            "Keys": {"confirmation": {"S": item.confirmation_number}},
            "SequenceNumber": f"{next(_stream_sequence):021d}",
            "StreamViewType": "NEW_AND_OLD_IMAGES",
            **images,
        },
    }


def stored_keys(confirmation_number: str) -> list[str]:
    """The keys of the notices stored for the appointment."""
    listed = boto3.client("s3").list_objects_v2(
        Bucket="test-notices", Prefix=notice_prefix(confirmation_number)
    )
    return sorted(item["Key"] for item in listed.get("Contents", []))


def booked_appointment() -> tuple[dict[str, Any], AppointmentModel]:
    """A booking through the API: its answer, and the appointment as stored."""
    booked = book()
    return booked, AppointmentModel.get(booked["confirmationNumber"])


def sent_mail() -> list[Any]:
    """The mail SES accepted (moto keeps what it sent, and documents where)."""
    from moto.core.models import DEFAULT_ACCOUNT_ID  # noqa: PLC0415 - moto only where read
    from moto.ses.models import ses_backends  # noqa: PLC0415

    return list(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages)


def ask_for_the_lost_notice(appointment: AppointmentModel) -> AppointmentModel:
    """Look the booking up as its holder would (POST /appointments/lookup); the appointment as
    it is afterwards."""
    call(
        "POST",
        "/appointments/lookup",
        body={"name": "Maria Garcia", "dateOfBirth": "1985-04-12", "phone": "+12025550143"},
    )
    return AppointmentModel.get(appointment.confirmation_number)


def deliver(*records: dict[str, Any]) -> dict[str, Any]:
    """Hand `records` to the notice renderer as one batch; its answer (failed items)."""
    handler = load_function("render_notices").lambda_handler
    result: dict[str, Any] = handler({"Records": list(records)}, LambdaContext())
    return result


# ------------------------------------------------------------------------ rendered notices

# Fonts a notice's PDF may embed: subsets of the Noto families its stylesheet asks for.
ALLOWED_EMBEDDED = re.compile(
    r"^/[A-Z]{6}\+Noto-(Sans|Sans-Bold|Sans-CJK-SC|Naskh-Arabic)(-Bold)?$"
)


class _VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden_depth = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.hidden_depth += tag in ("style", "svg", "title")

    def handle_endtag(self, tag: str) -> None:
        self.hidden_depth -= tag in ("style", "svg", "title")

    def handle_data(self, data: str) -> None:
        if not self.hidden_depth:
            self.parts.append(data)


def visible_text(html: str) -> str:
    """The text a reader of the page sees (no styles, drawings or title), spaces collapsed."""
    parser = _VisibleText()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def embedded_fonts(reader: Any) -> set[str]:
    """The base font names a PDF (a pypdf reader) embeds on its pages."""
    return {
        str(font.get_object()["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }


# ------------------------------------------------------------- what the template grants


def as_list(value: Any) -> list[Any]:
    """A template value that may be one item or a list, as a list."""
    return value if isinstance(value, list) else [value]


def policy_statements(function: dict[str, Any]) -> list[dict[str, Any]]:
    """A template function's inline policy statements (SAM policy templates are not)."""
    return [
        statement
        for policy in as_list(function["Properties"].get("Policies", []))
        if isinstance(policy, dict) and "Statement" in policy
        for statement in as_list(policy["Statement"])
    ]


def table_named_by(resource: Any, tables: set[str]) -> str | None:
    """The logical id of the table an IAM Resource names (its ARN), or "<id>/index/<name>" for
    one of its indexes."""
    if isinstance(resource, dict):
        if "Fn::GetAtt" in resource and resource["Fn::GetAtt"][1] == "Arn":
            table = resource["Fn::GetAtt"][0]
            return table if table in tables else None
        if "Fn::Sub" in resource and isinstance(resource["Fn::Sub"], str):
            match = re.fullmatch(r"\$\{(\w+)\.Arn\}(/index/[\w.-]+)?", resource["Fn::Sub"])
            if match and match.group(1) in tables:
                return match.group(1) + (match.group(2) or "")
    return None


def granted_dynamodb_actions(function: dict[str, Any], tables: set[str]) -> set[tuple[str, str]]:
    """(action, table) pairs a template function's statements grant; "?" for a resource that
    is not one of `tables`."""
    return {
        (action, table_named_by(resource, tables) or "?")
        for statement in policy_statements(function)
        for action in as_list(statement.get("Action", []))
        if action.startswith("dynamodb:")
        for resource in as_list(statement.get("Resource", []))
    }


def function_id_of(directory: str) -> str:
    """The template's logical id of the function deployed from functions/<directory>."""
    (found,) = (logical_id for logical_id, name in _function_dirs().items() if name == directory)
    return found


def template_copy(
    root: Path,
    keep: Callable[[str, dict[str, Any]], bool],
    change: Callable[[dict[str, Any]], None] | None = None,
) -> Path:
    """A copy of template.yaml in `root` holding only the resources `keep` accepts (given the
    logical id and the resource), then as `change` leaves it, next to links to the code it
    names."""
    template = load_template()
    template["Resources"] = {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if keep(logical_id, resource)
    }
    if change is not None:
        change(template)
    for folder in ("functions", "layers"):
        (root / folder).symlink_to(REPO_ROOT / folder)
    path = root / "template.yaml"
    path.write_text(yaml.safe_dump(template, sort_keys=False))
    return path
