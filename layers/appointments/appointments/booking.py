"""Booking, cancelling and rescheduling: the rules that must hold whatever the load.

- No overbooking: a seat is taken only by a transaction whose slot update is conditioned on
  `booked < capacity`, and given back only by one conditioned on the appointment still holding
  it. There is never a read-then-write.
- One active appointment per person, phone number and e-mail address (guards.py): the same
  transaction claims their guard items, each conditioned on being free or its appointment
  having passed.
- Idempotent booking: with an Idempotency-Key the confirmation number and PIN are derived from
  the key, so a retry collides with the first booking's item and returns it, never a second seat.
- A few bookings per network a day (networks.py), counted in the same transaction.
- Reschedule moves the seat in one transaction: the person never holds two seats and keeps the
  old one if the new one is taken. An appointment moves at most MAX_RESCHEDULES times, so a
  booking cannot serve as a token for swapping into seats a script holds.
- The refusal never tells who has an appointment: a full, passed or unknown slot is answered
  as such before the applicant's other appointment is mentioned.

The API proves the holder with the PIN (`cancel`, `reschedule`), the web site with a signed-in
session; both then change the appointment as they read it with the same transaction
(`cancel_appointment`, `reschedule_appointment`), conditioned on nobody having changed it since.

Request budget: a booking is one TransactWriteItems; cancel and reschedule are one UpdateItem
(the PIN check, see access.py; on the site, the session's GetItem) and one TransactWriteItems.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from aws_lambda_powertools.metrics import MetricUnit
from pynamodb.expressions.condition import Condition
from pynamodb.transactions import TransactWrite

from appointments import access, challenges, codes, guards, networks, release
from appointments.applicants import applicant_key, normalise_phone
from appointments.challenges import Proof
from appointments.config import settings
from appointments.errors import (
    AlreadyBooked,
    AppointmentError,
    Busy,
    IdempotencyKeyReused,
    InvalidRequest,
    NotActive,
    NotFound,
    RescheduleLimit,
    SlotFull,
    SlotPassed,
)
from appointments.models import (
    ACTIVE_STATUSES,
    BOOKED,
    CANCELLED,
    RESCHEDULED,
    AppointmentModel,
    LimitModel,
    SlotModel,
    purge_time,
)
from appointments.offices import catalogue
from appointments.schemas import BookingIn
from appointments.services import Service, check_service_allowed, normalise_case_number
from appointments.slots import SlotId
from appointments.transactions import TransactionRefused, run_transaction

CONFIRMATION_ATTEMPTS = 3


@dataclass(frozen=True)
class BookingRequest:
    slot_id: SlotId
    service: Service
    name: str
    date_of_birth: date
    phone: str  # E.164
    email: str | None
    language: str
    case_number: str | None

    @classmethod
    def from_body(cls, body: BookingIn) -> BookingRequest:
        """The booking a request body asks for; its slot must be one of the office it names."""
        slot_id = SlotId.parse(body.slot_id)
        if slot_id.office_id != body.office_id:
            raise InvalidRequest("slotId belongs to another office than officeId.")
        return cls(
            slot_id=slot_id,
            service=body.service,
            name=body.applicant.name,
            date_of_birth=body.applicant.date_of_birth,
            phone=normalise_phone(body.applicant.phone),
            email=body.applicant.email,
            language=body.language,
            case_number=normalise_case_number(body.case_number) if body.case_number else None,
        )

    def fingerprint(self) -> str:
        """Keyed digest of the request, to tell a retry from a different request."""
        canonical = json.dumps(
            [
                str(self.slot_id),
                self.service.value,
                self.name,
                self.date_of_birth.isoformat(),
                self.phone,
                self.email,
                self.language,
                self.case_number,
            ]
        )
        return codes.digest("booking-request", canonical)


@dataclass(frozen=True)
class Booking:
    appointment: AppointmentModel
    pin: str
    replayed: bool = False
    viewer_known: bool = True  # the request named its network (CloudFront-Viewer-Address)

    def metrics(self, now: datetime) -> dict[str, tuple[float, MetricUnit]]:
        """What a booking counts: booked or replayed, how long after the release that opened
        its day the seat was taken, and whether its network went uncounted (an alarm: the
        distribution stopped sending the viewer's address)."""
        if self.replayed:
            return {"BookingsReplayed": (1, MetricUnit.Count)}
        slot = SlotId.parse(self.appointment.slot_id)
        after = release.seconds_after_release(catalogue.get(slot.office_id), slot.day, now)
        counted = {
            "AppointmentsBooked": (1.0, MetricUnit.Count),
            "SecondsAfterRelease": (after, MetricUnit.Seconds),
        }
        if not self.viewer_known:
            counted["BookingsWithoutViewerAddress"] = (1.0, MetricUnit.Count)
        return counted


def book(
    request: BookingRequest,
    *,
    proof: Proof,
    idempotency_key: str | None,
    now: datetime,
    network: networks.IpNetwork | None = None,
) -> Booking:
    """Book for `request`, spending `proof` (challenges.py) and counting the booking against
    the day of `network` (networks.py: the viewer's, None where unknown) in the same
    transaction."""
    office = catalogue.get(request.slot_id.office_id)
    check_service_allowed(office, request.service, request.case_number)
    start = request.slot_id.start(office.time_zone).astimezone(UTC)
    _refuse_if_passed(start, now)

    for _ in range(CONFIRMATION_ATTEMPTS):
        confirmation_number, pin = _credentials(idempotency_key)
        appointment = _new_appointment(request, confirmation_number, pin, start, now)
        if idempotency_key:
            appointment.request_digest = request.fingerprint()
        held = guards.guards_for(appointment)
        appointment.guard_keys = [guard.item.applicant_key for guard in held]
        slot = _slot_item(request.slot_id)
        used = challenges.used_mark(proof)
        allowance = networks.allowance_item(network, now)
        claim = functools.partial(
            _claim_seat,
            appointment=appointment,
            held=held,
            slot=slot,
            used=used,
            allowance=allowance,
        )
        try:
            run_transaction(claim)
        except TransactionRefused as refused:
            appointment_taken = refused.condition_failed(appointment)
            if appointment_taken and idempotency_key:
                return _replay(confirmation_number, pin, request, now)
            if refused.condition_failed(used):
                raise challenges.replayed() from refused
            if refused.condition_failed(slot) or any(
                refused.condition_failed(guard.item) for guard in held
            ):
                raise _booking_refusal(refused, slot, held, now) from refused
            if allowance is not None and refused.condition_failed(allowance):
                raise networks.exhausted() from refused
            if appointment_taken:
                continue  # a random confirmation number collided: draw another
            raise
        return Booking(appointment, pin, viewer_known=network is not None)
    raise Busy("Could not allocate a confirmation number. Please try again.")


def _credentials(idempotency_key: str | None) -> tuple[str, str]:
    """Confirmation number and PIN: derived from the Idempotency-Key, or random."""
    if not idempotency_key:
        return codes.new_confirmation_number(), codes.new_pin()
    return codes.derived_confirmation_number(idempotency_key), codes.derived_pin(idempotency_key)


_ALREADY_BOOKED = {
    guards.Claim.PERSON: "This applicant already has an active appointment.",
    guards.Claim.PHONE: "This phone number is already given for another active appointment.",
    guards.Claim.EMAIL: "This e-mail address is already given for another active appointment.",
}


def _booking_refusal(
    refused: TransactionRefused, slot: SlotModel, held: list[guards.Guard], now: datetime
) -> AppointmentError:
    """The slot's refusal first: whether this person holds another appointment is told only
    to someone who could have booked the slot, so trying a full, passed or unknown slot with
    someone's details tells nothing about them. The message never says where or when the
    other appointment is."""
    if refused.condition_failed(slot):
        return _slot_refusal(refused, slot, now)
    claim = next(guard.claim for guard in held if refused.condition_failed(guard.item))
    return AlreadyBooked(
        f"{_ALREADY_BOOKED[claim]} Cancel or reschedule it instead of booking another.",
        reason=f"already_booked_{claim.value}",
    )


def _new_appointment(
    request: BookingRequest, confirmation_number: str, pin: str, start: datetime, now: datetime
) -> AppointmentModel:
    return AppointmentModel(
        confirmation_number=confirmation_number,
        status=BOOKED,
        office_id=request.slot_id.office_id,
        service=request.service.value,
        slot_id=str(request.slot_id),
        start_utc=start,
        language=request.language,
        name=request.name,
        date_of_birth=request.date_of_birth.isoformat(),
        phone=request.phone,
        email=request.email,
        case_number=request.case_number,
        pin_hash=codes.pin_hash(confirmation_number, pin),
        applicant_key=applicant_key(request.name, request.date_of_birth),
        created_at=now,
        updated_at=now,
        pin_failures=0,
        expires_at=purge_time(start),
    )


def _slot_item(slot_id: SlotId) -> SlotModel:
    return SlotModel(slot_id.office_day, slot_id.start_time)


def _take_seat(tx: TransactWrite, slot: SlotModel, now: datetime) -> None:
    """Take a seat of `slot`; a refusal returns the slot as it was (see _slot_refusal)."""
    tx.update(
        slot,
        actions=[SlotModel.booked.add(1)],
        condition=(
            SlotModel.office_day.exists()
            & (SlotModel.booked < SlotModel.capacity)
            & (SlotModel.start_utc > now)
        ),
        return_values="ALL_OLD",
    )


def _give_back_seat(tx: TransactWrite, slot_id: SlotId) -> None:
    tx.update(
        _slot_item(slot_id),
        actions=[SlotModel.booked.add(-1)],
        condition=SlotModel.booked > 0,
    )


def _claim_seat(
    tx: TransactWrite,
    *,
    appointment: AppointmentModel,
    held: list[guards.Guard],
    slot: SlotModel,
    used: LimitModel,
    allowance: LimitModel | None,
) -> None:
    now = appointment.created_at
    tx.save(appointment, condition=AppointmentModel.confirmation_number.does_not_exist())
    guards.claim(tx, held, now)
    _take_seat(tx, slot, now)
    challenges.spend(tx, used)
    if allowance is not None:
        networks.count(tx, allowance)


def _slot_passed() -> SlotPassed:
    return SlotPassed("That time has already passed. Please choose a later slot.")


def _refuse_if_passed(start: datetime, now: datetime) -> None:
    """A slot that has started can no longer be booked (the slot update checks it again)."""
    if start <= now:
        raise _slot_passed()


def _slot_refusal(refused: TransactionRefused, slot: SlotModel, now: datetime) -> AppointmentError:
    """Why the slot update's condition failed, from the slot DynamoDB returned (ALL_OLD)."""
    old = refused.item_held(slot)
    if not old:
        return NotFound("There is no such slot. Pick a slot from the slots listing.")
    if SlotModel.from_raw_data(old).start_utc <= now:
        return _slot_passed()
    return SlotFull("That time was just taken. Please choose another slot.")


def _replay(confirmation_number: str, pin: str, request: BookingRequest, now: datetime) -> Booking:
    """The booking a repeated Idempotency-Key already made, if it is the same request."""
    existing = access.find(confirmation_number)
    window = timedelta(hours=settings().idempotency_hours)
    if existing.request_digest != request.fingerprint() or existing.created_at + window < now:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used for a different booking. "
            "Use a new key for a new booking."
        )
    return Booking(existing, pin, replayed=True)


