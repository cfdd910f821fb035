"""Each function is granted exactly the DynamoDB actions, on exactly the tables, that it uses,
and reads the service secret only if it uses it:
every function is driven through its paths (the API routes as a person uses them, the notice
renderer by the table's stream, the release by its schedule), each request is recorded as the
IAM action and table it needs (a transaction is authorised item by item), and what was used
is compared with what the template grants. No more (least privilege), no less (nothing the
code does is refused in AWS)."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from aws_lambda_powertools.utilities import parameters

from appointments import pin_reset
from appointments.models import AppointmentModel, SlotModel
from appointments.offices import Office, catalogue
from appointments.slots import SlotId, slot_key
from infra.local.template import load_template, resources_of_type
from tests.aws_hooks import hooked
from tests.helpers import (
    TABLE_NAMES,
    ApiResponse,
    LambdaContext,
    Page,
    SiteVisitor,
    applicant,
    book,
    call,
    free_slots,
    function_id_of,
    function_serving,
    granted_dynamodb_actions,
    load_function,
    on_dynamodb_calls,
    sent_mail,
    solved_challenge,
    stream_record,
    write_seed_offices,
)

pytestmark = pytest.mark.usefixtures("open_slots")
# The offices the journeys visit: ZIP codes 10001 and 22209, a receipt of the Arlington asylum
# office, the offices `open_slots` opens. The release opens days at every office of the
# catalogue, and moto copies the whole slots table for every put of a day's transaction: with
# the seed's twenty offices, the release took most of this test's minute and a half.
JOURNEY_OFFICES = ("new-york", "fairfax", "arlington-asylum", "honolulu")

TABLE_IDS = {name: logical_id for logical_id, name in TABLE_NAMES.items()}
TRANSACTION_ITEM_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}
Used = dict[str, set[tuple[str, str]]]


# What the template's SAM policy template for reading the service secret grants.
SECRET_READ_POLICY = {
    "AWSSecretsManagerGetSecretValuePolicy": {"SecretArn": {"Ref": "ServiceSecret"}}
}
SECRET_READ = ("secretsmanager:GetSecretValue", "ServiceSecret")


@pytest.fixture
def offices(aws: None) -> Iterator[dict[str, Office]]:
    """Only the offices the journeys visit (every function asks for the same requests
    whatever the number of offices)."""
    yield write_seed_offices(only=JOURNEY_OFFICES)
    catalogue.invalidate()


@contextmanager
def recording() -> Iterator[list[tuple[str, str]]]:
    """Requests made in the block, by a function as on a cold start: each function is its own
    process in Lambda, so the office catalogue or the secret another one cached is not there."""
    catalogue.invalidate()
    parameters.clear_caches()
    requests: list[tuple[str, str]] = []

    def record_secret(**_: Any) -> None:
        requests.append(SECRET_READ)

    def record(model: Any = None, params: Any = None, **_: Any) -> None:
        if model.name == "TransactWriteItems":
            for item in params["TransactItems"]:
                ((kind, request),) = item.items()
                requests.append((TRANSACTION_ITEM_ACTIONS[kind], TABLE_IDS[request["TableName"]]))
        else:
            index = f"/index/{params['IndexName']}" if "IndexName" in params else ""
            requests.append((f"dynamodb:{model.name}", TABLE_IDS[params["TableName"]] + index))

    with (
        on_dynamodb_calls("before-parameter-build", record),
        hooked("before-parameter-build.secrets-manager.GetSecretValue", record_secret),
    ):
        yield requests


def send(used: Used, method: str, path: str, **kwargs: Any) -> ApiResponse:
    with recording() as requests:
        response = call(method, path, **kwargs)
    used[function_serving(method, path)].update(requests)
    assert response.status < 500, response.body
    return response


def browse(
    used: Used,
    visitor: SiteVisitor,
    path: str,
    form: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
) -> Page:
    """A page of the site, as a browser asks for it (a POST when `form` is given)."""
    method = "GET" if form is None else "POST"
    route, _, path_query = path.partition("?")
    arguments = {**dict(parse_qsl(path_query)), **(query or {})}
    with recording() as requests:
        if form is None:
            page = visitor.get(route, query=arguments or None)
        else:
            page = visitor.post(route, form)
    used[function_serving(method, route)].update(requests)
    assert page.status < 500, page.text
    return page


def drive_the_site(used: Used) -> None:
    """The site's pages, as a person finds, books, views, changes and recovers."""
    visitor = SiteVisitor(widget=False)
    for path in ("/", "/en", "/en/privacy", "/en/accessibility"):
        browse(used, visitor, path)
    book_on_the_site(used, visitor)
    recover_on_the_site(used, visitor)
    drive_my_appointment(used)


