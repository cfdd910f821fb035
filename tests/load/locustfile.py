"""People at the release minute, for locust (`make load` runs it; tests/load/release_load.py).

Each locust user is a place on the site: a person arrives, goes through the journey once and
leaves, and the next person takes the place. A person has an identity of their own (a made-up
name, with the phone number and e-mail address of that name: one active appointment per
person, phone and address) and a network of their own (a loopback address 127.3.x.y: Linux
routes all of 127.0.0.0/8 here, and the local distribution gives its address to the web ACL
and to the per-network count, as CloudFront gives a home connection's).

The journey, as the API walk-through in README makes it:
1. the office for their ZIP code (GET /offices?zip=);
2. the office's calendar (GET /offices/{id}/days);
3. the released day's free times (GET /offices/{id}/slots), read again every few seconds until
   times appear: people come before the release minute and refresh;
4. a challenge (GET /challenge), solved on their device while they type their details;
5. the booking (POST /appointments); a time taken meanwhile (409 slot_full) sends them back
   to the times with the same solved challenge, which a refused booking does not spend;
6. some look at their appointment (GET /appointments/{c} with the PIN).

A person who finds no free time after the release, or whose chosen times keep going, leaves.

Settings, from the environment: LOAD_OFFICE, LOAD_ZIP, LOAD_SERVICE, LOAD_DAY (the released
office day), LOAD_RELEASE_AT (the release minute, Unix time), LOAD_REPORT (where each
request's route, status and time go, as JSON lines, for the run's figures),
LOAD_THINK_SECONDS ("low,high" between steps).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
import uuid
from pathlib import Path
from typing import Any

from locust import HttpUser, between, events, task
from locust.exception import RescheduleTask
from requests.adapters import HTTPAdapter

from tests.helpers import applicant, booking_body, solve

OFFICE = os.environ.get("LOAD_OFFICE", "new-york")
ZIP = os.environ.get("LOAD_ZIP", "10007")
SERVICE = os.environ.get("LOAD_SERVICE", "adit-stamp")
DAY = os.environ.get("LOAD_DAY", "")
RELEASE_AT = float(os.environ.get("LOAD_RELEASE_AT", "0"))
REPORT = os.environ.get("LOAD_REPORT", "")
_THINK = os.environ.get("LOAD_THINK_SECONDS", "1,3").split(",")
THINK_SECONDS = (float(_THINK[0]), float(_THINK[1]))
POLL_SECONDS = (2.0, 4.0)  # refreshing the times before the release
EMPTY_READS_AFTER_RELEASE = 3  # then a person without a seat leaves
MAX_POLLS = 40  # a person who came far too early leaves too
BOOKING_TRIES = 4  # times chosen, one after another, before giving up
VIEWING_SHARE = 0.3  # of those booked, who look at their appointment at once

PEOPLE = itertools.count()
_report = Path(REPORT).open("a", buffering=1) if REPORT else None  # noqa: SIM115 - whole run


def address_of(person: int) -> str:
    """The person's own network: 127.3.0.1 onwards (65,000 people)."""
    return f"127.3.{person // 250}.{person % 250 + 1}"


