"""Notices rendered from the appointments stream into S3, and downloaded with the PIN."""

from __future__ import annotations

import pytest

from appointments import notice_files
from appointments.models import AppointmentModel
from tests.helpers import (
    ask_for_the_lost_notice,
    book,
    booked_appointment,
    call,
    deliver,
    free_slots,
    sent_mail,
    stored_keys,
    stream_record,
)

pytestmark = pytest.mark.usefixtures("open_slots")


def test_a_booking_gets_an_html_and_pdf_notice() -> None:
    _, appointment = booked_appointment()
    result = deliver(stream_record("INSERT", appointment))
    keys = stored_keys(appointment.confirmation_number)
    assert result == {"batchItemFailures": []}
    assert [key.rsplit(".", 1)[1] for key in keys] == ["html", "pdf"]
    assert appointment.confirmation_number not in keys[0]  # not guessable from the number
    assert AppointmentModel.get(appointment.confirmation_number).notice_key == keys[1]


def test_a_record_delivered_twice_makes_one_notice() -> None:
    _, appointment = booked_appointment()
    record = stream_record("INSERT", appointment)
    deliver(record)
    deliver(record)
    assert len(stored_keys(appointment.confirmation_number)) == 2


def test_a_reschedule_makes_a_newer_notice_current_and_an_older_one_never_wins() -> None:
    # Given a booked appointment with its notice
    booked, before = booked_appointment()
    deliver(stream_record("INSERT", before))
    # When it is rescheduled, and the records arrive out of order
    second = free_slots()[1]["slotId"]
    call(
        "PUT",
        f"/appointments/{booked['confirmationNumber']}/slot",
        body={"slotId": second},
        headers={"X-Appointment-Pin": booked["pin"]},
    )
    after = AppointmentModel.get(before.confirmation_number)
    deliver(stream_record("MODIFY", after, before))
    deliver(stream_record("INSERT", before))
    # Then both notices exist, and the appointment points at the newer one
    assert len(stored_keys(before.confirmation_number)) == 4
    current = AppointmentModel.get(before.confirmation_number)
    assert current.notice_version is not None
    assert current.notice_key is not None
    assert current.notice_version > before.updated_at.strftime("%Y%m%d")
    assert after.updated_at.strftime("%Y%m%dT%H%M%S") in current.notice_key


def test_changes_that_do_not_touch_the_notice_render_nothing() -> None:
    booked, appointment = booked_appointment()
    call(
        "GET",
        f"/appointments/{booked['confirmationNumber']}",
        headers={"X-Appointment-Pin": "000000" if booked["pin"] != "000000" else "111111"},
    )
    failed_pin = AppointmentModel.get(appointment.confirmation_number)
    deliver(stream_record("MODIFY", failed_pin, appointment))
    assert stored_keys(appointment.confirmation_number) == []


def test_ttl_removal_deletes_the_notices() -> None:
    _, appointment = booked_appointment()
    deliver(stream_record("INSERT", appointment))
    deliver(stream_record("REMOVE", None, appointment))
    assert stored_keys(appointment.confirmation_number) == []


def test_a_bad_record_fails_alone() -> None:
    # Given a batch with a record of an office that does not exist, between two good ones
    _, good = booked_appointment()
    broken = AppointmentModel.get(good.confirmation_number)
    broken.office_id = "atlantis"
    broken.status = "rescheduled"
    bad_record = stream_record("MODIFY", broken, good)
    result = deliver(stream_record("INSERT", good), bad_record)
    # Then only the bad record is reported for retry, and the good one was rendered
    assert result == {
        "batchItemFailures": [{"itemIdentifier": bad_record["dynamodb"]["SequenceNumber"]}]
    }
    assert len(stored_keys(good.confirmation_number)) == 2


def test_download_redirects_to_a_short_lived_link_with_the_pin() -> None:
    booked, appointment = booked_appointment()
    path = f"/appointments/{booked['confirmationNumber']}/notice"
    pin = {"X-Appointment-Pin": booked["pin"]}
    not_yet = call("GET", path, headers=pin)
    deliver(stream_record("INSERT", appointment))
    pdf = call("GET", path, headers=pin)
    html = call("GET", path, headers=pin, query={"format": "html"})
    wrong = call(
        "GET",
        path,
        headers={"X-Appointment-Pin": "000000" if booked["pin"] != "000000" else "111111"},
    )
    assert (not_yet.status, not_yet.body["error"]) == (404, "not_found")
    assert "retry-after" in not_yet.headers
    assert pdf.status == 302
    assert ".pdf" in pdf.headers["location"]
    assert (
        "Expires=300" in pdf.headers["location"] or "X-Amz-Expires=300" in pdf.headers["location"]
    )
    assert ".html" in html.headers["location"]
    assert wrong.status == 403


def test_the_applicant_gets_the_link_by_mail_once_in_their_language() -> None:
    # Given a booking in Spanish with an e-mail address
    _, appointment = booked_appointment()
    record = stream_record("INSERT", appointment)
    # When its record is delivered twice
    deliver(record)
    deliver(record)
    # Then one mail went out, in Spanish, with a link to the API (not to S3)
    (mail,) = sent_mail()
    assert mail.destinations["ToAddresses"] == ["maria@example.com"]
    assert mail.subject == "Su aviso de cita"
    assert "/notices/" in mail.body
    assert "amazonaws.com" not in mail.body
    assert "7:45" in mail.body or appointment.confirmation_number in mail.body


def test_asking_for_a_lost_notice_mails_it_again_with_a_link_to_set_a_new_pin() -> None:
    # Given a booking whose notice was mailed
    _, appointment = booked_appointment()
    deliver(stream_record("INSERT", appointment))
    rendered = AppointmentModel.get(appointment.confirmation_number)
    # When its holder asks for it again
    requested = ask_for_the_lost_notice(appointment)
    deliver(stream_record("MODIFY", requested, rendered))
    # Then it is mailed again, this time with a link to set a new PIN (in Spanish)
    booking_mail, lookup_mail = sent_mail()
    assert "/pin/" not in booking_mail.body
    assert "/notices/" in lookup_mail.body
    assert f"/es/pin/{appointment.confirmation_number}." in lookup_mail.body
    assert "una sola vez, durante 30 minutos" in lookup_mail.body


def test_a_lookup_delivered_twice_mails_once() -> None:
    _, appointment = booked_appointment()
    requested = ask_for_the_lost_notice(appointment)
    record = stream_record("MODIFY", requested, appointment)
    deliver(record)
    deliver(record)
    assert len(sent_mail()) == 1


def test_no_address_no_mail() -> None:
    booked = book(applicant={"name": "Jean Pierre", "dateOfBirth": "1970-02-03",
                             "phone": "+12025550111", "email": None})  # fmt: skip
    appointment = AppointmentModel.get(booked["confirmationNumber"])
    deliver(stream_record("INSERT", appointment))
    assert sent_mail() == []
    assert len(stored_keys(appointment.confirmation_number)) == 2


def test_mail_throttled_by_ses_is_sent_again_at_a_pace_the_account_allows() -> None:
    # The renderer's instances share the account's SES rate: their client retries a throttled
    # send, slowing itself down (botocore's adaptive mode), beyond the default 5 attempts
    retries = notice_files._ses().meta.config.retries  # noqa: SLF001
    assert retries["mode"] == "adaptive"
    assert retries["total_max_attempts"] > 5
