"""`make load`: one release minute on the local stack, with locust playing the people.

Starts `python -m infra.local` as `make run` does (own free ports, sample data seeded) from
the template without its stream-triggered notice renderer (it would draw a PDF per booking
on the cores the run is measured on; tests/bench/notice_bench.py measures it) and with
challenges of the least work (a person's device solves them while they type; what the
service pays per challenge, one UpdateItem and an HMAC, does not depend on the work). The web
ACL, the per-network count and every other defence are on, as deployed.

Then locust (tests/load/locustfile.py) runs headless: LOAD_USERS people on the site at any
time, arriving LOAD_SPAWN_RATE a second, for LOAD_SECONDS; LOAD_RELEASE_AFTER seconds in, the
product's own release (appointments.release, as the schedule runs it) opens the next
business day of every office, and the people, all of the same office, find its free times and
book. Afterwards every slot of that office-day is read back: none may hold more than its
capacity, and each slot's counter must equal the active appointments that name it. It prints
the figures: requests per second per route, p50 and p95, answers by status, seats and bookings.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from tests.bench.gateway_bench import dynamodb, light_challenges
from tests.bench.rush_bench import rush_template, warm_up
from tests.e2e.running import RunningStack
from tests.helpers import REPO_ROOT
from tests.load.slot_counts import miscounted, read_back

USERS = int(os.environ.get("LOAD_USERS", "50"))
SPAWN_RATE = float(os.environ.get("LOAD_SPAWN_RATE", "10"))
SECONDS = int(os.environ.get("LOAD_SECONDS", "60"))
RELEASE_AFTER = float(os.environ.get("LOAD_RELEASE_AFTER", "10"))
OFFICE, ZIP, SERVICE = "new-york", "10007", "adit-stamp"
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
LOCUST = Path(sys.executable).with_name("locust")
STACK_NAME = "appointments"
OPENED_LINE = re.compile(r"^  (?P<office>\S+) +(?P<day>\d{4}-\d{2}-\d{2}) ", re.MULTILINE)


@dataclass(frozen=True)
class Answer:
    route: str
    status: int
    error: str
    ms: float
    at: float
    cache: str  # the distribution's X-Cache: Hit or Miss from cloudfront, or empty


def release_monday() -> date:
    """A Monday some weeks ahead: its scheduled release opens Tuesday in New York, far from
    today's bookings."""
    day = date.today() + timedelta(days=56)
    return day + timedelta(days=-day.weekday() % 7)


