"""The API's request and response bodies (JSON names are camelCase)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)
from pydantic.alias_generators import to_camel

from appointments.applicants import has_visible_letters
from appointments.vocabulary import AppointmentStatus, Language, OfficeKind, Service

EARLIEST_BIRTH_DATE = date(1900, 1, 1)


def _has_something_to_read(value: str) -> str:
    if not has_visible_letters(value):
        raise ValueError("must contain letters")
    return value


# No control characters (C0, DEL, C1); something visible besides spaces and format characters.
Name = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f-\x9f]+$"
    ),
    AfterValidator(_has_something_to_read),
]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=32)]
Pin = Annotated[str, StringConstraints(pattern=r"^\d{6,8}$")]
# "<officeId>:<local date>T<HH:MM>", as the slots listing gives it.
SlotIdText = Annotated[
    str,
    StringConstraints(max_length=100, pattern=r"^[^:]{1,64}:\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$"),
]
CaseNumberText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)]


class ApiModel(BaseModel):
    # Validators are built on first use: each function validates only its own route's models.
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", defer_build=True
    )


def _written_as_a_date(value: object) -> object:
    """Only YYYY-MM-DD: pydantic would also read a number, or a string of digits, as a Unix
    time (so `0` was 1 January 1970)."""
    if isinstance(value, date) or (isinstance(value, str) and _ISO_DATE.fullmatch(value)):
        return value
    raise ValueError("must be a date written YYYY-MM-DD")


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
IsoDate = Annotated[date, BeforeValidator(_written_as_a_date)]


def _check_date_of_birth(value: date) -> date:
    if not (EARLIEST_BIRTH_DATE <= value <= date.today()):
        raise ValueError("must be a real date of birth, not in the future")
    return value


DateOfBirth = Annotated[IsoDate, AfterValidator(_check_date_of_birth)]


NON_ASCII_MAILBOX = (
    "must have only ASCII letters, digits and punctuation before the @: "
    "the notice cannot be mailed to other addresses"
)


def mail_address(value: str) -> str:
    """The address as the mail service takes it (an international domain in its ASCII
    form). SES cannot deliver to a mailbox name with other than ASCII characters, so such an
    address is refused here rather than failing later, when the notice is mailed."""
    # email_validator builds its grammar at import: only requests that carry an address need it.
    from email_validator import EmailNotValidError, validate_email  # noqa: PLC0415

    try:
        checked = validate_email(value, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        pass
    else:
        return checked.ascii_email or checked.normalized
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        raise ValueError("is not a valid e-mail address") from None
    raise ValueError(NON_ASCII_MAILBOX)


MailAddress = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=254), AfterValidator(mail_address)
]


class Applicant(ApiModel):
    name: Name
    date_of_birth: DateOfBirth
    phone: Phone
    email: MailAddress | None = None


SolvedChallenge = Annotated[
    str,
    StringConstraints(min_length=1, max_length=4096, pattern=r"^[A-Za-z0-9+/=]+$"),
    Field(
        description=(
            "A solved challenge: GET /challenge, find the counter (see the README's "
            "'Challenges'), and send base64 of "
            '{"challenge": <the challenge as received>, "solution": {"counter": n, '
            '"derivedKey": "<hex>"}}. Each solved challenge takes one seat once.'
        )
    ),
]


class BookingIn(ApiModel):
    office_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    service: Service
    slot_id: SlotIdText
    applicant: Applicant
    language: Language = Language.EN
    case_number: CaseNumberText | None = None
    challenge: SolvedChallenge


class RescheduleIn(ApiModel):
    slot_id: SlotIdText
    challenge: SolvedChallenge


class ChallengeParametersOut(ApiModel):
    algorithm: str = Field(examples=["PBKDF2/SHA-256"])
    nonce: str = Field(description="Hex; the key derivation's password is nonce + counter")
    salt: str = Field(description="Hex; the key derivation's salt")
    cost: int = Field(description="PBKDF2 iterations")
    key_length: int
    key_prefix: str = Field(description="Hex the derived key must start with")
    key_signature: str | None = None
    expires_at: int = Field(description="Unix time after which the challenge is refused")


class ChallengeOut(ApiModel):
    """An ALTCHA v2 challenge: find the counter (a big-endian uint32 after the nonce) whose
    PBKDF2 key starts with keyPrefix."""

    parameters: ChallengeParametersOut
    signature: str


class LookupIn(ApiModel):
    name: Name
    date_of_birth: DateOfBirth
    phone: Phone


class AppointmentOut(ApiModel):
    confirmation_number: str
    status: AppointmentStatus
    office_id: str
    service: Service
    slot_id: str
    start: datetime = Field(description="ISO 8601 with the office's UTC offset")
    language: Language
    applicant: Applicant
    case_number: str | None = None
    created_at: datetime
    updated_at: datetime


class BookingOut(AppointmentOut):
    pin: str = Field(description="Shown once. Keep it: it is needed to view or change the booking.")


class LookupOut(ApiModel):
    message: str


class AddressOut(ApiModel):
    street: str
    city: str
    state: str | None
    postal_code: str | None
    country: str


class OfficeOut(ApiModel):
    office_id: str
    name: str
    kind: OfficeKind
    address: AddressOut
    time_zone: str
    services: list[Service]
    opening_hours: dict[str, list[list[str]]]
    distance_miles: float | None = None


class OfficesOut(ApiModel):
    offices: list[OfficeOut]


class SlotOut(ApiModel):
    slot_id: str
    start: datetime = Field(description="Local time with the office's UTC offset")
    utc_offset: str = Field(examples=["-05:00"])
    available: int


class SlotsOut(ApiModel):
    office_id: str
    date: date
    time_zone: str
    slots: list[SlotOut]


class DayOut(ApiModel):
    date: Annotated[date, Field(description="The office's local date")]
    available: int = Field(description="Free seats that day")


class DaysOut(ApiModel):
    office_id: str
    service: Service
    time_zone: str
    from_: date = Field(alias="from")
    to: date
    days: list[DayOut] = Field(description="Only the days with a free seat, in date order")


class ErrorOut(BaseModel):
    error: str
    message: str
