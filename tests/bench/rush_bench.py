"""`make bench`: one release of one office-day, people against scripts, defences off and on.

At the release minute an office-day's seats appear. People (one identity and one network
each, as a home connection is) arrive over the first minutes and read and type between the
steps of the journey; scripts (one network each, made-up identities, several connections,
no think time, solving each challenge as fast as this machine allows) start at the release.
Every request goes through the local stack's distribution on the loopback address of its
sender (Linux routes all of 127.0.0.0/8 to this machine), so the web ACL and the per-network
count see one address per person and per script, as CloudFront would.

- defences off: the template without its web ACL, no per-network allowance, challenges of the
  least work (one derivation): the service before the release-rush work, give or take the
  identity checks, which a script's made-up identities pass anyway;
- defences on: the template as it deploys.

People's journey: arrive; read and choose the office (think); read the times and pick a free
one (think); type their details while the site's widget fetches and solves a challenge (think;
the challenge is solved on the person's device, here in a thread); book. A time taken
meanwhile sends them back to the times (a shorter think) with the same solved challenge (a
refused booking does not spend it). Their time to confirmation is from arrival to booked; the
part the service added is that time less their own reading and typing.

Scripts: each connection lists the day's times, takes a challenge, solves it, books a free
time with a made-up person; "rate_limited" makes it wait 5 s and go on, "network_limit" stops
the script. Its cost per attempt is the CPU time its solving took, per booking sent.

Real time, not scaled (the web ACL's windows are 5 minutes): about RUSH_SECONDS per run.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import statistics
import string
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from tests.bench.gateway_bench import LOCAL_ENV_VARS, TIME_ZONE, dynamodb, slot_item
from tests.e2e.running import RunningStack
from tests.helpers import REPO_ROOT, applicant, booking_body, solve, template_copy

PEOPLE = int(os.environ.get("RUSH_PEOPLE", "300"))
SCRIPTS = int(os.environ.get("RUSH_SCRIPTS", "3"))
CONNECTIONS_PER_SCRIPT = 8
SLOTS, SEATS_PER_SLOT = 40, 5  # 200 seats: an office-day
ARRIVAL_SECONDS = float(os.environ.get("RUSH_ARRIVAL_SECONDS", "180"))
# reading and typing between steps, seconds
_THINK = os.environ.get("RUSH_THINK_SECONDS", "10,60").split(",")
THINK_SECONDS = (float(_THINK[0]), float(_THINK[1]))
RETHINK_SECONDS = (5.0, 15.0)  # picking another time after one was taken
RUSH_SECONDS = float(os.environ.get("RUSH_SECONDS", "480"))  # the run ends then at the latest
OFFICE, SERVICE, ZIP = "new-york", "adit-stamp", "10001"
LOGS = REPO_ROOT / ".cache" / "bench"  # each run's stack log
HARNESS = "127.0.0.1"  # the bench's own reads: a trusted network


def person_address(number: int) -> str:
    return f"127.1.{number // 250}.{number % 250 + 1}"


def script_address(number: int) -> str:
    return f"127.2.0.{number + 1}"


# ------------------------------------------------------------------------- the two stacks


def rush_template(root: Path, *, defences: bool) -> Path:
    """The template without the notice renderer (it would draw a PDF per booking on the
    cores the rush runs on) and, defences off, without the distribution's web ACL."""

    def keep(_: str, resource: dict[str, Any]) -> bool:
        events = resource.get("Properties", {}).get("Events", {}).values()
        return not any(event.get("Type") == "DynamoDB" for event in events)

    def without_web_acl(template: dict[str, Any]) -> None:
        template["Resources"]["Distribution"]["Properties"]["DistributionConfig"].pop("WebACLId")

    return template_copy(root, keep, None if defences else without_web_acl)


