"""The stream and scheduled functions log no personal data, above all when they fail: what
their logger writes, what anything prints, and what the Lambda runtime writes for an error
that escapes the handler (its message and stack) are all searched for the applicants'
names, dates of birth, phones, e-mail addresses and PINs."""

from __future__ import annotations

import io
import json
import logging
import re
import traceback
from collections.abc import Callable
from typing import Any

import pytest

from appointments.models import AppointmentModel
from tests.helpers import LambdaContext, applicant, book, free_slots, load_function, stream_record
from tests.unit.aws_faults import answered_with_error

pytestmark = pytest.mark.usefixtures("open_slots")

MARIA = applicant()
JEAN = applicant("Jean Pierre", "1970-02-03", "+12025550111", "jean.pierre@example.com")
Logs = Callable[[str], str]


@pytest.fixture
def everything_logged(
    log_output: io.StringIO, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> Logs:
    """All a function wrote: its logger, other loggers at INFO (Lambda's level), stdout and
    stderr, and the runtime's report of an escaped error (passed in)."""
    caplog.set_level(logging.INFO)

    def collected(runtime_report: str) -> str:
        out, err = capfd.readouterr()
        return "\n".join((log_output.getvalue(), caplog.text, out, err, runtime_report))

    return collected


def invoke(handler: Callable[[Any, Any], Any], event: Any) -> tuple[Any, str]:
    """Invoke as the Lambda runtime does: an error escaping the handler is written to the
    function's log with its message and stack. Returns the answer and that report."""
    try:
        return handler(event, LambdaContext()), ""
    except Exception as error:
        report = {
            "errorMessage": str(error),
            "errorType": type(error).__name__,
            "stackTrace": traceback.format_tb(error.__traceback__),
        }
        return None, json.dumps(report)


def assert_nothing_personal(logs: str, applicants: list[dict[str, Any]], pins: list[str]) -> None:
    for person in applicants:
        phone = person["phone"].removeprefix("+1")
        personal = (person["email"], phone, person["dateOfBirth"], *person["name"].split())
        for value in personal:
            assert value.lower() not in logs.lower(), f"{value} was logged"
    for pin in pins:
        assert not re.search(rf"(?<!\d){pin}(?!\d)", logs), "a PIN was logged"


def refusal_naming_the_recipient(body: dict[str, str]) -> str:
    """SES's answer to a mail to an address it will not send to (it names the address)."""
    return (
        "Email address is not verified. The following identities failed the check in region "
        f"US-EAST-1: {body['Destination.ToAddresses.member.1']}"
    )


def test_a_wholly_failed_notice_batch_logs_no_personal_data(everything_logged: Logs) -> None:
    # Given two bookings whose notices both fail: SES refuses Maria's mail, naming her
    # address, and S3 refuses to store Jean's notice
    maria = book()
    jean = book(free_slots()[1]["slotId"], applicant=JEAN)
    records = [
        stream_record("INSERT", AppointmentModel.get(booked["confirmationNumber"]))
        for booked in (maria, jean)
    ]
    with (
        answered_with_error(
            "ses", "SendEmail", "MessageRejected", refusal_naming_the_recipient, nth=None
        ),
        answered_with_error(
            "s3",
            "PutObject",
            "InternalError",
            "We encountered an internal error.",
            status=500,
            nth=3,
        ),
    ):
        # When the renderer gets the batch
        answer, runtime_report = invoke(
            load_function("render_notices").lambda_handler, {"Records": records}
        )
    # Then nothing personal was logged, though both failures were, by type
    logs = everything_logged(runtime_report)
    assert_nothing_personal(logs, [MARIA, JEAN], [maria["pin"], jean["pin"]])
    assert "MessageRejected" in logs
    assert "InternalError" in logs
    # and both records are handed back to the stream for a retry
    assert answer == {
        "batchItemFailures": [
            {"itemIdentifier": record["dynamodb"]["SequenceNumber"]} for record in records
        ]
    }


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_a_failed_release_logs_no_personal_data(everything_logged: Logs) -> None:
    # Given a booked appointment, and DynamoDB failing every write and read of slots
    booked = book()
    error = ("InternalServerError", "Internal server error")
    with (
        answered_with_error("dynamodb", "TransactWriteItems", *error, status=500, nth=None),
        answered_with_error("dynamodb:slots", "Query", *error, status=500, nth=None),
    ):
        # When the scheduled release runs
        answer, runtime_report = invoke(load_function("release_slots").lambda_handler, {})
    # Then it failed, and nothing personal was logged
    assert answer is None
    assert "InternalServerError" in runtime_report
    logs = everything_logged(runtime_report)
    assert_nothing_personal(logs, [MARIA], [booked["pin"]])