def release(stack: RunningStack, monday: date, *, dry_run: bool) -> dict[str, date]:
    """The product's release as the schedule runs it on that Monday, by its command-line tool
    (in a process of its own: it takes the template's environment for the release function);
    the office-days it opens (or would), by office."""
    command = [sys.executable, "-m", "infra.tools.release", "--date", monday.isoformat()]
    command += ["--endpoint", f"http://127.0.0.1:{stack.ports['dynamodb']}"]
    done = subprocess.run(
        command + ["--dry-run"] * dry_run,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return {
        found["office"]: date.fromisoformat(found["day"])
        for found in OPENED_LINE.finditer(done.stdout)
    }


def run_locust(root: Path, stack: RunningStack, day: date, monday: date) -> tuple[float, float]:
    """Locust for SECONDS, the release RELEASE_AFTER seconds in; when locust started and when
    the release had written every slot."""
    started = time.time()
    release_at = started + RELEASE_AFTER
    environment = {
        **os.environ,
        "LOAD_OFFICE": OFFICE,
        "LOAD_ZIP": ZIP,
        "LOAD_SERVICE": SERVICE,
        "LOAD_DAY": day.isoformat(),
        "LOAD_RELEASE_AT": str(release_at),
        "LOAD_REPORT": str(root / "answers.jsonl"),
    }
    command = [
        *(str(LOCUST), "-f", str(LOCUSTFILE), "--headless", "--only-summary"),
        *("--users", str(USERS), "--spawn-rate", str(SPAWN_RATE)),
        *("--run-time", f"{SECONDS}s", "--stop-timeout", "10", "--host", stack.url),
    ]
    with (root / "locust.log").open("wb") as log:
        locust = subprocess.Popen(command, cwd=REPO_ROOT, env=environment, stdout=log, stderr=log)
        try:
            time.sleep(max(0.0, release_at - time.time()))
            began = time.time()
            opened = release(stack, monday, dry_run=False)
            released = time.time()
            print(
                f"the release opened {len(opened)} office-days in {released - began:.1f} s "
                f"(the tool's start included), {released - started:.1f} s into the run"
            )
            locust.wait(timeout=SECONDS + 120)
        finally:
            if locust.poll() is None:
                locust.kill()
                locust.wait()
    return started, released


def answers_of(path: Path) -> list[Answer]:
    return [Answer(**json.loads(line)) for line in path.read_text().splitlines() if line]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def print_figures(
    answers: list[Answer], started: float, released_at: float, seats: int, wrong: list[str]
) -> None:
    first, last = min(a.at for a in answers), max(a.at for a in answers)
    span = max(last - first, 1.0)
    into = released_at - started
    by_route: dict[str, list[Answer]] = defaultdict(list)
    for answer in answers:
        by_route[answer.route].append(answer)
    print()
    print(
        f"{USERS} people on the site at a time (arriving {SPAWN_RATE:g}/s), {SECONDS} s; "
        f"the day's seats all written {into:.0f} s in; {len(answers)} answers in {span:.0f} s"
    )
    print()
    print("| route | requests | per second | p50 ms | p95 ms | edge copies | answers by status |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for route, group in sorted(by_route.items(), key=lambda item: -len(item[1])):
        times = [a.ms for a in group]
        statuses = Counter(f"{a.status} {a.error}".strip() for a in group)
        cells = ", ".join(f"{status}: {n}" for status, n in sorted(statuses.items()))
        hits = sum(a.cache.startswith("Hit") for a in group)
        print(
            f"| {route} | {len(group)} | {len(group) / span:.1f} | "
            f"{statistics.median(times):.0f} | {percentile(times, 0.95):.0f} | {hits} | {cells} |"
        )
    times = [a.ms for a in answers]
    print(
        f"| all | {len(answers)} | {len(answers) / span:.1f} | {statistics.median(times):.0f} | "
        f"{percentile(times, 0.95):.0f} | {sum(a.cache.startswith('Hit') for a in answers)} | |"
    )
    booked = sorted(a.at for a in answers if a.route == "POST /appointments" and a.status == 201)
    failed = Counter(
        f"{a.route} {a.status} {a.error}".strip()
        for a in answers
        if a.status >= 500
        or a.status in (0, 429)
        or (a.status >= 400 and a.error not in ("slot_full",))
    )
    print()
    print(f"seats released at the office: {seats}; booked: {len(booked)}")
    if booked and len(booked) == seats:
        print(f"all seats gone {booked[-1] - released_at:.1f} s after the release")
    elif booked:
        print(f"last booking {booked[-1] - released_at:.1f} s after the release")
    print("failures: " + (", ".join(f"{what}: {n}" for what, n in failed.items()) or "0"))
    print(f"slots overbooked or miscounted: {len(wrong)}")
    for line in wrong[:10]:
        print(f"  {line}")


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        stack = RunningStack(
            root / "data",
            root / "stack.log",
            {
                "LOCAL_TEMPLATE": str(rush_template(root, defences=True)),
                "LOCAL_ENV_VARS": str(light_challenges(root)),
                "LOCAL_STACK_NAME": STACK_NAME,
            },
        )
        stack.start()
        try:
            monday = release_monday()
            day = release(stack, monday, dry_run=True)[OFFICE]
            warm_up(stack)
            started, released_at = run_locust(root, stack, day, monday)
            client = dynamodb(f"http://127.0.0.1:{stack.ports['dynamodb']}")
            slots, named = read_back(
                client,
                f"{STACK_NAME}-SlotsTable",
                f"{STACK_NAME}-AppointmentsTable",
                [f"{OFFICE}#{day.isoformat()}"],
            )
            wrong = miscounted(slots, named)
            answers = answers_of(root / "answers.jsonl")
        finally:
            stack.stop()
    print_figures(answers, started, released_at, sum(slot.capacity for slot in slots), wrong)
    if wrong:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
