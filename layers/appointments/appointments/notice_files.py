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
from typing import TYPE_CHECKING, Any, Literal

from botocore.config import Config
from pynamodb.exceptions import DoesNotExist, UpdateError

from appointments import access, pin_reset
from appointments.codes import digest
from appointments.config import public_site_url, settings
from appointments.errors import LinkInvalid, NotFound
from appointments.links import make_token, read_token
from appointments.mail_limits import allow_mail
from appointments.models import AppointmentModel
from appointments.observability import count, logger
from appointments.offices import catalogue

if TYPE_CHECKING:
    from appointments.notices import NoticeInput

PDF = "application/pdf"
HTML = "text/html; charset=utf-8"
# A new notice is due when one of these changed; other changes (PIN failures, the notice
# bookkeeping itself) leave the notice as it is.
NOTICE_FIELDS = ("status", "slot_id", "start_utc", "office_id", "language", "name")


@cache
def _s3() -> Any:
    import boto3  # noqa: PLC0415 - with s3transfer: for the functions that reach S3 or SES

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


def notice_of_this_version(appointment: AppointmentModel) -> NoticeFile | None:
    """The current notice if it shows the appointment as it is now; None while this version's
    notice is being rendered (the one before it shows an old time or status)."""
    notice = current_notice(appointment)
    if notice is None or notice.version < version_of(appointment):
        return None
    return notice


def notice_file_for(appointment: AppointmentModel) -> NoticeFile:
    version = version_of(appointment)
    return NoticeFile(version, f"{notice_prefix(appointment.confirmation_number)}{version}.pdf")


def _notice_input(appointment: AppointmentModel) -> NoticeInput:
    # The notice templates load Jinja2, Babel and segno: only drawing or mailing needs them.
    from appointments.notices import NoticeInput  # noqa: PLC0415

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
    from appointments.notices import render_html, render_pdf  # noqa: PLC0415 - as _notice_input

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


def download_url_of_current(
    appointment: AppointmentModel, file_format: Literal["pdf", "html"]
) -> str:
    """A short-lived link to the appointment's current notice; 404 with Retry-After while
    its first notice is being rendered."""
    notice = current_notice(appointment)
    if notice is None:
        raise NotFound(
            "The notice is being prepared. Please try again in a minute.",
            retry_after_seconds=30,
        )
    return download_url(notice.pdf_key if file_format == "pdf" else notice.html_key)


def download_url_for_link(token: str, now: datetime) -> str:
    """A short-lived link to the current notice of the appointment an e-mailed link names.

    The link leads to the current notice, not to the version it was made for, so an older
    e-mail leads to the new notice; a link naming a version not rendered yet is refused.
    """
    claims = read_token(token, now)
    try:
        appointment = access.find(claims.confirmation_number)
    except NotFound as error:
        raise LinkInvalid("This notice is no longer available.") from error
    current = current_notice(appointment)
    if current is None or claims.version > current.version:
        raise LinkInvalid("This link is not valid or has expired.")
    return download_url(current.pdf_key)


@cache
def _ses() -> Any:
    import boto3  # noqa: PLC0415 - with s3transfer: for the functions that reach S3 or SES

    # At the release minute the renderer's instances together can send faster than the
    # account's SES rate: a throttled send waits and goes again, each client slowing itself
    # down (adaptive retries), rather than failing its record towards the failures queue.
    return boto3.client("ses", config=Config(retries={"mode": "adaptive", "max_attempts": 10}))


def mail_notice(
    appointment: AppointmentModel, notice: NoticeFile, now: datetime, *, with_pin_reset: bool
) -> bool:
    """E-mail the notice's download link to the address on file, once per notice version and
    notice request; `with_pin_reset`: with the link to set a new PIN that a lookup asked for
    (while it works). Returns whether a mail was sent.

    The mail is marked as sent only after SES accepted it: a failure or a timeout anywhere
    before the mark leaves the mail to the retry of the stream record, so it may go out twice
    but is never lost."""
    from appointments.notices import render_mail  # noqa: PLC0415 - as _notice_input

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
    withheld = allow_mail(appointment.email, now)
    if withheld is not None:
        count("NoticeMailsWithheld")
        logger.info("notice mail withheld", extra={"reason": withheld.value})
        return False
    valid_for = timedelta(days=settings().notice_link_days)
    link = f"{public_site_url()}/notices/" + make_token(
        appointment.confirmation_number, notice.version, now, valid_for
    )
    mail = render_mail(
        _notice_input(appointment),
        catalogue.get(appointment.office_id),
        link,
        settings().notice_link_days,
        pin_reset_link=pin_reset.reset_link(appointment, now) if with_pin_reset else None,
        pin_reset_minutes=pin_reset.LINK_MINUTES,
    )
    configuration = settings().mail_configuration_set
    _ses().send_email(
        **({"ConfigurationSetName": configuration} if configuration else {}),
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


@dataclass(frozen=True)
class NoticeWork:
    """What following one change of an appointment did."""

    rendered: bool = False
    mailed: bool = False
    deleted: int | None = None  # None: the appointment was not purged

    def metrics(self) -> dict[str, int]:
        counted = {"NoticesDeleted": self.deleted} if self.deleted is not None else {}
        if self.rendered:
            counted["NoticesRendered"] = 1
        if self.mailed:
            counted["NoticesMailed"] = 1
        return counted


def follow_change(
    old_image: dict[str, Any] | None, new_image: dict[str, Any] | None, now: datetime
) -> NoticeWork:
    """Keep the notices in step with one change of an appointment item (the table stream's
    images): a new version gets a new notice, mailed; a lost notice asked for again is the
    current one mailed again (rendered if there is none yet), with the link to set a new PIN;
    a purged appointment loses its notices. Any other change leaves them as they are."""
    old = AppointmentModel.from_raw_data(old_image) if old_image else None
    if not new_image:
        return NoticeWork(deleted=delete_notices(old.confirmation_number)) if old else NoticeWork()
    appointment = AppointmentModel.from_raw_data(new_image)
    changed = old is None or any(
        getattr(appointment, field) != getattr(old, field) for field in NOTICE_FIELDS
    )
    requested = old is not None and appointment.notice_requested_at != old.notice_requested_at
    if not (changed or requested):
        return NoticeWork()
    notice = None if changed else current_notice(appointment)
    rendered = notice is None
    if notice is None:
        notice = render_notice(appointment)
    mailed = mail_notice(appointment, notice, now, with_pin_reset=requested)
    return NoticeWork(rendered=rendered, mailed=mailed)