def book_on_the_site(used: Used, visitor: SiteVisitor) -> None:
    """Every step of booking, with a receipt number of a case (each step's refusals cost the
    same requests as its success, or fewer)."""
    browse(used, visitor, "/en/book")
    browse(used, visitor, "/en/book/offices?zip=22209")
    browse(used, visitor, "/en/book/case", {"receipt": "ZAR2612345678"})
    browse(used, visitor, "/en/book/services?office=arlington-asylum")
    office = "office=arlington-asylum&service=asylum"
    days = browse(used, visitor, f"/en/book/days?{office}")
    if "date=" not in days.html:  # the free days are next month's
        month = max(re.findall(r"month=([\d-]+)", days.html))
        days = browse(used, visitor, f"/en/book/days?{office}&month={month}")
    day = re.findall(r"date=([\d-]+)", days.html)[0]
    times = browse(used, visitor, f"/en/book/times?{office}&date={day}")
    slot = re.findall(r'name="slot" value="([^"]+)"', times.html)[0]
    details = {"slot": slot, "service": "asylum"}
    browse(used, visitor, f"/en/book/details?slot={slot}&service=asylum")
    browse(used, visitor, "/en/book/details", {**details, "name": ""})
    person = {"name": "Ana Site", "dob-month": "3", "dob-day": "4", "dob-year": "1990",
              "phone": "+12025550199", "language": "en"}  # fmt: skip
    # The widget's solved challenge, fetched and solved outside the recording (its request
    # is GetChallengeFunction's)
    browse(used, visitor, "/en/book/details", {**details, **person, "altcha": solved_challenge()})
    browse(used, visitor, "/en/book/check")
    assert browse(used, visitor, "/en/book/confirm", {}).status == 303
    assert 'id="pin"' in browse(used, visitor, "/en/book/confirmation").html
    assert 'id="pin"' not in browse(used, visitor, "/en/book/confirmation").html


def recover_on_the_site(used: Used, visitor: SiteVisitor) -> None:
    """Ask for a lost notice (a match and a miss), then set a new PIN from the link."""
    booked = book()
    details = applicant()
    year, month, day = details["dateOfBirth"].split("-")
    lost = {"name": details["name"], "dob-month": month.lstrip("0"), "dob-day": day,
            "dob-year": year, "phone": details["phone"]}  # fmt: skip
    browse(used, visitor, "/en/lost")
    browse(used, visitor, "/en/lost", form={**lost, "dob-day": "31", "dob-month": "2"})
    browse(used, visitor, "/en/lost", form={**lost, "phone": "+12125550000"})
    browse(used, visitor, "/en/lost", form=lost)
    browse(used, visitor, "/en/lost/sent")
    appointment = AppointmentModel.get(booked["confirmationNumber"])
    link = pin_reset.reset_link(appointment, datetime.now(UTC))
    assert link is not None
    path = urlsplit(link).path
    browse(used, visitor, path)
    browse(used, visitor, path, form={})
    browse(used, visitor, f"/{appointment.language}/pin/new")
    browse(used, visitor, path)
    browse(used, visitor, path, form={})


def drive_my_appointment(used: Used) -> None:
    """Sign in (a wrong PIN first), view, calendar file, notice, move, cancel, sign out."""
    first, second = (slot["slotId"] for slot in free_slots()[:2])
    booked = book(first, applicant=applicant(name="Ana Site", phone="+12025550177"))
    visitor = SiteVisitor(widget=False)
    browse(used, visitor, "/en/appointment/sign-in")
    wrong = "111111" if booked["pin"] == "000000" else "000000"
    for pin in (wrong, booked["pin"]):
        browse(used, visitor, "/en/appointment/sign-in",
               {"confirmation_number": booked["confirmationNumber"], "pin": pin})  # fmt: skip
    for path in ("/en/appointment", "/en/appointment/calendar.ics", "/en/appointment/notice",
                 "/en/appointment/days"):  # fmt: skip
        browse(used, visitor, path)
    day = second.split(":", 1)[1].split("T")[0]
    browse(used, visitor, "/en/appointment/times", query={"date": day})
    browse(used, visitor, "/en/appointment/reschedule",
           {"date": day, "slot": second, "altcha": solved_challenge()})  # fmt: skip
    browse(used, visitor, "/en/appointment/cancel")
    browse(used, visitor, "/en/appointment/cancel", {})
    browse(used, visitor, "/en/appointment/cancelled")
    browse(used, visitor, "/en/appointment/sign-out", {})


def run(used: Used, directory: str, event: Any) -> Any:
    """Invoke a function that no route serves (stream, schedule) as Lambda would."""
    with recording() as requests:
        result = load_function(directory).lambda_handler(event, LambdaContext())
    used[function_id_of(directory)].update(requests)
    return result


