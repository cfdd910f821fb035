"""`make run` as a user runs it, over plain HTTP: book, change and cancel, then stop with
Ctrl-C and start again on the same data. (A file of its own, so the test runner can run it
beside the tests that share one stack.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.running import RunningStack, alive, port_open, started_stack, wait_until
from tests.helpers import next_business_day, solved_over, walkthrough_booking


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[RunningStack]:
    with started_stack(tmp_path) as running:
        yield running


def test_book_change_cancel_and_restart_over_http(stack: RunningStack) -> None:
    api = httpx.Client(base_url=stack.url, timeout=30)
    # Given the office for a Honolulu ZIP code and its free slots on its next business day
    office = api.get("/offices", params={"zip": "96813"}).json()["offices"][0]
    day = next_business_day("honolulu").isoformat()
    listing = api.get(
        f"/offices/{office['officeId']}/slots", params={"date": day, "service": "adit-stamp"}
    ).json()["slots"]
    first, second = listing[0]["slotId"], listing[1]["slotId"]
    # When a person books, views, reschedules, cancels and books again
    booked = api.post(
        "/appointments", json=walkthrough_booking(first) | {"challenge": solved_over(api)}
    )
    pin = {"X-Appointment-Pin": booked.json()["pin"]}
    path = f"/appointments/{booked.json()['confirmationNumber']}"
    viewed = api.get(path, headers=pin)
    moved = api.put(
        f"{path}/slot", json={"slotId": second, "challenge": solved_over(api)}, headers=pin
    )
    cancelled = api.delete(path, headers=pin)
    again = api.post(
        "/appointments", json=walkthrough_booking(first) | {"challenge": solved_over(api)}
    )
    # Then every step answers as the API promises
    assert office["officeId"] == "honolulu"
    assert booked.status_code == 201, booked.text
    assert viewed.status_code == 200
    assert viewed.json()["start"].endswith("-10:00")
    assert (moved.status_code, moved.json()["slotId"]) == (200, second)
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    assert again.status_code == 201, again.text

    # When the stack is stopped with Ctrl-C
    assert stack.stop() == 0

    # Then nothing it started is left, and its ports are free
    # (multiprocessing's resource tracker ends once it sees the stack gone: it gets a moment)
    def left_behind() -> list[int]:
        return [pid for pid in stack.seen_processes if alive(pid)]

    assert wait_until(lambda: left_behind() == [], 5), left_behind()
    assert not any(port_open(port) for port in stack.ports.values())

    # When it is started again on the same data
    stack.start()
    kept = httpx.get(
        f"{stack.url}/appointments/{again.json()['confirmationNumber']}",
        headers={"X-Appointment-Pin": again.json()["pin"]},
        timeout=30,
    )
    # Then the appointment is still there, and the seed did not duplicate the offices
    assert kept.status_code == 200, kept.text
    assert kept.json()["slotId"] == first
    offices = httpx.get(f"{stack.url}/offices", params={"zip": "96813"}, timeout=30).json()
    assert [o["officeId"] for o in offices["offices"]] == ["honolulu"]