def _still_holds(appointment: AppointmentModel) -> Condition:
    """The appointment is still active in the slot it was read with (nobody changed it)."""
    unchanged: Condition = AppointmentModel.status.is_in(*ACTIVE_STATUSES) & (
        AppointmentModel.slot_id == appointment.slot_id
    )
    return unchanged


def check_can_change(appointment: AppointmentModel, now: datetime) -> None:
    """NotActive unless the appointment may still be cancelled or moved: active, not started."""
    if appointment.status not in ACTIVE_STATUSES:
        raise NotActive(f"This appointment is {appointment.status}; it can no longer be changed.")
    if appointment.start_utc <= now:
        raise NotActive("This appointment's time has passed; it can no longer be changed.")


def can_change(appointment: AppointmentModel, now: datetime) -> bool:
    return appointment.status in ACTIVE_STATUSES and appointment.start_utc > now


def check_can_move(appointment: AppointmentModel, now: datetime) -> None:
    """As check_can_change, and RescheduleLimit once it was moved MAX_RESCHEDULES times."""
    check_can_change(appointment, now)
    limit = settings().max_reschedules
    if (appointment.reschedules or 0) >= limit:
        raise _reschedule_limit(limit)


def can_move(appointment: AppointmentModel, now: datetime) -> bool:
    moves_left = (appointment.reschedules or 0) < settings().max_reschedules
    return can_change(appointment, now) and moves_left


