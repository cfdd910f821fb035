"""Settings read once from the environment the SAM template gives each function.

A plain pydantic model read from os.environ by the variables' names: pydantic-settings would
do the same with a slower import (its sources for files and clouds this service never reads).
"""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    model_config = ConfigDict(extra="ignore")

    offices_table: str = Field(default="offices", alias="OFFICES_TABLE")
    slots_table: str = Field(default="slots", alias="SLOTS_TABLE")
    appointments_table: str = Field(default="appointments", alias="APPOINTMENTS_TABLE")
    applicants_table: str = Field(default="applicants", alias="APPLICANTS_TABLE")
    limits_table: str = Field(default="limits", alias="LIMITS_TABLE")
    secret_name: str = Field(default="appointment-service/secret", alias="SERVICE_SECRET_NAME")
    # Personal data is purged this many days after the appointment time (DynamoDB TTL).
    purge_after_days: int = Field(default=30, alias="PURGE_AFTER_DAYS", ge=1)
    max_pin_failures: int = Field(default=5, alias="MAX_PIN_FAILURES", ge=1)
    lockout_minutes: int = Field(default=15, alias="LOCKOUT_MINUTES", ge=1)
    # How long a repeated Idempotency-Key returns the original booking.
    idempotency_hours: int = Field(default=24, alias="IDEMPOTENCY_HOURS", ge=1)
    # Proofs before taking a seat (challenges.py): mean PBKDF2 derivations of a challenge and
    # seconds of a time-lock when calm and at the rush (challenges a minute) and above.
    challenge_calm_work: int = Field(default=50, alias="CHALLENGE_CALM_WORK", ge=1)
    challenge_rush_work: int = Field(default=5000, alias="CHALLENGE_RUSH_WORK", ge=1)
    challenge_rush_demand: int = Field(default=600, alias="CHALLENGE_RUSH_DEMAND", ge=2)
    time_lock_calm_seconds: int = Field(default=5, alias="TIME_LOCK_CALM_SECONDS", ge=1)
    time_lock_rush_seconds: int = Field(default=45, alias="TIME_LOCK_RUSH_SECONDS", ge=1)
    # Notice mails one mailbox gets a day at most (lookups and changes each send one).
    max_notice_mails_per_day: int = Field(default=5, alias="MAX_NOTICE_MAILS_PER_DAY", ge=1)
    # SES configuration set the notice mails go out with (bounce and complaint feedback).
    mail_configuration_set: str | None = Field(default=None, alias="MAIL_CONFIGURATION_SET")
    # Appointments one network (an IPv4 address, an IPv6 /64) books a day; 0: no limit. The
    # networks listed in TRUSTED_NETWORKS (comma-separated CIDRs) are not counted.
    bookings_per_network: int = Field(default=3, alias="BOOKINGS_PER_NETWORK", ge=0)
    trusted_networks: str = Field(default="", alias="TRUSTED_NETWORKS")
    # How often one appointment may be moved to another time.
    max_reschedules: int = Field(default=2, alias="MAX_RESCHEDULES", ge=0)
    # Notice recoveries allowed per applicant per hour (POST /appointments/lookup).
    lookups_per_hour: int = Field(default=3, alias="LOOKUPS_PER_HOUR", ge=1)
    # The release's schedule (Monday to Friday): its local time and time zone.
    release_time: str = Field(
        default="17:00", alias="RELEASE_TIME", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
    )
    release_time_zone: str = Field(default="America/New_York", alias="RELEASE_TIME_ZONE")
    # Release days each run opens ahead (1: the days that start before the next run).
    release_horizon_days: int = Field(default=1, alias="RELEASE_HORIZON_DAYS", ge=1, le=60)
    notices_bucket: str = Field(default="notices", alias="NOTICES_BUCKET")
    # How long a download link to a notice in S3 works (the API hands out fresh ones).
    notice_url_seconds: int = Field(default=300, alias="NOTICE_URL_SECONDS", ge=10, le=3600)
    # How long the download link in an e-mail works.
    notice_link_days: int = Field(default=7, alias="NOTICE_LINK_DAYS", ge=1, le=90)
    # The site's address (the distribution's, which also serves the API): e-mailed links use it.
    public_site_url: str = Field(default="http://127.0.0.1:3000", alias="PUBLIC_SITE_URL")
    sender_address: str = Field(default="notices@example.gov", alias="SENDER_ADDRESS")
    office_cache_seconds: int = Field(default=300, alias="OFFICE_CACHE_SECONDS", ge=0)


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings.model_validate(dict(os.environ))


def public_site_url() -> str:
    """The base URL of the public web site (its pages are served by the same API), without a
    trailing slash: where links in e-mails lead."""
    return settings().public_site_url.rstrip("/")
