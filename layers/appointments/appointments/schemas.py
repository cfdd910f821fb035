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
    EmailStr,
    Field,
    StringConstraints,
)
from pydantic.alias_generators import to_camel

from appointments.vocabulary import AppointmentStatus, Language, OfficeKind, Service

EARLIEST_BIRTH_DATE = date(1900, 1, 1)
Name = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$"
    ),
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
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


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


class Applicant(ApiModel):
    name: Name
    date_of_birth: DateOfBirth
    phone: Phone
    email: EmailStr | None = None


class BookingIn(ApiModel):
    office_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    service: Service
    slot_id: SlotIdText
    applicant: Applicant
    language: Language = Language.EN
    case_number: CaseNumberText | None = None


class RescheduleIn(ApiModel):
    slot_id: SlotIdText


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
