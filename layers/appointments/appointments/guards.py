"""One active appointment per person, per phone number and per e-mail address.

A booking claims a guard item in the applicants table for each detail that identifies its
applicant (applicants.py: the name with the date of birth, the phone number, the e-mail address
when given), inside the booking's own transaction: each claim is conditioned on the guard being
free or its appointment having passed, so no second active appointment can be made with any of
them, however many requests race. Cancelling deletes the guards and moving an appointment moves
their end, in the same transactions; the appointment remembers which guards it holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pynamodb.transactions import TransactWrite

from appointments.applicants import email_key, phone_digest, phone_key
from appointments.models import ApplicantModel, AppointmentModel, guard_expiry


class Claim(StrEnum):
    """What a guard stands for; its value names the refusal in metrics."""

    PERSON = "person"
    PHONE = "phone"
    EMAIL = "email"


@dataclass(frozen=True)
class Guard:
    claim: Claim
    item: ApplicantModel


def guards_for(appointment: AppointmentModel) -> list[Guard]:
    """The guard items a new appointment claims (its person's key is already on it)."""
    claims = [
        (Claim.PERSON, appointment.applicant_key),
        (Claim.PHONE, phone_key(appointment.phone)),
    ]
    if appointment.email:
        claims.append((Claim.EMAIL, email_key(appointment.email)))
    return [
        Guard(
            claim,
            ApplicantModel(
                applicant_key=key,
                confirmation_number=appointment.confirmation_number,
                phone_digest=phone_digest(appointment.phone),
                active_until=appointment.start_utc,
                lookup_count=0,
                expires_at=guard_expiry(appointment.start_utc),
            ),
        )
        for claim, key in claims
    ]


def held_by(appointment: AppointmentModel) -> list[str]:
    """The keys of the guards a stored appointment holds (appointments booked before phones
    and e-mail addresses had guards hold only their person's)."""
    return list(appointment.guard_keys or [appointment.applicant_key])


def claim(tx: TransactWrite, guards: list[Guard], now: datetime) -> None:
    for guard in guards:
        tx.save(
            guard.item,
            condition=(
                ApplicantModel.applicant_key.does_not_exist() | (ApplicantModel.active_until <= now)
            ),
        )


def release(tx: TransactWrite, appointment: AppointmentModel) -> None:
    for key in held_by(appointment):
        tx.delete(
            ApplicantModel(key),
            condition=ApplicantModel.confirmation_number == appointment.confirmation_number,
        )


def move(tx: TransactWrite, appointment: AppointmentModel, new_start: datetime) -> None:
    """The guards now count until the appointment's new time."""
    for key in held_by(appointment):
        tx.update(
            ApplicantModel(key),
            actions=[
                ApplicantModel.active_until.set(new_start),
                ApplicantModel.expires_at.set(guard_expiry(new_start)),
            ],
            condition=ApplicantModel.confirmation_number == appointment.confirmation_number,
        )
