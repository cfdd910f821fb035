"""Load the sample office catalogue and release a few days of slots ahead, for local runs
and tests.

Running it again changes nothing that exists: offices are written by key and the release only
creates missing slots (a slot with bookings is never reset).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from appointments.models import OfficeModel
from appointments.offices import Office, catalogue, office_from_catalogue_entry, office_from_model
from appointments.release import release
from infra import DATA_DIR

CATALOGUE_PATH = DATA_DIR / "offices.json"


def load_catalogue(path: Path = CATALOGUE_PATH) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        entries: list[dict[str, Any]] = json.load(handle)["offices"]
    return entries


def seed_offices(path: Path = CATALOGUE_PATH) -> list[Office]:
    offices = write_offices(load_catalogue(path))
    catalogue.invalidate()
    return offices


def write_offices(entries: Iterable[dict[str, Any]]) -> list[Office]:
    """The catalogue's entries, written by key (the office cache is left as it is)."""
    models = [office_from_catalogue_entry(entry) for entry in entries]
    with OfficeModel.batch_write() as batch:
        for model in models:
            batch.save(model)
    return [office_from_model(model) for model in models]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--release-days", type=int, default=5, help="release days of slots to open ahead"
    )
    arguments = parser.parse_args()
    offices = seed_offices()
    summary = release(datetime.now(UTC), horizon=arguments.release_days, offices=offices)
    print(
        f"{len(offices)} offices; {arguments.release_days} release days opened, up to "
        f"{summary.furthest_day}; slots opened: {summary.slots_opened}, "
        f"already present: {summary.slots_present}"
    )


if __name__ == "__main__":
    main()
