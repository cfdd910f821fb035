"""`make bench`: what each handler costs next to the bare DynamoDB request it makes.

Runs against DynamoDB Local (secrets from moto's server) on this machine. Absolute times vary
with the machine; the ratio of a handler to its bare DynamoDB call, measured in the same run,
is the figure to compare between runs. (Import times and sizes: cold_start_bench.py.)
"""

from __future__ import annotations

import contextlib
import io
import ipaddress
import logging
import os
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from moto.server import ThreadedMotoServer

from appointments.offices import Office
from appointments.slots import open_day
from infra.local.dynamodb_local import DynamoDBLocal, free_port
from infra.tools.seed import seed_offices
from tests.helpers import (
    TABLE_NAMES,
    applicant,
    booking_body,
    call,
    create_secret,
    make_resources,
    next_weekday,
    reset_connections,
    solved_challenge,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "200"))


def timed(action: Callable[[], object], rounds: int = ROUNDS) -> list[float]:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def summary(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.95) - 1]


@contextmanager
def seeded_dynamodb_local() -> Iterator[tuple[DynamoDBLocal, dict[str, Office]]]:
    """DynamoDB Local with the template's tables and the sample offices, and moto's server for
    the service secret: what the handlers measured in this process call."""
    port = free_port()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per secrets request
    secrets = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    secrets.start()
    try:
        with DynamoDBLocal() as engine:
            os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = engine.endpoint_url
            os.environ["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = f"http://127.0.0.1:{port}"
            create_secret()
            reset_connections()
            make_resources(engine.endpoint_url)
            yield engine, {office.office_id: office for office in seed_offices()}
    finally:
        secrets.stop()


def main() -> None:
    with seeded_dynamodb_local() as (engine, offices):
        day = next_weekday()
        office = offices["new-york"]
        big = replace(office, capacity=10_000)
        open_day(big, day, starts=["09:00", "10:00"])
        # Powertools prints the ColdStart metric even with POWERTOOLS_METRICS_DISABLED.
        with contextlib.redirect_stdout(io.StringIO()):
            rows = measure(engine.endpoint_url, day.isoformat())
    print_table(rows)


def guard_put(guard: str, start: str) -> Any:
    """A guard's conditional put, as the booking's transaction sends it."""
    return {
        "Put": {
            "TableName": TABLE_NAMES["ApplicantsTable"],
            "Item": {"applicant_key": {"S": guard}, "active_until": {"S": start}},
            "ConditionExpression": "attribute_not_exists(applicant_key)",
        }
    }


def measure(endpoint_url: str, day: str) -> list[tuple[str, list[float], list[float]]]:
    # Same client settings as pynamodb's (no client-side parameter validation).
    client = boto3.client(
        "dynamodb", endpoint_url=endpoint_url, config=Config(parameter_validation=False)
    )
    slot_id = f"new-york:{day}T09:00"
    people = iter(range(10**6))
    # Solved before the clock runs (a client solves while its person types); the handler's
    # share is verifying it (one HMAC) and spending it in the booking's transaction.
    solved = iter([solved_challenge() for _ in range(2 * ROUNDS + 1)])

    def book() -> dict[str, str]:
        person = next(people)
        response = call(
            "POST",
            "/appointments",
            body=booking_body(
                slot_id,
                applicant=applicant(name=f"Bench Person{person}", email=None),
                challenge=next(solved),
            ),
            # each from a network of its own, as CloudFront names it (networks.py)
            headers={
                "CloudFront-Viewer-Address": f"{ipaddress.IPv4Address(0x0A000001 + person)}:443"
            },
        )
        assert response.status == 201, response.body
        return {
            "confirmation_number": response.body["confirmationNumber"],
            "pin": response.body["pin"],
        }

    def bare_booking_transaction() -> None:
        key = uuid.uuid4().hex
        start = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": TABLE_NAMES["AppointmentsTable"],
                        "Item": {"confirmation": {"S": key}, "status": {"S": "booked"}},
                        "ConditionExpression": "attribute_not_exists(confirmation)",
                    }
                },
                guard_put(f"person-{key}", start),
                guard_put(f"phone-{key}", start),
                {
                    "Put": {
                        "TableName": TABLE_NAMES["LimitsTable"],
                        "Item": {"limit_key": {"S": f"used#{key}"}, "expires_at": {"N": "1"}},
                        "ConditionExpression": "attribute_not_exists(limit_key)",
                    }
                },
                {
                    "Update": {
                        "TableName": TABLE_NAMES["LimitsTable"],
                        "Key": {"limit_key": {"S": f"network#{key}#{day}"}},
                        "UpdateExpression": "ADD hits :one SET expires_at = :expiry",
                        "ConditionExpression": "attribute_not_exists(hits) OR hits < :limit",
                        "ExpressionAttributeValues": {
                            ":one": {"N": "1"},
                            ":expiry": {"N": "1"},
                            ":limit": {"N": "3"},
                        },
                    }
                },
                {
                    "Update": {
                        "TableName": TABLE_NAMES["SlotsTable"],
                        "Key": {
                            "office_day": {"S": f"new-york#{day}"},
                            "start_time": {"S": "10:00"},
                        },
                        "UpdateExpression": "ADD booked :one",
                        "ConditionExpression": "booked < #capacity",
                        "ExpressionAttributeNames": {"#capacity": "capacity"},
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
            ]
        )

    warm = book()
    call(
        "GET",
        f"/appointments/{warm['confirmation_number']}",
        headers={"X-Appointment-Pin": warm["pin"]},
    )
    stored = client.get_item(
        TableName=TABLE_NAMES["AppointmentsTable"],
        Key={"confirmation": {"S": warm["confirmation_number"]}},
        ConsistentRead=True,
    )["Item"]

    def bare_pin_check() -> None:
        # The PIN check: an update that would count a wrong PIN, refused for the right one.
        try:
            client.update_item(
                TableName=TABLE_NAMES["AppointmentsTable"],
                Key={"confirmation": {"S": warm["confirmation_number"]}},
                UpdateExpression="ADD pin_failures :one SET locked_until = :until",
                ConditionExpression=(
                    "attribute_exists(confirmation) AND pin_hash <> :guess "
                    "AND (attribute_not_exists(pin_failures) OR pin_failures < :limit)"
                ),
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":until": {"S": datetime.now(UTC).isoformat()},
                    ":guess": stored["pin_hash"],
                    ":limit": {"N": "5"},
                },
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except client.exceptions.ConditionalCheckFailedException:
            return
        raise AssertionError("the right PIN was counted as wrong")

    bare_get = timed(bare_pin_check)
    handler_get = timed(
        lambda: call(
            "GET",
            f"/appointments/{warm['confirmation_number']}",
            headers={"X-Appointment-Pin": warm["pin"]},
        )
    )
    bare_transaction = timed(bare_booking_transaction)
    handler_book = timed(book)
    to_cancel = [book() for _ in range(ROUNDS)]
    cancels = iter(to_cancel)
    handler_cancel = timed(
        lambda: (
            (booked := next(cancels)),
            call(
                "DELETE",
                f"/appointments/{booked['confirmation_number']}",
                headers={"X-Appointment-Pin": booked["pin"]},
            ),
        )
    )
    return [
        ("GET /appointments/{c} (1 refused UpdateItem)", handler_get, bare_get),
        ("POST /appointments (1 TransactWriteItems)", handler_book, bare_transaction),
        (
            "DELETE /appointments/{c} (UpdateItem + TransactWriteItems)",
            handler_cancel,
            [g + t for g, t in zip(bare_get, bare_transaction, strict=True)],
        ),
    ]


def print_table(rows: list[tuple[str, list[float], list[float]]]) -> None:
    print(f"DynamoDB Local, {ROUNDS} rounds each; times in ms")
    print()
    print("| operation | handler median | handler p95 | bare DynamoDB median | ratio |")
    print("|---|---:|---:|---:|---:|")
    for name, handler, bare in rows:
        handler_median, handler_p95 = summary(handler)
        bare_median, _ = summary(bare)
        print(
            f"| {name} | {handler_median:.2f} | {handler_p95:.2f} | {bare_median:.2f} "
            f"| {handler_median / bare_median:.2f} |"
        )


if __name__ == "__main__":
    main()