def rush_stack(root: Path, *, defences: bool) -> RunningStack:
    parameters = f"TrustedNetworks={HARNESS}/32"
    environment = {"LOCAL_TEMPLATE": str(rush_template(root, defences=defences))}
    if not defences:
        parameters += " BookingsPerNetwork=0"
        overrides = json.loads(LOCAL_ENV_VARS.read_text())
        overrides["GetChallengeFunction"] = {"CHALLENGE_CALM_WORK": "1", "CHALLENGE_RUSH_WORK": "1"}
        (root / "local-env.json").write_text(json.dumps(overrides))
        environment["LOCAL_ENV_VARS"] = str(root / "local-env.json")
    environment["LOCAL_PARAMETERS"] = parameters
    return RunningStack(root / "data", root / "stack.log", environment)


def warm_up(stack: RunningStack) -> None:
    """Every function the rush calls answers once in each of its warm processes first, as
    on AWS they would have answered the day's earlier traffic."""
    paths = [
        ("GET", "/offices?zip=10001"),
        ("GET", f"/offices/{OFFICE}/slots?date=2030-01-02&service={SERVICE}"),
        ("GET", "/challenge"),
        ("POST", "/appointments"),
    ]
    with client_at(stack.url, HARNESS) as harness, ThreadPoolExecutor(8) as pool:

        def call(request: tuple[str, str]) -> None:
            method, path = request
            harness.request(method, path, json={} if method == "POST" else None)

        for request in paths:
            list(pool.map(call, [request] * 8))


def release(stack: RunningStack, day: date) -> int:
    """Open the office-day's seats now; how many."""
    client = dynamodb(f"http://127.0.0.1:{stack.ports['dynamodb']}")
    starts = [f"{8 + minute // 60:02d}:{minute % 60:02d}" for minute in range(0, SLOTS * 10, 10)]
    for first in range(0, len(starts), 25):
        items = []
        for start in starts[first : first + 25]:
            item = slot_item(day, start)
            item["capacity"] = {"N": str(SEATS_PER_SLOT)}
            items.append({"PutRequest": {"Item": item}})
        client.batch_write_item(RequestItems={"appointments-SlotsTable": items})
    return len(starts) * SEATS_PER_SLOT


# ------------------------------------------------------------------------------ outcomes


@dataclass
class Outcomes:
    seats: int = 0
    people_booked: list[float] = field(default_factory=list)  # seconds from arrival
    people_waited: list[float] = field(default_factory=list)  # of which not their own
    people_solving: list[float] = field(default_factory=list)  # CPU seconds of a challenge
    people_without_seat: int = 0
    people_failed: Counter[str] = field(default_factory=Counter)
    script_seats: int = 0
    script_attempts: int = 0
    script_refusals: Counter[str] = field(default_factory=Counter)
    script_solving_seconds: float = 0.0
    booked_after: list[float] = field(default_factory=list)  # seconds from the release
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, **counts: Any) -> None:
        with self.lock:
            for name, value in counts.items():
                current = getattr(self, name)
                if isinstance(current, list):
                    current.append(value)
                elif isinstance(current, Counter):
                    current[value] += 1
                else:
                    setattr(self, name, current + value)


def free_slot_ids(client: httpx.Client, day: date) -> list[str] | None:
    """The day's free times; None when there was no answer (rate-limited, or too slow)."""
    query = {"date": day.isoformat(), "service": SERVICE}
    answer = client.get(f"/offices/{OFFICE}/slots", params=query)
    if answer.status_code == 429 or answer.status_code >= 500:
        return None
    answer.raise_for_status()
    return [slot["slotId"] for slot in answer.json()["slots"] if slot["available"] > 0]


def made_up_person(rng: random.Random) -> dict[str, Any]:
    def word() -> str:
        return "".join(rng.choices(string.ascii_lowercase, k=rng.randint(4, 9))).title()

    name = f"{word()} {word()}"
    dob = f"{rng.randint(1950, 2004)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    return applicant(name=name, dob=dob)


def client_at(url: str, address: str) -> httpx.Client:
    return httpx.Client(
        base_url=url, timeout=60, transport=httpx.HTTPTransport(local_address=address)
    )


# ----------------------------------------------------------------------------- people


