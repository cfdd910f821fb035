"""Rendered notices in S3: one per version of an appointment, HTML and PDF.

A notice's key holds a keyed digest of the confirmation number, so it cannot be guessed from
it, and the appointment's `updated_at` as its version: rendering the same version again (a
stream record delivered twice) writes the same keys, so there is one notice, not two. The
appointment item points at its newest notice; an older version never replaces a newer one.
Notices are deleted when DynamoDB's TTL deletes the appointment's personal data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from pynamodb.exceptions import DoesNotExist, UpdateError

from appointments.codes import digest
from appointments.config import settings
from appointments.links import make_token
from appointments.models import AppointmentModel
from appointments.notices import NoticeInput, render_html, render_mail, render_pdf
from appointments.offices import catalogue

PDF = "application/pdf"
HTML = "text/html; charset=utf-8"


@cache
def _s3() -> Any:
    # Signature version 4: presigned links carry their own expiry (X-Amz-Expires).
    return boto3.client("s3", config=Config(signature_version="s3v4"))


@dataclass(frozen=True)
class NoticeFile:
    version: str
    pdf_key: str

    @property
    def html_key(self) -> str:
        return self.pdf_key.removesuffix(".pdf") + ".html"


def notice_prefix(confirmation_number: str) -> str:
    return f"notices/{digest('notice', confirmation_number)[:40]}/"


def version_of(appointment: AppointmentModel) -> str:
    updated: datetime = appointment.updated_at
    return updated.strftime("%Y%m%dT%H%M%S%fZ")


def current_notice(appointment: AppointmentModel) -> NoticeFile | None:
    """The newest notice the appointment points at, or None before its first rendering."""
    if not appointment.notice_key or not appointment.notice_version:
        return None
    return NoticeFile(appointment.notice_version, appointment.notice_key)


def notice_file_for(appointment: AppointmentModel) -> NoticeFile:
    version = version_of(appointment)
    return NoticeFile(version, f"{notice_prefix(appointment.confirmation_number)}{version}.pdf")


def _notice_input(appointment: AppointmentModel) -> NoticeInput:
    return NoticeInput(
        confirmation_number=appointment.confirmation_number,
        status=appointment.status,
        name=appointment.name,
        service=appointment.service,
        case_number=appointment.case_number,
        start_utc=appointment.start_utc,
        language=appointment.language,
    )


def render_notice(appointment: AppointmentModel) -> NoticeFile:
    """Render and store the notice of this version of the appointment, then point the
    appointment at it unless a newer notice is already there."""
    notice = notice_file_for(appointment)
    html = render_html(_notice_input(appointment), catalogue.get(appointment.office_id))
    bucket = settings().notices_bucket
    _s3().put_object(Bucket=bucket, Key=notice.html_key, Body=html.encode(), ContentType=HTML)
    _s3().put_object(Bucket=bucket, Key=notice.pdf_key, Body=render_pdf(html), ContentType=PDF)
    try:
        AppointmentModel(appointment.confirmation_number).update(
            actions=[
                AppointmentModel.notice_version.set(notice.version),
                AppointmentModel.notice_key.set(notice.pdf_key),
            ],
            condition=AppointmentModel.confirmation_number.exists()
            & (
                AppointmentModel.notice_version.does_not_exist()
                | (AppointmentModel.notice_version < notice.version)
            ),
        )
    except UpdateError as error:
        # A failed condition means an equal or newer notice is already current.
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
    return notice


def delete_notices(confirmation_number: str) -> int:
    """Delete every notice of an appointment (its personal data has been purged)."""
    bucket = settings().notices_bucket
    listed = _s3().list_objects_v2(Bucket=bucket, Prefix=notice_prefix(confirmation_number))
    keys = [{"Key": item["Key"]} for item in listed.get("Contents", [])]
    if keys:
        _s3().delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
    return len(keys)


def download_url(key: str) -> str:
    """A short-lived link to a notice, signed with the caller's current credentials."""
    url: str = _s3().generate_presigned_url(
        "get_object",
        Params={"Bucket": settings().notices_bucket, "Key": key},
        ExpiresIn=settings().notice_url_seconds,
    )
    return url


@cache
def _ses() -> Any:
    return boto3.client("ses")


def mail_notice(appointment: AppointmentModel, notice: NoticeFile, now: datetime) -> bool:
    """E-mail the notice's download link to the address on file, once per notice version and
    notice request. Returns whether a mail was sent.

    The mail is marked as sent only after SES accepted it: a failure or a timeout anywhere
    before the mark leaves the mail to the retry of the stream record, so it may go out twice
    but is never lost."""
    if not appointment.email:
        return False
    requested = appointment.notice_requested_at
    mail_key = f"{notice.version}/{requested.isoformat() if requested else ''}"
    try:
        # With the key: an item projected to nothing reads as absent.
        mailed = AppointmentModel.get(
            appointment.confirmation_number,
            consistent_read=True,
            attributes_to_get=[AppointmentModel.confirmation_number.attr_name, "mailed_key"],
        )
    except DoesNotExist:
        return False  # purged meanwhile: nobody to write to
    if mailed.mailed_key == mail_key:
        return False  # this record was handled already
    valid_for = timedelta(days=settings().notice_link_days)
    link = f"{settings().public_api_url.rstrip('/')}/notices/" + make_token(
        appointment.confirmation_number, notice.version, now, valid_for
    )
    mail = render_mail(
        _notice_input(appointment),
        catalogue.get(appointment.office_id),
        link,
        settings().notice_link_days,
    )
    _ses().send_email(
        Source=settings().sender_address,
        Destination={"ToAddresses": [appointment.email]},
        Message={
            "Subject": {"Data": mail.subject, "Charset": "UTF-8"},
            "Body": {
                "Html": {"Data": mail.html, "Charset": "UTF-8"},
                "Text": {"Data": mail.text, "Charset": "UTF-8"},
            },
        },
    )
    try:
        AppointmentModel(appointment.confirmation_number).update(
            actions=[AppointmentModel.mailed_key.set(mail_key)],
            condition=AppointmentModel.confirmation_number.exists(),
        )
    except UpdateError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
    return True
