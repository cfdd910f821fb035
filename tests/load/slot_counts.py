"""After a load run: no slot holds more than its capacity, and each slot's counter equals the
appointments that name it (a booking is one transaction: the seat and the appointment go
together or not at all)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from appointments.vocabulary import ACTIVE_STATUSES


@dataclass(frozen=True)
class SlotCount:
    slot_id: str
    capacity: int
    booked: int


def miscounted(slots: Iterable[SlotCount], appointments: Counter[str]) -> list[str]:
    """Each slot over its capacity, or whose counter differs from the appointments naming it,
    and each slot named by appointments but absent from `slots`, as one line."""
    wrong, seen = [], set()
    for slot in slots:
        seen.add(slot.slot_id)
        named = appointments[slot.slot_id]
        if slot.booked > slot.capacity or slot.booked != named:
            wrong.append(f"{slot.slot_id}: {slot.booked} booked of {slot.capacity}, {named} named")
    wrong.extend(
        f"{slot_id}: no such slot, {count} named"
        for slot_id, count in sorted(appointments.items())
        if slot_id not in seen and count
    )
    return wrong


def read_back(
    client: Any, slots_table: str, appointments_table: str, office_days: Iterable[str]
) -> tuple[list[SlotCount], Counter[str]]:
    """Every slot of the office-days (consistent reads) and the active appointments per slot
    (a cancelled one gave its seat back), with a botocore DynamoDB client; appointments of
    other office-days are left out."""
    office_days = list(office_days)
    slots: list[SlotCount] = []
    for office_day in office_days:
        office, day = office_day.split("#")
        for page in client.get_paginator("query").paginate(
            TableName=slots_table,
            KeyConditionExpression="office_day = :day",
            ExpressionAttributeValues={":day": {"S": office_day}},
            ConsistentRead=True,
        ):
            slots.extend(
                SlotCount(
                    slot_id=f"{office}:{day}T{item['start_time']['S']}",
                    capacity=int(item["capacity"]["N"]),
                    booked=int(item["booked"]["N"]),
                )
                for item in page["Items"]
            )
    prefixes = tuple(f"{office_day.replace('#', ':')}T" for office_day in office_days)
    appointments: Counter[str] = Counter()
    for page in client.get_paginator("scan").paginate(
        TableName=appointments_table,
        ProjectionExpression="slot_id, #status",
        ExpressionAttributeNames={"#status": "status"},
        ConsistentRead=True,
    ):
        appointments.update(
            item["slot_id"]["S"]
            for item in page["Items"]
            if item["slot_id"]["S"].startswith(prefixes) and item["status"]["S"] in ACTIVE_STATUSES
        )
    return slots, appointments
