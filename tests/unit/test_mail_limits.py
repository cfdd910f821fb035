"""Mail abuse: a mailbox gets at most MAX_NOTICE_MAILS_PER_DAY notice mails a day, and none
once SES reports a permanent bounce or a complaint for it (mail_limits.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from appointments.config import settings
from appointments.models import AppointmentModel
from tests.helpers import (
    LambdaContext,
    booked_appointment,
    deliver,
    load_function,
    sent_mail,
    stream_record,
)

pytestmark = pytest.mark.usefixtures("open_slots")


def _asked_again(appointment: AppointmentModel, minutes: int) -> dict[str, Any]:
    """The stream record of a lost notice asked for `minutes` after the booking."""
    asked = AppointmentModel.get(appointment.confirmation_number)
    asked.notice_requested_at = appointment.created_at + timedelta(minutes=minutes)
    return stream_record("MODIFY", asked, appointment)


def _feedback(notification: dict[str, Any]) -> dict[str, Any]:
    """SES feedback as the SNS topic hands it to the function."""
    event = {"Records": [{
        "EventSource": "aws:sns", "EventVersion": "1.0",
        "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:feedback:1",
        "Sns": {"Type": "Notification", "MessageId": "1", "TopicArn": "arn:aws:sns:feedback",
                "Subject": None, "Message": json.dumps(notification),
                "Timestamp": datetime.now(UTC).isoformat(), "MessageAttributes": {}},
    }]}  # fmt: skip
    handler = load_function("record_mail_feedback").lambda_handler
    result: dict[str, Any] = handler(event, LambdaContext())
    return result


def _bounce(address: str, kind: str) -> dict[str, Any]:
    return {
        "notificationType": "Bounce",
        "bounce": {"bounceType": kind, "bouncedRecipients": [{"emailAddress": address}]},
    }


def test_a_mailbox_gets_at_most_the_days_allowance(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an allowance of two notice mails a day
    monkeypatch.setattr(settings(), "max_notice_mails_per_day", 2)
    _, appointment = booked_appointment()
    # When the booking's notice and three lost-notice requests are delivered
    deliver(stream_record("INSERT", appointment))
    for minutes in (1, 2, 3):
        deliver(_asked_again(appointment, minutes))
    # Then two mails went out
    assert len(sent_mail()) == 2


def test_a_permanent_bounce_stops_mail_to_that_address() -> None:
    # Given SES reported that mail to the address bounced for good
    _, appointment = booked_appointment()
    assert _feedback(_bounce("Maria@Example.com", "Permanent")) == {"suppressed": 1}
    # When the booking's notice is delivered
    deliver(stream_record("INSERT", appointment))
    # Then no mail goes to it
    assert sent_mail() == []


def test_a_transient_bounce_stops_nothing() -> None:
    _, appointment = booked_appointment()
    assert _feedback(_bounce("maria@example.com", "Transient")) == {"suppressed": 0}
    deliver(stream_record("INSERT", appointment))
    assert len(sent_mail()) == 1


def test_a_complaint_stops_mail_to_that_address() -> None:
    _, appointment = booked_appointment()
    complaint = {
        "eventType": "Complaint",
        "complaint": {"complainedRecipients": [{"emailAddress": "maria@example.com"}]},
    }
    assert _feedback(complaint) == {"suppressed": 1}
    deliver(stream_record("INSERT", appointment))
    assert sent_mail() == []


def test_feedback_is_recorded_without_the_address_in_the_logs(log_output: Any) -> None:
    _feedback(_bounce("maria@example.com", "Permanent"))
    assert "maria" not in log_output.getvalue().lower()
