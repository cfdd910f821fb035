"""Every DynamoDB table of the service, as pynamodb models.

Tables and their access patterns (the README has the full picture):
- offices:      office_id -> office. The catalogue is small and read whole (Scan), then cached.
- slots:        (office_day, start_time) -> capacity and booked count. "office_day" is
                "<officeId>#<local date>", so one Query lists an office's day. The index
                office-month ("<officeId>#<YYYY-MM>", "<date>T<time>") lists an office's month
                in one Query, for the calendar of days with free seats.
- appointments: confirmation (the confirmation number) -> appointment. Its stream feeds the
                notice renderer.
- limits:       limit_key -> a spent proof of work or time, a shard of the count of
                challenges handed out per minute (challenges.py), a mailbox's notice mails of
                a day or its suppression (mail_limits.py).
- applicants:   applicant_key (a keyed digest: of the normalised name and date of birth, of a
                phone number, or of an e-mail address) -> the one active appointment that
                claimed it (guards.py). Holds no readable personal data.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from pynamodb.attributes import (
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.connection import Connection
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from appointments.config import settings
from appointments.vocabulary import ACTIVE_STATUSES, AppointmentStatus

__all__ = ["ACTIVE_STATUSES", "BOOKED", "CANCELLED", "RESCHEDULED"]

BOOKED = AppointmentStatus.BOOKED
RESCHEDULED = AppointmentStatus.RESCHEDULED
CANCELLED = AppointmentStatus.CANCELLED

_REGION = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def purge_time(start: datetime) -> datetime:
    """When DynamoDB's TTL deletes an item about an appointment time (the appointment and its
    personal data, a slot): PURGE_AFTER_DAYS after that time."""
    return start + timedelta(days=settings().purge_after_days)


def guard_expiry(start: datetime) -> datetime:
    """When an applicant's guard item is deleted: a day after its appointment (it stops
    counting at the appointment time already, see ApplicantModel.active_until)."""
    return start + timedelta(days=1)


class _Meta:
    region = _REGION
    # Transactions and conflicts are retried by the domain with jitter; keep SDK retries short.
    max_retry_attempts = 3
    connect_timeout_seconds = 2
    read_timeout_seconds = 5
    max_pool_connections = 32


class AddressAttribute(MapAttribute[str, Any]):
    street = UnicodeAttribute()
    city = UnicodeAttribute()
    state = UnicodeAttribute(null=True)
    postal_code = UnicodeAttribute(null=True)
    country = UnicodeAttribute()


class OfficeModel(Model):
    class Meta(_Meta):
        table_name = settings().offices_table

    office_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    kind = UnicodeAttribute()  # an OfficeKind
    time_zone = UnicodeAttribute()
    address = AddressAttribute()
    services = ListAttribute[str]()  # Service values
    latitude = NumberAttribute(null=True)
    longitude = NumberAttribute(null=True)
    serves_states = ListAttribute[str](default=list)
    serves_countries = ListAttribute[str](default=list)
    case_prefixes = ListAttribute[str](default=list)
    # {"mon": [["08:00", "12:00"], ["13:00", "16:00"]], ...}: windows per weekday
    opening_hours = MapAttribute[str, Any](default=dict)
    slot_minutes = NumberAttribute(default=30)
    capacity = NumberAttribute(default=1)  # officers at the windows: seats per slot
    closures = ListAttribute[str](default=list)  # ISO dates closed one-off


class SlotsByMonth(GlobalSecondaryIndex["SlotModel"]):
    """An office's slots of one month, in time order; kept by DynamoDB, so the booking
    transaction writes nothing more (an availability item per day would be one hot item that
    every booking of the day contends for)."""

    class Meta:
        index_name = "office-month"
        projection = IncludeProjection(["capacity", "booked", "start_utc"])

    office_month = UnicodeAttribute(hash_key=True)  # "<officeId>#<YYYY-MM>"
    day_start = UnicodeAttribute(range_key=True)  # "<YYYY-MM-DD>T<HH:MM>"


class SlotModel(Model):
    class Meta(_Meta):
        table_name = settings().slots_table

    office_day = UnicodeAttribute(hash_key=True)  # "<officeId>#<YYYY-MM-DD>" (office's date)
    start_time = UnicodeAttribute(range_key=True)  # "HH:MM" in the office's time zone
    start_utc = UTCDateTimeAttribute()
    capacity = NumberAttribute()
    booked = NumberAttribute(default=0)
    expires_at = TTLAttribute(null=True)
    office_month = UnicodeAttribute(null=True)
    day_start = UnicodeAttribute(null=True)
    by_month = SlotsByMonth()


class AppointmentModel(Model):
    class Meta(_Meta):
        table_name = settings().appointments_table

    # Stored as "confirmation": the table's key, named in template.yaml.
    confirmation_number = UnicodeAttribute(hash_key=True, attr_name="confirmation")
    status = UnicodeAttribute()  # an AppointmentStatus
    office_id = UnicodeAttribute()
    service = UnicodeAttribute()  # a Service
    slot_id = UnicodeAttribute()
    start_utc = UTCDateTimeAttribute()
    language = UnicodeAttribute()  # a Language
    name = UnicodeAttribute()
    date_of_birth = UnicodeAttribute()
    phone = UnicodeAttribute()
    email = UnicodeAttribute(null=True)
    case_number = UnicodeAttribute(null=True)
    pin_hash = UnicodeAttribute()
    applicant_key = UnicodeAttribute()
    # The keys of the applicants-table guards the appointment holds (guards.py); unset on
    # appointments booked when only the person had a guard.
    guard_keys = ListAttribute[str](null=True)
    # How often the appointment was moved to another time (at most MAX_RESCHEDULES).
    reschedules = NumberAttribute(null=True)
    # Keyed digest of the booking request, set when it carried an Idempotency-Key.
    request_digest = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    # Wrong PINs since the last right one; each sets `locked_until` to when a lock-out would
    # end if it reached the limit. Locked while the count is at the limit and that is ahead.
    pin_failures = NumberAttribute(default=0)
    locked_until = UTCDateTimeAttribute(null=True)
    notice_requested_at = UTCDateTimeAttribute(null=True)
    # When a lookup last asked for a link to set a new PIN (pin_reset.py); removed when used.
    pin_reset_requested_at = UTCDateTimeAttribute(null=True)
    # The newest rendered notice: its version (the appointment's updated_at) and S3 key.
    notice_version = UnicodeAttribute(null=True)
    notice_key = UnicodeAttribute(null=True)
    # "<notice version>/<notice request>" of the last e-mail, so a repeated record mails once.
    mailed_key = UnicodeAttribute(null=True)
    expires_at = TTLAttribute()


class ApplicantModel(Model):
    class Meta(_Meta):
        table_name = settings().applicants_table

    applicant_key = UnicodeAttribute(hash_key=True)
    confirmation_number = UnicodeAttribute(attr_name="confirmation")
    phone_digest = UnicodeAttribute()
    # The guard stops counting once the appointment time has passed.
    active_until = UTCDateTimeAttribute()
    lookup_window_start = UTCDateTimeAttribute(null=True)
    lookup_count = NumberAttribute(default=0)
    expires_at = TTLAttribute()


class LimitModel(Model):
    """What the service counts or remembers to limit abuse (keys are digests, never data):
    - "used#<proof id>": a spent proof of work or time (challenges.py), until it would expire;
    - "demand#<shard>": challenges handed out, a count per minute in attributes "m<minute>";
    - "mail#<mailbox>#<date>": notice mails sent to a mailbox that day (mail_limits.py);
    - "network#<network>#<date>": appointments booked from a network that day (networks.py);
    - "suppressed#<mailbox>": no mail to it (a permanent bounce or a complaint)."""

    class Meta(_Meta):
        table_name = settings().limits_table

    limit_key = UnicodeAttribute(hash_key=True)
    hits = NumberAttribute(null=True)  # the mails of "mail#…", the bookings of "network#…"
    reason = UnicodeAttribute(null=True)
    expires_at = TTLAttribute()

    def count_one_more(self, tx: TransactWrite, limit: int) -> None:
        """One more hit in `tx`, kept until this item's expiry, while it has fewer than `limit`
        (the transaction fails on this item's condition once it has them)."""
        tx.update(
            self,
            actions=[LimitModel.hits.add(1), LimitModel.expires_at.set(self.expires_at)],
            condition=LimitModel.hits.does_not_exist() | (LimitModel.hits < limit),
        )


ALL_MODELS: tuple[type[Model], ...] = (
    OfficeModel,
    SlotModel,
    AppointmentModel,
    ApplicantModel,
    LimitModel,
)


@lru_cache(maxsize=1)
def transaction_connection() -> Connection:
    """One shared connection for transactions and for updates that need the item DynamoDB
    refused (ReturnValuesOnConditionCheckFailure): creating a botocore client costs ~50 ms."""
    return Connection(
        region=_Meta.region,
        max_retry_attempts=_Meta.max_retry_attempts,
        connect_timeout_seconds=_Meta.connect_timeout_seconds,
        read_timeout_seconds=_Meta.read_timeout_seconds,
        max_pool_connections=_Meta.max_pool_connections,
    )


def reset_connections() -> None:
    """Drop the process's DynamoDB connections: the next request connects anew, to the endpoint
    the environment names then. A Lambda container never changes endpoint; a process that moves
    between engines (the tests: moto, then DynamoDB Local) calls this at each move."""
    for model in ALL_MODELS:
        # pynamodb keeps a model's connection on its class, with no public way to drop it.
        model._connection = None  # noqa: SLF001
    transaction_connection.cache_clear()
