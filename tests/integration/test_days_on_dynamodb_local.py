"""The calendar of days with free seats, on DynamoDB Local: one Query per month shown."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import boto3
import pytest

from appointments.offices import Office
from appointments.slots import SlotId, slot_starts
from infra.local.dynamodb_local import DynamoDBLocal
from infra.local.template import create_tables, load_template, table_definitions
from tests.helpers import (
    TABLE_NAMES,
    book_numbered,
    call,
    count_dynamodb_calls,
    write_weekdays,
)


def first_weekday_of_next_month() -> date:
    """Of the month after the one three days from now: the day before it is in the future."""
    soon = date.today() + timedelta(days=3)
    day = (soon.replace(day=1) + timedelta(days=32)).replace(day=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def last_weekday_of_this_month(month_start: date) -> date:
    day = month_start - timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


@pytest.fixture
def days_across_two_months(offices: dict[str, Office]) -> tuple[date, date]:
    """The last weekday of a month and the first of the next, opened at New York."""
    second = first_weekday_of_next_month()
    first = last_weekday_of_this_month(second)
    write_weekdays([offices["new-york"]], first, 1)
    write_weekdays([offices["new-york"]], second, 1)
    return first, second


def list_days(first: date, last: date) -> Any:
    response = call(
        "GET",
        "/offices/new-york/days",
        query={"service": "adit-stamp", "from": first.isoformat(), "to": last.isoformat()},
    )
    assert response.status == 200, response.body
    return response.body


def test_days_of_two_months_cost_one_query_per_month(
    days_across_two_months: tuple[date, date], offices: dict[str, Office]
) -> None:
    # Given two open days in two months, one seat of the second one taken
    first, second = days_across_two_months
    book_numbered(SlotId("new-york", second, "09:00"), person=1)
    seats_per_day = len(slot_starts(offices["new-york"], first)) * offices["new-york"].capacity
    # When a person asks for the days of both months
    with count_dynamodb_calls() as calls:
        body = list_days(first - timedelta(days=3), second + timedelta(days=3))
    # Then both days are listed with their free seats, from two Queries and nothing else
    assert body["days"] == [
        {"date": first.isoformat(), "available": seats_per_day},
        {"date": second.isoformat(), "available": seats_per_day - 1},
    ]
    assert calls == {"Query": 2}


def test_a_day_whose_seats_are_all_taken_is_not_listed(
    days_across_two_months: tuple[date, date], offices: dict[str, Office]
) -> None:
    # Given the second day with every seat taken
    first, second = days_across_two_months
    office = offices["new-york"]
    person = 0
    for start in slot_starts(office, second):
        for _ in range(office.capacity):
            person += 1
            book_numbered(SlotId("new-york", second, start), person=person)
    # When a person asks for the days of both months
    body = list_days(first, second)
    # Then only the first day is listed
    assert [day["date"] for day in body["days"]] == [first.isoformat()]


def test_a_table_made_before_the_calendar_index_gets_it_filled_at_the_next_start(
    offices: dict[str, Office], dynamodb_local: DynamoDBLocal
) -> None:
    # Given a slots table made without the calendar's index, holding an opened day
    client = boto3.client("dynamodb", endpoint_url=dynamodb_local.endpoint_url)
    name = TABLE_NAMES["SlotsTable"]
    definition = table_definitions(load_template())["SlotsTable"]["create_table"]
    keys = {key["AttributeName"] for key in definition["KeySchema"]}
    client.delete_table(TableName=name)
    client.create_table(
        TableName=name,
        KeySchema=definition["KeySchema"],
        AttributeDefinitions=[
            a for a in definition["AttributeDefinitions"] if a["AttributeName"] in keys
        ],
        BillingMode=definition["BillingMode"],
    )
    office = offices["new-york"]
    day = date.today() + timedelta(days=7)
    while not slot_starts(office, day):
        day += timedelta(days=1)
    write_weekdays([office], day, 1)
    # When the local stack makes the template's tables again (as at each start)
    created = create_tables(client, TABLE_NAMES, load_template())
    # Then the table and its data are kept, and the calendar finds the day through the index
    assert name not in created
    (listed,) = list_days(day, day)["days"]
    assert listed["date"] == day.isoformat()
    assert listed["available"] == office.capacity * len(slot_starts(office, day))
