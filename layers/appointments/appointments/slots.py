"""Slots: a time at an office with a capacity (officers at the windows) and a booked count.

A slot id names its office, the office's local date and the local start time, for example
"new-york:2026-11-27T08:30". From the id alone the booking transaction knows which item to
update, so booking needs no read first.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from appointments.errors import InvalidRequest
from appointments.models import SlotModel, purge_time, transaction_connection
from appointments.offices import Office, catalogue
from appointments.services import Service, check_service_offered

MAX_TRANSACTION_ITEMS = 100
# The widest range of days one listing of days covers: three calendar months at most.
MAX_LISTED_DAYS = 62


@dataclass(frozen=True)
class SlotId:
    office_id: str
    day: date
    start_time: str  # "HH:MM", office local time

    @classmethod
    def parse(cls, raw: str) -> SlotId:
        office_id, _, when = raw.partition(":")
        day_text, _, time_text = when.partition("T")
        try:
            day = date.fromisoformat(day_text)
            parsed_time = time.fromisoformat(time_text)
        except ValueError as error:
            raise InvalidRequest("slotId is not a slot id from the slots listing.") from error
        slot_id = cls(office_id, day, parsed_time.strftime("%H:%M"))
        if not office_id or str(slot_id) != raw:
            raise InvalidRequest("slotId is not a slot id from the slots listing.")
        return slot_id

    def __str__(self) -> str:
        return f"{self.office_id}:{self.day.isoformat()}T{self.start_time}"

    @property
    def office_day(self) -> str:
        return office_day(self.office_id, self.day)

    def start(self, time_zone: str) -> datetime:
        """Start as an aware datetime in the office's time zone."""
        local = datetime.combine(self.day, time.fromisoformat(self.start_time))
        return local.replace(tzinfo=ZoneInfo(time_zone))


@dataclass(frozen=True)
class FreeSlot:
    slot_id: SlotId
    start: datetime  # aware, office time zone
    available: int


@dataclass(frozen=True)
class OpenedDay:
    office_id: str
    day: date
    created: int
    already_present: int


def office_day(office_id: str, day: date) -> str:
    return f"{office_id}#{day.isoformat()}"


def office_month(office_id: str, day: date) -> str:
    return f"{office_id}#{day.isoformat()[:7]}"


def slot_key(slot_id: SlotId) -> tuple[str, str]:
    return slot_id.office_day, slot_id.start_time


def slot_starts(office: Office, day: date) -> list[str]:
    """Local start times ("HH:MM") of a day's slots, from the office's opening hours."""
    starts = []
    step = timedelta(minutes=office.slot_minutes)
    for window_start, window_end in office.hours_on(day):
        cursor = datetime.combine(day, time.fromisoformat(window_start))
        end = datetime.combine(day, time.fromisoformat(window_end))
        while cursor + step <= end:
            starts.append(cursor.strftime("%H:%M"))
            cursor += step
    return starts


def _chunks(items: list[SlotModel], size: int) -> Iterator[list[SlotModel]]:
    for index in range(0, len(items), size):
        yield items[index : index + size]


def open_day(office: Office, day: date, *, starts: Iterable[str] | None = None) -> OpenedDay:
    """Create the slots of `day` that do not exist yet; never writes over an existing slot.

    A day not opened yet (the daily case) costs one request: a transaction of conditional puts
    (attribute_not_exists) of up to 100 slots. If any of them exists, that transaction changes
    nothing; one Query then finds what is there and only the missing slots are written, the
    same way. So running twice, or concurrently, creates nothing twice and never resets a slot
    that has bookings.
    """
    times = list(starts) if starts is not None else slot_starts(office, day)
    wanted = [new_slot(office, day, start) for start in times]
    if len(wanted) <= MAX_TRANSACTION_ITEMS and _put_all_or_nothing(wanted):
        return OpenedDay(office.office_id, day, len(wanted), 0)
    present = _present_slots(office, day)
    missing = [slot for slot in wanted if slot.start_time not in present]
    created = sum(_put_new_slots(chunk) for chunk in _chunks(missing, MAX_TRANSACTION_ITEMS))
    for slot in present.values():
        if slot.office_month is None:
            _index_for_the_calendar(slot, day)
    return OpenedDay(office.office_id, day, created, len(wanted) - created)


def plan_day(office: Office, day: date) -> OpenedDay:
    """What open_day would do, without writing: for a dry run."""
    wanted = slot_starts(office, day)
    present = _present_slots(office, day)
    missing = [start for start in wanted if start not in present]
    return OpenedDay(office.office_id, day, len(missing), len(wanted) - len(missing))


def _present_slots(office: Office, day: date) -> dict[str, SlotModel]:
    key = office_day(office.office_id, day)
    return {slot.start_time: slot for slot in SlotModel.query(key, consistent_read=True)}


