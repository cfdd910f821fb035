"""What each API function really asks DynamoDB for stays inside what the template grants it:
every route is driven through its paths and each request is recorded as the IAM action and
table it needs (a transaction is authorised item by item)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.helpers import (
    TABLE_NAMES,
    ApiResponse,
    applicant,
    call,
    function_serving,
    on_dynamodb_calls,
)
from tests.unit.test_booking_api import book, free_slots
from tests.unit.test_template import EXPECTED_DYNAMODB_ACTIONS

pytestmark = pytest.mark.usefixtures("open_slots")

TABLE_IDS = {name: logical_id for logical_id, name in TABLE_NAMES.items()}
TRANSACTION_ITEM_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}
Used = dict[str, set[tuple[str, str]]]


@contextmanager
def recording() -> Iterator[list[tuple[str, str]]]:
    requests: list[tuple[str, str]] = []

    def record(model: Any = None, params: Any = None, **_: Any) -> None:
        if model.name == "TransactWriteItems":
            for item in params["TransactItems"]:
                ((kind, request),) = item.items()
                requests.append((TRANSACTION_ITEM_ACTIONS[kind], TABLE_IDS[request["TableName"]]))
        else:
            requests.append((f"dynamodb:{model.name}", TABLE_IDS[params["TableName"]]))

    with on_dynamodb_calls("before-parameter-build", record):
        yield requests


def send(used: Used, method: str, path: str, **kwargs: Any) -> ApiResponse:
    with recording() as requests:
        response = call(method, path, **kwargs)
    used[function_serving(method, path)].update(requests)
    assert response.status < 500, response.body
    return response


def test_every_api_request_is_granted_to_the_function_that_makes_it() -> None:
    used: Used = defaultdict(set)
    # Given the whole journey: find, book (and replay), view, fail PINs, move, look up, cancel
    send(used, "GET", "/offices", query={"zip": "10001"})
    slots = free_slots()
    send(used, "GET", "/offices/new-york/slots", query={"date": "2030-01-02",
                                                         "service": "adit-stamp"})  # fmt: skip
    key = {"Idempotency-Key": "6a1f3c1e-0d4e-4a57-9d7b-3f1f7e2b8c10"}
    booked = book(slots[0]["slotId"], headers=key)
    send(used, "POST", "/appointments", headers=key,
         body={"officeId": "new-york", "service": "adit-stamp", "slotId": slots[0]["slotId"],
               "applicant": applicant()})  # fmt: skip
    path = f"/appointments/{booked['confirmationNumber']}"
    right, wrong = {"X-Appointment-Pin": booked["pin"]}, {"X-Appointment-Pin": "000000"}
    if booked["pin"] == "000000":
        wrong = {"X-Appointment-Pin": "111111"}
    send(used, "GET", path, headers=wrong)
    send(used, "GET", path, headers=right)
    send(used, "GET", f"{path}/notice", headers=wrong)
    send(used, "GET", f"{path}/notice", headers=right)
    send(used, "PUT", f"{path}/slot", headers=wrong, body={"slotId": slots[1]["slotId"]})
    send(used, "PUT", f"{path}/slot", headers=right, body={"slotId": slots[1]["slotId"]})
    for details in (applicant(), applicant(phone="+12125550000")):
        send(used, "POST", "/appointments/lookup", body={
            "name": details["name"], "dateOfBirth": details["dateOfBirth"],
            "phone": details["phone"]})  # fmt: skip
    send(used, "DELETE", path, headers=wrong)
    send(used, "DELETE", path, headers=right)
    send(used, "GET", "/notices/not-a-token")
    # Then every request was one the template grants that function
    for function, requests in used.items():
        granted = {
            (action, table)
            for table, actions in EXPECTED_DYNAMODB_ACTIONS[function].items()
            for action in actions
        }
        assert requests <= granted, f"{function} is not granted {requests - granted}"
    assert len(used) == 9