@dataclass
class Person:
    number: int
    url: str
    day: date
    released: float
    outcomes: Outcomes
    solver: ThreadPoolExecutor
    own_time: float = 0.0  # reading and typing

    def __post_init__(self) -> None:
        self.rng = random.Random(self.number)

    def think(self, span: tuple[float, float]) -> None:
        seconds = self.rng.uniform(*span)
        self.own_time += seconds
        time.sleep(seconds)

    def arrive(self) -> None:
        arrival = self.released + self.rng.uniform(0, ARRIVAL_SECONDS)
        time.sleep(max(0.0, arrival - time.monotonic()))
        arrived = time.monotonic()
        with client_at(self.url, person_address(self.number)) as site:
            try:
                booked = self.book(site)
            except httpx.HTTPError as error:
                self.outcomes.add(people_failed=type(error).__name__)
                return
        if booked:
            took = time.monotonic() - arrived
            self.outcomes.add(
                people_booked=took,
                people_waited=took - self.own_time,
                booked_after=time.monotonic() - self.released,
            )

    def solve(self, site: httpx.Client) -> str:
        """What the site's widget does on the person's device."""
        challenge = site.get("/challenge").json()
        began = time.thread_time()
        solved = solve(challenge)
        self.outcomes.add(people_solving=time.thread_time() - began)
        return solved

    def book(self, site: httpx.Client) -> bool:
        self.think(THINK_SECONDS)  # the start page, the office for their ZIP code
        site.get("/offices", params={"zip": ZIP}).raise_for_status()
        self.think(THINK_SECONDS)  # the times of the day
        free = free_slot_ids(site, self.day) or []
        # the details form: the widget solves while the person types
        solving = self.solver.submit(self.solve, site)
        self.think(THINK_SECONDS)
        challenge = solving.result()
        details = applicant(name=f"Person {_letters(self.number)} Resident", dob="1980-01-01")
        while free:
            body = booking_body(self.rng.choice(free), applicant=details)
            answer = site.post(
                "/appointments",
                json=body | {"challenge": challenge},
                headers={"Idempotency-Key": str(uuid.uuid4())},
            )
            if answer.status_code == 201:
                return True
            error = answer.json().get("error", str(answer.status_code))
            if error != "slot_full":
                self.outcomes.add(people_failed=error)
                return False
            self.think(RETHINK_SECONDS)
            free = free_slot_ids(site, self.day) or []
        self.outcomes.add(people_without_seat=1)
        return False


def _letters(number: int) -> str:
    """A name part of letters only, one per person (names must be letters)."""
    letters = ""
    number += 26 * 26
    while number:
        number, digit = divmod(number, 26)
        letters = string.ascii_lowercase[digit] + letters
    return letters.title()


# ----------------------------------------------------------------------------- scripts


def script_connection(
    number: int,
    connection: int,
    url: str,
    day: date,
    released: float,
    outcomes: Outcomes,
    stop: threading.Event,
) -> None:
    rng = random.Random(f"{number}/{connection}")
    with client_at(url, script_address(number)) as api:
        challenge: str | None = None
        while not stop.is_set():
            free = free_slot_ids(api, day)
            if free is None:
                time.sleep(5)
                continue
            if not free:
                return
            if challenge is None:
                fetched = api.get("/challenge")
                if fetched.status_code != 200:
                    time.sleep(5)
                    continue
                began = time.thread_time()
                challenge = solve(fetched.json())
                outcomes.add(script_solving_seconds=time.thread_time() - began)
            body = booking_body(rng.choice(free), applicant=made_up_person(rng))
            answer = api.post("/appointments", json=body | {"challenge": challenge})
            outcomes.add(script_attempts=1)
            if answer.status_code >= 500:
                outcomes.add(script_refusals=str(answer.status_code))
                continue
            if answer.status_code == 201:
                outcomes.add(script_seats=1, booked_after=time.monotonic() - released)
                challenge = None
                continue
            error = answer.json().get("error", str(answer.status_code))
            outcomes.add(script_refusals=error)
            if error == "network_limit":
                stop.set()  # this script's network is done for the day
            elif error == "rate_limited":
                time.sleep(5)
            elif error != "slot_full":
                challenge = None  # spent, expired or refused: take another