def cancel(confirmation_number: str, pin: str, *, now: datetime) -> AppointmentModel:
    """Cancel for the holder of the confirmation number and PIN."""
    return cancel_appointment(access.authenticate(confirmation_number, pin, now), now=now)


def cancel_appointment(appointment: AppointmentModel, *, now: datetime) -> AppointmentModel:
    """Cancel `appointment`, as its holder read it, and give its seat back in one transaction;
    NotActive if it changed meanwhile."""
    check_can_change(appointment, now)
    slot_id = SlotId.parse(appointment.slot_id)

    def write(tx: TransactWrite) -> None:
        tx.update(
            appointment,
            actions=[
                AppointmentModel.status.set(CANCELLED),
                AppointmentModel.updated_at.set(now),
            ],
            condition=_still_holds(appointment),
        )
        _give_back_seat(tx, slot_id)
        guards.release(tx, appointment)

    try:
        run_transaction(write)
    except TransactionRefused as refused:
        if refused.any_condition_failed():
            raise NotActive(
                "This appointment was changed meanwhile. Please reload it."
            ) from refused
        raise
    appointment.status, appointment.updated_at = CANCELLED, now
    return appointment


def reschedule(
    confirmation_number: str, pin: str, new_slot: SlotId, *, proof: Proof, now: datetime
) -> AppointmentModel:
    """Move to `new_slot`, for the holder of the confirmation number and PIN."""
    appointment = access.authenticate(confirmation_number, pin, now)
    return reschedule_appointment(appointment, new_slot, proof=proof, now=now)


