"""Who may get a notice mail: at most MAX_NOTICE_MAILS_PER_DAY a day to one mailbox, and none
to an address whose mail bounced for good or that complained (SES's feedback).

Both are decided in one TransactWriteItems before a mail is sent: a condition check that the
address is not suppressed, and the day's count for the mailbox raised only while under the
allowance. The limits table keys them by a keyed digest of the mailbox (applicants.py's
normalisation: case, "+tags" and Gmail dots do not make new mailboxes), so it holds no address.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pynamodb.transactions import TransactWrite

from appointments.applicants import normalise_email
from appointments.codes import digest
from appointments.config import settings
from appointments.models import LimitModel
from appointments.transactions import TransactionRefused, run_transaction

SUPPRESSED_FOR = timedelta(days=365)


class Withheld(StrEnum):
    """Why a mail was not sent; the value names it in metrics."""

    SUPPRESSED = "suppressed"
    DAILY_LIMIT = "daily_limit"


def _mailbox(address: str) -> str:
    return digest("mailbox", normalise_email(address))


def _suppressed(address: str) -> LimitModel:
    return LimitModel(f"suppressed#{_mailbox(address)}")


def allow_mail(address: str, now: datetime) -> Withheld | None:
    """Count one mail to `address` today, if it may have one; else why not."""
    suppressed = _suppressed(address)
    today = LimitModel(
        f"mail#{_mailbox(address)}#{now.date().isoformat()}", expires_at=now + timedelta(days=2)
    )

    def count(tx: TransactWrite) -> None:
        tx.condition_check(
            LimitModel, suppressed.limit_key, condition=LimitModel.limit_key.does_not_exist()
        )
        today.count_one_more(tx, settings().max_notice_mails_per_day)

    try:
        run_transaction(count)
    except TransactionRefused as refused:
        if refused.condition_failed(suppressed):
            return Withheld.SUPPRESSED
        if refused.condition_failed(today):
            return Withheld.DAILY_LIMIT
        raise
    return None


def suppress(address: str, reason: str, now: datetime) -> None:
    """No more mail to `address` (it bounced for good, or its owner complained)."""
    suppressed = _suppressed(address)
    suppressed.reason, suppressed.expires_at = reason, now + SUPPRESSED_FOR
    suppressed.save()


def recipients_to_suppress(notification: dict[str, Any]) -> tuple[str, list[str]]:
    """The reason and the addresses an SES bounce or complaint notification (or event) names
    for suppression: permanent bounces and complaints; a transient bounce suppresses nobody."""
    kind = str(notification.get("notificationType") or notification.get("eventType") or "")
    if kind == "Bounce":
        bounce = notification.get("bounce") or {}
        if bounce.get("bounceType") != "Permanent":
            return "bounce", []
        listed = bounce.get("bouncedRecipients") or []
        return "bounce", [str(r["emailAddress"]) for r in listed if r.get("emailAddress")]
    if kind == "Complaint":
        listed = (notification.get("complaint") or {}).get("complainedRecipients") or []
        return "complaint", [str(r["emailAddress"]) for r in listed if r.get("emailAddress")]
    return kind.lower(), []