def script(number: int, url: str, day: date, released: float, outcomes: Outcomes) -> None:
    stop = threading.Event()
    timer = threading.Timer(max(0.0, released + RUSH_SECONDS - time.monotonic()), stop.set)
    timer.daemon = True
    timer.start()
    threads = [
        threading.Thread(
            target=script_connection, args=(number, c, url, day, released, outcomes, stop)
        )
        for c in range(CONNECTIONS_PER_SCRIPT)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


# ------------------------------------------------------------------------------- a run


def rush(defences: bool) -> Outcomes:
    day = datetime.now(TIME_ZONE).date() + timedelta(days=60)
    outcomes = Outcomes()
    with tempfile.TemporaryDirectory() as directory:
        stack = rush_stack(Path(directory), defences=defences)
        stack.start()
        try:
            warm_up(stack)
            outcomes.seats = release(stack, day)
            released = time.monotonic()
            deadline = released + RUSH_SECONDS
            with ThreadPoolExecutor(4) as solver:
                threads = [
                    threading.Thread(target=script, args=(n, stack.url, day, released, outcomes))
                    for n in range(SCRIPTS)
                ] + [
                    threading.Thread(
                        target=Person(n, stack.url, day, released, outcomes, solver).arrive
                    )
                    for n in range(PEOPLE)
                ]
                for thread in threads:
                    thread.daemon = True
                    thread.start()
                for thread in threads:
                    thread.join(timeout=max(0.0, deadline - time.monotonic()))
        finally:
            stack.stop()
            LOGS.mkdir(parents=True, exist_ok=True)
            shutil.copy(stack.log_path, LOGS / f"rush-{'on' if defences else 'off'}.log")
    return outcomes


def row(name: str, outcomes: Outcomes) -> str:
    booked = outcomes.people_booked
    taken = len(booked) + outcomes.script_seats
    share = outcomes.script_seats / max(taken, 1)
    median = statistics.median(booked) if booked else float("nan")
    waited = statistics.median(outcomes.people_waited) if booked else float("nan")
    device = statistics.median(outcomes.people_solving) if outcomes.people_solving else 0.0
    per_attempt = outcomes.script_solving_seconds / max(outcomes.script_attempts, 1)
    gone = f"{max(outcomes.booked_after):.0f} s" if taken == outcomes.seats else "not all"
    return (
        f"| {name} | {outcomes.seats} | {taken} | {outcomes.script_seats} ({share:.1%}) "
        f"| {len(booked)} of {PEOPLE} | {median:.0f} s | {waited:.1f} s | {device:.2f} s "
        f"| {outcomes.script_attempts} | {per_attempt * 1000:.0f} ms | {gone} |"
    )


def main() -> None:
    print(
        f"Release rush: {SLOTS * SEATS_PER_SLOT} seats of one office-day, {PEOPLE} people "
        f"arriving over {ARRIVAL_SECONDS:.0f} s (think {THINK_SECONDS[0]:.0f}-"
        f"{THINK_SECONDS[1]:.0f} s between steps), {SCRIPTS} scripts x "
        f"{CONNECTIONS_PER_SCRIPT} connections from the release, one network each"
    )
    results = {"off": rush(defences=False), "on": rush(defences=True)}
    print()
    print(
        "| defences | seats | taken | by scripts | people booked | people's median time "
        "to confirmation | of which the service's | person's challenge (CPU) "
        "| script attempts | script CPU per attempt | seats gone after |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, outcomes in results.items():
        print(row(name, outcomes))
    print()
    for name, outcomes in results.items():
        print(
            f"{name}: script refusals {dict(outcomes.script_refusals)}; people without a "
            f"seat {outcomes.people_without_seat}; other failures {dict(outcomes.people_failed)}"
        )
    if any(outcomes.people_failed for outcomes in results.values()):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