def _index_for_the_calendar(slot: SlotModel, day: date) -> None:
    """A slot opened before the calendar's index existed gets its keys, so that its day shows
    in the calendar: the next release after the index is added fixes every open day, once
    (the condition makes a second release, or one running alongside, change nothing)."""
    office_id = slot.office_day.rpartition("#")[0]
    try:
        slot.update(
            actions=[
                SlotModel.office_month.set(office_month(office_id, day)),
                SlotModel.day_start.set(f"{day.isoformat()}T{slot.start_time}"),
            ],
            condition=SlotModel.office_day.exists() & SlotModel.office_month.does_not_exist(),
        )
    except UpdateError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise


def new_slot(office: Office, day: date, start: str) -> SlotModel:
    """The slot item of an office's day starting at `start`, no seat taken."""
    slot_id = SlotId(office.office_id, day, start)
    start_utc = slot_id.start(office.time_zone).astimezone(UTC)
    return SlotModel(
        office_day=slot_id.office_day,
        start_time=start,
        start_utc=start_utc,
        capacity=office.capacity,
        booked=0,
        expires_at=purge_time(start_utc),
        office_month=office_month(office.office_id, day),
        day_start=f"{day.isoformat()}T{start}",
    )


def _put_all_or_nothing(slots: list[SlotModel]) -> bool:
    """One transaction creating every slot, or none if any exists (or DynamoDB refused)."""
    if not slots:
        return True
    try:
        with TransactWrite(connection=transaction_connection()) as transaction:
            for slot in slots:
                transaction.save(slot, condition=SlotModel.office_day.does_not_exist())
    except TransactWriteError:
        return False
    return True


def _put_new_slots(slots: list[SlotModel]) -> int:
    if _put_all_or_nothing(slots):
        return len(slots)
    # Another release created some of them meanwhile: create the rest one by one.
    return sum(_put_if_absent(slot) for slot in slots)


def _put_if_absent(slot: SlotModel) -> bool:
    try:
        slot.save(condition=SlotModel.office_day.does_not_exist())
    except PutError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def free_slots(office: Office, day: date, now: datetime) -> list[FreeSlot]:
    """Slots of the office's local `day` that have a free seat and have not started."""
    zone = ZoneInfo(office.time_zone)
    result = []
    for slot in SlotModel.query(office_day(office.office_id, day)):
        if slot.booked >= slot.capacity or slot.start_utc <= now:
            continue
        result.append(
            FreeSlot(
                slot_id=SlotId(office.office_id, day, slot.start_time),
                start=slot.start_utc.astimezone(zone),
                available=int(slot.capacity - slot.booked),
            )
        )
    return result


@dataclass(frozen=True)
class DayListing:
    office: Office
    day: date
    slots: list[FreeSlot]


def list_free_slots(office_id: str, day: date, service: Service, now: datetime) -> DayListing:
    """The free slots of an office's day, for a service the office offers."""
    office = catalogue.get(office_id)
    check_service_offered(office, service)
    return DayListing(office, day, free_slots(office, day, now))


@dataclass(frozen=True)
class FreeDay:
    day: date
    available: int  # free seats in the day's slots that have not started


@dataclass(frozen=True)
class DaysListing:
    office: Office
    first: date
    last: date
    days: list[FreeDay]


def _months(first: date, last: date) -> Iterator[date]:
    month = first.replace(day=1)
    while month <= last:
        yield month
        month = (month + timedelta(days=32)).replace(day=1)


def free_days(office: Office, first: date, last: date, now: datetime) -> list[FreeDay]:
    """The days from `first` to `last` (office dates) with a free seat: one Query of the
    office-month index per calendar month, however many days it has."""
    seats: dict[date, int] = {}
    for month in _months(first, last):
        range_start = max(first, month)
        for slot in SlotModel.by_month.query(
            office_month(office.office_id, month),
            SlotModel.day_start.between(f"{range_start.isoformat()}T", f"{last.isoformat()}T~"),
        ):
            if slot.booked >= slot.capacity or slot.start_utc <= now:
                continue
            day = date.fromisoformat(slot.office_day.rpartition("#")[2])
            seats[day] = seats.get(day, 0) + int(slot.capacity - slot.booked)
    return [FreeDay(day, available) for day, available in sorted(seats.items())]


def list_free_days(
    office_id: str, service: Service, first: date | None, last: date | None, now: datetime
) -> DaysListing:
    """The days with free seats of an office, for a service it offers. Without `first`, from
    the office's today; without `last`, to the end of the month after `first`'s."""
    office = catalogue.get(office_id)
    check_service_offered(office, service)
    first = first or now.astimezone(ZoneInfo(office.time_zone)).date()
    if last is None:
        next_month = (first.replace(day=1) + timedelta(days=32)).replace(day=1)
        last = (next_month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    if last < first:
        raise InvalidRequest("to must not be before from.")
    if (last - first).days >= MAX_LISTED_DAYS:
        raise InvalidRequest(f"from and to may be at most {MAX_LISTED_DAYS} days apart.")
    return DaysListing(office, first, last, free_days(office, first, last, now))
