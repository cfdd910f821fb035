"""`make bench` (release part): DynamoDB requests per slot opened, 100 offices x one day.

On DynamoDB Local: the first run opens a new day for 100 offices (the daily case); the second
run finds everything present (a repeated or concurrent run).
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from datetime import UTC, datetime

from appointments.offices import Office
from appointments.release import release
from infra.local.dynamodb_local import DynamoDBLocal
from tests.helpers import count_dynamodb_calls, make_resources, reset_connections, sample_offices

OFFICES = 100
RELEASE_MOMENT = datetime(2026, 11, 24, 22, 0, tzinfo=UTC)  # Tuesday 17:00 in New York


def hundred_offices() -> list[Office]:
    catalogue = [office for office in sample_offices().values() if office.kind != "asylum_office"]
    return [
        replace(catalogue[index % len(catalogue)], office_id=f"bench-{index:03d}")
        for index in range(OFFICES)
    ]


def main() -> None:
    offices = hundred_offices()
    rows = []
    with DynamoDBLocal() as engine:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = engine.endpoint_url
        reset_connections()
        make_resources(engine.endpoint_url)
        for label in ("new day (daily case)", "same day again"):
            started = time.perf_counter()
            with count_dynamodb_calls() as counted:
                summary = release(RELEASE_MOMENT, offices=offices)
            elapsed = time.perf_counter() - started
            rows.append((label, summary, dict(counted), elapsed))
    print(f"Slot release, {OFFICES} offices x 1 business day, DynamoDB Local")
    print()
    print("| run | slots opened | slots present | requests | requests per slot | seconds |")
    print("|---|---:|---:|---|---:|---:|")
    for label, summary, calls, elapsed in rows:
        total = sum(calls.values())
        slots = summary.slots_opened + summary.slots_present
        detail = ", ".join(f"{count} {name}" for name, count in sorted(calls.items()))
        print(
            f"| {label} | {summary.slots_opened} | {summary.slots_present} | {detail} "
            f"| {total / slots:.3f} | {elapsed:.1f} |"
        )


if __name__ == "__main__":
    main()