def reschedule_appointment(
    appointment: AppointmentModel, new_slot: SlotId, *, proof: Proof, now: datetime
) -> AppointmentModel:
    """Move `appointment`, as its holder read it, to `new_slot` in one transaction: the old seat
    is given back only if the new one is taken, so a refusal leaves the appointment as it was."""
    check_can_move(appointment, now)
    limit = settings().max_reschedules
    old_slot = SlotId.parse(appointment.slot_id)
    if new_slot == old_slot:
        raise InvalidRequest("The appointment is already at that time.")
    office = catalogue.get(new_slot.office_id)
    check_service_allowed(office, Service(appointment.service), appointment.case_number)
    new_start = new_slot.start(office.time_zone).astimezone(UTC)
    _refuse_if_passed(new_start, now)
    expires_at = purge_time(new_start)
    new_slot_item = _slot_item(new_slot)
    used = challenges.used_mark(proof)

    def write(tx: TransactWrite) -> None:
        tx.update(
            appointment,
            actions=[
                AppointmentModel.slot_id.set(str(new_slot)),
                AppointmentModel.office_id.set(new_slot.office_id),
                AppointmentModel.start_utc.set(new_start),
                AppointmentModel.status.set(RESCHEDULED),
                AppointmentModel.updated_at.set(now),
                AppointmentModel.expires_at.set(expires_at),
                AppointmentModel.reschedules.add(1),
            ],
            condition=_still_holds(appointment) & _may_move_again(limit),
            return_values="ALL_OLD",
        )
        _give_back_seat(tx, old_slot)
        _take_seat(tx, new_slot_item, now)
        guards.move(tx, appointment, new_start)
        challenges.spend(tx, used)

    try:
        run_transaction(write)
    except TransactionRefused as refused:
        if refused.condition_failed(used):
            raise challenges.replayed() from refused
        if refused.condition_failed(new_slot_item):
            raise _slot_refusal(refused, new_slot_item, now) from refused
        if refused.condition_failed(appointment) and _moved_too_often(refused, appointment):
            raise _reschedule_limit(limit) from refused
        if refused.any_condition_failed():
            raise NotActive(
                "This appointment was changed meanwhile. Please reload it."
            ) from refused
        raise
    appointment.slot_id, appointment.office_id = str(new_slot), new_slot.office_id
    appointment.start_utc, appointment.status, appointment.updated_at = new_start, RESCHEDULED, now
    appointment.expires_at = expires_at
    appointment.reschedules = (appointment.reschedules or 0) + 1
    return appointment


def _may_move_again(limit: int) -> Condition:
    """Checked in the move's own transaction, so two moves at once cannot both pass."""
    within: Condition = AppointmentModel.reschedules.does_not_exist() | (
        AppointmentModel.reschedules < limit
    )
    return within


def _moved_too_often(refused: TransactionRefused, appointment: AppointmentModel) -> bool:
    held = refused.item_held(appointment)
    if not held:
        return False
    return (AppointmentModel.from_raw_data(held).reschedules or 0) >= settings().max_reschedules


def _reschedule_limit(limit: int) -> RescheduleLimit:
    return RescheduleLimit(
        f"This appointment was already moved {limit} times and cannot be moved again. "
        "You can cancel it and book a new one."
    )