class FromAddress(HTTPAdapter):
    """Connections from one local address: a person's home connection."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


@events.request.add_listener
def _record(name: str, response_time: float, response: Any, exception: Any, **_: Any) -> None:
    """Every answer's route, status (0: no answer) and time, for the run's figures."""
    if _report is not None:
        status = getattr(response, "status_code", 0) or 0  # 0: no answer came
        error = type(exception).__name__ if status == 0 and exception is not None else ""
        if status >= 400:
            try:
                error = response.json().get("error", "")
            except ValueError:
                error = ""
        line = {
            "route": name,
            "status": status,
            "error": error,
            "ms": response_time,
            "at": time.time(),
            "cache": response.headers.get("X-Cache", "") if status else "",
        }
        _report.write(json.dumps(line) + "\n")


class Person(HttpUser):
    wait_time = between(0.5, 2.0)  # until the next person takes the place

    @task
    def book_at_the_release(self) -> None:
        number = next(PEOPLE)
        self.client.adapters["http://"].close()
        self.client.mount("http://", FromAddress(address_of(number)))
        self.client.cookies.clear()
        self.person_name = f"Load Person {_letters(number)}"
        self.think()
        self.find_the_office()
        self.think()
        self.read_the_calendar()
        free = self.wait_for_free_times()
        if free:
            challenge = self.solved_challenge()
            self.think()  # typing their details while the challenge is solved
            booked = self.book(free, challenge)
            if booked is not None and random.random() < VIEWING_SHARE:
                self.think()
                self.view(booked)

    def think(self, span: tuple[float, float] = THINK_SECONDS) -> None:
        time.sleep(random.uniform(*span))  # gevent's sleep: locust patched the module

    def find_the_office(self) -> None:
        with self.client.get(
            f"/offices?zip={ZIP}", name="GET /offices?zip", catch_response=True
        ) as answer:
            if answer.status_code != 200:
                answer.failure(_refusal(answer))
                raise RescheduleTask  # this person leaves; the next one comes

    def read_the_calendar(self) -> None:
        with self.client.get(
            f"/offices/{OFFICE}/days?service={SERVICE}&from={DAY}&to={DAY}",
            name="GET /offices/{id}/days",
            catch_response=True,
        ) as answer:
            if answer.status_code != 200:
                answer.failure(_refusal(answer))

    def free_times(self) -> list[str] | None:
        """The day's free times; None when there was no readable answer."""
        with self.client.get(
            f"/offices/{OFFICE}/slots?date={DAY}&service={SERVICE}",
            name="GET /offices/{id}/slots",
            catch_response=True,
        ) as answer:
            if answer.status_code != 200:
                answer.failure(_refusal(answer))
                return None
            return [slot["slotId"] for slot in answer.json()["slots"]]

    def wait_for_free_times(self) -> list[str]:
        """Refresh the times until some appear; leave after a few empty reads past the
        release minute, or after MAX_POLLS."""
        empty_after_release = 0
        for _ in range(MAX_POLLS):
            free = self.free_times()
            if free:
                return free
            if free is not None and self.released():
                empty_after_release += 1
                if empty_after_release >= EMPTY_READS_AFTER_RELEASE:
                    return []
            self.think(POLL_SECONDS)
        return []

    def released(self) -> bool:
        """Past the release minute: people know it from the clock."""
        return time.time() >= RELEASE_AT

    def solved_challenge(self) -> str:
        with self.client.get("/challenge", name="GET /challenge", catch_response=True) as answer:
            if answer.status_code != 200:
                answer.failure(_refusal(answer))
                raise RescheduleTask  # this person leaves; the next one comes
            return solve(answer.json())

    def book(self, free: list[str], challenge: str) -> dict[str, Any] | None:
        details = applicant(name=self.person_name, dob="1980-02-29")
        for _ in range(BOOKING_TRIES):
            slot_id = random.choice(free[:5])  # one of the first free times
            body = booking_body(slot_id, service=SERVICE, applicant=details)
            body["challenge"] = challenge
            with self.client.post(
                "/appointments",
                json=body,
                headers={"Idempotency-Key": str(uuid.uuid4())},
                name="POST /appointments",
                catch_response=True,
            ) as answer:
                if answer.status_code == 201:
                    return dict(answer.json())
                if answer.status_code == 409 and answer.json().get("error") == "slot_full":
                    answer.success()  # an answer the journey expects: someone was quicker
                else:
                    answer.failure(_refusal(answer))
                    return None
            self.think((0.5, 1.5))  # back to the times
            free = self.free_times() or []
            if not free:
                return None
        return None

    def view(self, booked: dict[str, Any]) -> None:
        with self.client.get(
            f"/appointments/{booked['confirmationNumber']}",
            headers={"X-Appointment-Pin": booked["pin"]},
            name="GET /appointments/{c}",
            catch_response=True,
        ) as answer:
            if answer.status_code != 200:
                answer.failure(_refusal(answer))


def _refusal(answer: Any) -> str:
    try:
        error = answer.json().get("error", "")
    except ValueError:
        error = ""
    return f"{answer.status_code} {error}".strip()


# Letters of no multi-letter confusable ("rn" reads as "m", "cl" as "d", "vv" as "w"), so no
# two people's names are one name to the one-appointment-per-person rule.
NAME_LETTERS = "abefghjknpqstuxz"


def _letters(number: int) -> str:
    """A name's word of its own for each number (names take letters, not digits)."""
    word = ""
    number += len(NAME_LETTERS)
    while number:
        number, digit = divmod(number, len(NAME_LETTERS))
        word = NAME_LETTERS[digit] + word
    return word.title()
