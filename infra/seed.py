"""Load the sample office catalogue and open slots, for local runs and tests.

Running it again changes nothing that exists: offices are written by key and slots are only
created where missing (a slot with bookings is never reset).
"""

from __future__ import annotations

import argparse
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from appointments.models import OfficeModel
from appointments.offices import Office, catalogue, office_from_catalogue_entry, office_from_model
from appointments.slots import OpenedDay, open_day

CATALOGUE_PATH = Path(__file__).resolve().parent / "offices.json"


def load_catalogue(path: Path = CATALOGUE_PATH) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        entries: list[dict[str, Any]] = json.load(handle)["offices"]
    return entries


def seed_offices(path: Path = CATALOGUE_PATH) -> list[Office]:
    models = [office_from_catalogue_entry(entry) for entry in load_catalogue(path)]
    with OfficeModel.batch_write() as batch:
        for model in models:
            batch.save(model)
    catalogue.invalidate()
    return [office_from_model(model) for model in models]


def open_weekdays(offices: list[Office], first_day: date, days: int) -> list[OpenedDay]:
    """Open `days` weekdays from `first_day` for every office (holidays: see slot release)."""
    opened: list[OpenedDay] = []
    day = first_day
    remaining = days
    while remaining:
        if day.weekday() < 5:
            opened.extend(open_day(office, day) for office in offices)
            remaining -= 1
        day += timedelta(days=1)
    return opened


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=5, help="weekdays of slots to open")
    parser.add_argument("--from", dest="first_day", type=date.fromisoformat, default=None)
    arguments = parser.parse_args()
    offices = seed_offices()
    first_day = arguments.first_day or date.today() + timedelta(days=1)
    opened = open_weekdays(offices, first_day, arguments.days)
    created = sum(day.created for day in opened)
    present = sum(day.already_present for day in opened)
    print(f"{len(offices)} offices; slots opened: {created}, already present: {present}")


if __name__ == "__main__":
    main()