def render_notice(used: Used, confirmation: str, old: AppointmentModel | None = None) -> None:
    appointment = AppointmentModel.get(confirmation)
    name = "INSERT" if old is None else "MODIFY"
    assert run(used, "render_notices", {"Records": [stream_record(name, appointment, old)]}) == {
        "batchItemFailures": []
    }


def unindex(slot_id: str) -> None:
    """Take the calendar index's keys off a stored slot."""
    slot = SlotModel.get(*slot_key(SlotId.parse(slot_id)))
    slot.update(actions=[SlotModel.office_month.remove(), SlotModel.day_start.remove()])


def drive_every_function() -> Used:
    """The whole journey: find, book (and replay), get the notice rendered and mailed, open
    its link, view, fail PINs, download, move, look up, cancel; and the daily release."""
    used: Used = defaultdict(set)
    send(used, "GET", "/offices", query={"zip": "10001"})
    slots = free_slots()
    send(used, "GET", "/offices/new-york/slots", query={"date": "2030-01-02",
                                                         "service": "adit-stamp"})  # fmt: skip
    send(used, "GET", "/offices/new-york/days", query={"service": "adit-stamp"})
    key = {"Idempotency-Key": "6a1f3c1e-0d4e-4a57-9d7b-3f1f7e2b8c10"}
    booked = book(slots[0]["slotId"], headers=key)
    send(used, "GET", "/challenge")
    viewer = {"CloudFront-Viewer-Address": "198.51.100.7:443"}  # as the distribution sends it
    send(used, "POST", "/appointments", headers=key | viewer,
         body={"officeId": "new-york", "service": "adit-stamp", "slotId": slots[0]["slotId"],
               "applicant": applicant(), "challenge": solved_challenge()})  # fmt: skip
    confirmation = booked["confirmationNumber"]
    render_notice(used, confirmation)
    bounce = {"notificationType": "Bounce", "bounce": {"bounceType": "Permanent",
              "bouncedRecipients": [{"emailAddress": "gone@example.com"}]}}  # fmt: skip
    run(used, "record_mail_feedback", {"Records": [{"EventSource": "aws:sns",
        "Sns": {"Message": json.dumps(bounce), "MessageAttributes": {}}}]})  # fmt: skip
    (token,) = re.findall(r"/notices/([\w.-]+)", sent_mail()[-1].body)
    send(used, "GET", f"/notices/{token}")
    send(used, "GET", "/notices/not-a-token")
    path = f"/appointments/{confirmation}"
    right = {"X-Appointment-Pin": booked["pin"]}
    wrong = {"X-Appointment-Pin": "111111" if booked["pin"] == "000000" else "000000"}
    send(used, "GET", path, headers=wrong)
    send(used, "GET", path, headers=right)
    send(used, "GET", f"{path}/notice", headers=wrong)
    send(used, "GET", f"{path}/notice", headers=right)
    send(used, "PUT", f"{path}/slot", headers=wrong,
         body={"slotId": slots[1]["slotId"], "challenge": solved_challenge()})  # fmt: skip
    before = AppointmentModel.get(confirmation)
    send(used, "PUT", f"{path}/slot", headers=right,
         body={"slotId": slots[1]["slotId"], "challenge": solved_challenge()})  # fmt: skip
    render_notice(used, confirmation, old=before)
    before = AppointmentModel.get(confirmation)
    for details in (applicant(), applicant(phone="+12125550000")):
        send(used, "POST", "/appointments/lookup", body={
            "name": details["name"], "dateOfBirth": details["dateOfBirth"],
            "phone": details["phone"]})  # fmt: skip
    render_notice(used, confirmation, old=before)
    send(used, "DELETE", path, headers=wrong)
    send(used, "DELETE", path, headers=right)
    unindex(slots[2]["slotId"])  # as if opened before the calendar's index existed
    run(used, "release_slots", {"horizon": 3})
    drive_the_site(used)
    return used


def granted() -> Used:
    template = load_template()
    tables = set(resources_of_type(template, "AWS::DynamoDB::Table"))
    functions = resources_of_type(template, "AWS::Serverless::Function")
    return {
        name: granted_dynamodb_actions(function, tables)
        | (
            {SECRET_READ}
            if SECRET_READ_POLICY in function["Properties"].get("Policies", [])
            else set()
        )
        for name, function in functions.items()
    }


def test_each_function_is_granted_exactly_the_dynamodb_actions_and_secret_it_uses() -> None:
    # Given every function driven through its paths
    used = drive_every_function()
    # Then each was granted exactly what it asked DynamoDB and Secrets Manager for
    assert set(used) == set(granted())
    differences = {
        function: {"used, not granted": used[function] - grants,
                   "granted, not used": grants - used[function]}
        for function, grants in granted().items()
        if used[function] != grants
    }  # fmt: skip
    assert differences == {}
