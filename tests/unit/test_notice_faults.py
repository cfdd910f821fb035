"""A fault at any step of the notice renderer (render, S3, the notice's pointer, SES, the mail's
mark) loses no mail and makes no second notice: the stream delivers the record again, as
Lambda does after a failed record or an invocation that was ended, until it goes through."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest

from appointments.models import AppointmentModel
from tests.helpers import (
    ask_for_the_lost_notice,
    booked_appointment,
    deliver,
    sent_mail,
    stored_keys,
    stream_record,
)
from tests.unit.aws_faults import answered_with_error, deliver_until_done, invocation_ends

pytestmark = pytest.mark.usefixtures("open_slots")


REFUSED_ADDRESS = (
    "Email address is not verified. The following identities failed the check in region "
    "US-EAST-1: maria@example.com"
)
FAULTS: dict[str, Callable[[], AbstractContextManager[object]]] = {
    "SES refuses the mail": lambda: answered_with_error(
        "ses", "SendEmail", "MessageRejected", REFUSED_ADDRESS
    ),
    "ended before SES got the mail": lambda: invocation_ends("ses", "SendEmail", after=False),
    "ended after SES accepted the mail": lambda: invocation_ends("ses", "SendEmail", after=True),
    "S3 fails writing the PDF": lambda: answered_with_error(
        "s3", "PutObject", "InternalError", "We encountered an internal error.", status=500, nth=2
    ),
    "ended after the notice was recorded": lambda: invocation_ends(
        "dynamodb:appointments", "UpdateItem", after=True, naming="notice_key"
    ),
    "ended after the mail was recorded": lambda: invocation_ends(
        "dynamodb:appointments", "UpdateItem", after=True, naming="mailed_key"
    ),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_a_booking_notice_survives_a_fault_at_any_step(fault: str) -> None:
    # Given a booking's stream record, and a fault at one step of rendering and mailing it
    _, appointment = booked_appointment()
    record = stream_record("INSERT", appointment)
    with FAULTS[fault]():
        # When the stream delivers the record until it goes through
        deliveries = deliver_until_done(record)
    # Then there is exactly one notice, current, and the applicant got at least one mail
    assert deliveries == 2  # the fault did happen, once
    keys = stored_keys(appointment.confirmation_number)
    assert [key.rsplit(".", 1)[1] for key in keys] == ["html", "pdf"]
    assert AppointmentModel.get(appointment.confirmation_number).notice_key == keys[1]
    mails = sent_mail()
    assert 1 <= len(mails) <= 2
    assert {mail.destinations["ToAddresses"][0] for mail in mails} == {"maria@example.com"}
    # and a later duplicate delivery of the record sends nothing more
    deliver(record)
    assert len(sent_mail()) == len(mails)


@pytest.mark.parametrize("fault", ["SES refuses the mail", "ended before SES got the mail"])
def test_a_lost_notice_request_survives_a_failed_send(fault: str) -> None:
    # Given a booking whose notice went out, then a lookup asking for it again
    _, appointment = booked_appointment()
    deliver_until_done(stream_record("INSERT", appointment))
    rendered = AppointmentModel.get(appointment.confirmation_number)
    requested = ask_for_the_lost_notice(appointment)
    assert requested.notice_requested_at is not None
    # When the re-send fails once
    with FAULTS[fault]():
        deliveries = deliver_until_done(stream_record("MODIFY", requested, rendered))
    # Then the notice is mailed again all the same, with no new notice
    assert deliveries == 2
    assert len(sent_mail()) == 2
    assert len(stored_keys(appointment.confirmation_number)) == 2
