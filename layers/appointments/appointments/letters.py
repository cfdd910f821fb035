"""Rendered notices ("letters") in S3: one per version of an appointment, HTML and PDF.

A letter's key holds a keyed digest of the confirmation number, so it cannot be guessed from
it, and the appointment's `updated_at` as its version: rendering the same version again (a
stream record delivered twice) writes the same keys, so there is one letter, not two. The
appointment item points at its newest letter; an older version never replaces a newer one.
Letters are deleted when DynamoDB's TTL deletes the appointment's personal data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from pynamodb.exceptions import UpdateError

from appointments.codes import digest
from appointments.config import settings
from appointments.models import AppointmentModel
from appointments.notices import NoticeInput, render_html, render_pdf
from appointments.offices import catalogue

PDF = "application/pdf"
HTML = "text/html; charset=utf-8"


@cache
def _s3() -> Any:
    # Signature version 4: presigned links carry their own expiry (X-Amz-Expires).
    return boto3.client("s3", config=Config(signature_version="s3v4"))


@dataclass(frozen=True)
class Letter:
    version: str
    pdf_key: str

    @property
    def html_key(self) -> str:
        return self.pdf_key.removesuffix(".pdf") + ".html"


def letter_prefix(confirmation: str) -> str:
    return f"notices/{digest('letter', confirmation)[:40]}/"


def version_of(appointment: AppointmentModel) -> str:
    updated: datetime = appointment.updated_at
    return updated.strftime("%Y%m%dT%H%M%S%fZ")


def letter_for(appointment: AppointmentModel) -> Letter:
    version = version_of(appointment)
    return Letter(version, f"{letter_prefix(appointment.confirmation)}{version}.pdf")


def render_letter(appointment: AppointmentModel) -> Letter:
    """Render and store the notice of this version of the appointment, then point the
    appointment at it unless a newer letter is already there."""
    letter = letter_for(appointment)
    html = render_html(
        NoticeInput(
            confirmation=appointment.confirmation,
            status=appointment.status,
            name=appointment.name,
            service=appointment.service,
            case_number=appointment.case_number,
            start_utc=appointment.start_utc,
            language=appointment.language,
        ),
        catalogue.get(appointment.office_id),
    )
    bucket = settings().letters_bucket
    _s3().put_object(Bucket=bucket, Key=letter.html_key, Body=html.encode(), ContentType=HTML)
    _s3().put_object(Bucket=bucket, Key=letter.pdf_key, Body=render_pdf(html), ContentType=PDF)
    try:
        AppointmentModel(appointment.confirmation).update(
            actions=[
                AppointmentModel.letter_version.set(letter.version),
                AppointmentModel.letter_key.set(letter.pdf_key),
            ],
            condition=AppointmentModel.confirmation.exists()
            & (
                AppointmentModel.letter_version.does_not_exist()
                | (AppointmentModel.letter_version < letter.version)
            ),
        )
    except UpdateError as error:
        # A failed condition means an equal or newer letter is already current.
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
    return letter


def delete_letters(confirmation: str) -> int:
    """Delete every letter of an appointment (its personal data has been purged)."""
    bucket = settings().letters_bucket
    listed = _s3().list_objects_v2(Bucket=bucket, Prefix=letter_prefix(confirmation))
    keys = [{"Key": item["Key"]} for item in listed.get("Contents", [])]
    if keys:
        _s3().delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
    return len(keys)


def download_url(key: str) -> str:
    """A short-lived link to a letter, signed with the caller's current credentials."""
    url: str = _s3().generate_presigned_url(
        "get_object",
        Params={"Bucket": settings().letters_bucket, "Key": key},
        ExpiresIn=settings().letter_url_seconds,
    )
    return url
