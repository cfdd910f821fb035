"""`make bench`: contended bookings through the local stack's gateway, next to the bare
DynamoDB Local transaction they make, in the same run.

Starts `python -m infra.local` as `make run` does (on free ports, sample data seeded), then:
- 16 clients book through HTTP (POST /appointments) for a fixed time, all on the same slot
  until it is full, then all on the next one;
- 16 clients send the booking's TransactWriteItems (the same conditions and updates) straight
  to the stack's DynamoDB Local, the same way, on other slots of the same tables.
Every slot is read back afterwards: none may hold more than its capacity, and each one's
booked counter must equal the appointments that name it.

The stack runs without the stream-triggered notice renderer: it would draw a PDF per booking
on the cores the bookings are measured on (notice_bench measures it).
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import queue
import statistics
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from pynamodb.constants import DATETIME_FORMAT

from tests.e2e.running import RunningStack, descendants, local_dynamodb
from tests.helpers import applicant, booking_body, solved_over, template_copy

CLIENTS = 16
SECONDS = float(os.environ.get("BENCH_SECONDS", "6"))
# The two paths take turns, so a burst of other work on the machine hits both alike; the ratio
# reported is the median of the rounds' ratios.
ROUNDS = int(os.environ.get("BENCH_GATEWAY_ROUNDS", "3"))
WARM_UP_SECONDS = 3.0
SLOT_CAPACITY = 25
SLOTS_PER_RUN = 600  # more seats than either run can take
OFFICE = "new-york"
TIME_ZONE = ZoneInfo("America/New_York")
TABLE = "appointments-{}Table"
PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK")
PEOPLE = itertools.count()  # a new applicant for every booking: one appointment per person
CHALLENGES = 4000  # more than the bookings of all rounds: each one made spends one
LOCAL_ENV_VARS = Path(__file__).resolve().parents[2] / "infra" / "data" / "local-env.json"


def bench_template(root: Path) -> Path:
    """template.yaml without its stream-triggered functions, next to links to the code."""

    def stream_triggered(resource: dict[str, Any]) -> bool:
        events = resource.get("Properties", {}).get("Events", {}).values()
        return any(event.get("Type") == "DynamoDB" for event in events)

    return template_copy(root, lambda _, resource: not stream_triggered(resource))


def light_challenges(root: Path) -> Path:
    """The local stack's environment overrides, with challenges of the least work: solving
    them is not what this bench measures (the rush simulation does)."""
    overrides = json.loads(LOCAL_ENV_VARS.read_text())
    overrides["GetChallengeFunction"] = {"CHALLENGE_CALM_WORK": "1", "CHALLENGE_RUSH_WORK": "1"}
    path = root / "local-env.json"
    path.write_text(json.dumps(overrides))
    return path


@dataclass
class Slots:
    """A run's slots, taken in turn: every client books the current one until it is full."""

    day: date
    starts: list[str]
    current: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def slot(self) -> int:
        return self.current

    def full(self, index: int) -> None:
        with self.lock:
            self.current = max(self.current, index + 1)

    def slot_id(self, index: int) -> str:
        return f"{OFFICE}:{self.day.isoformat()}T{self.starts[index]}"


def open_slots(client: Any, day: date) -> Slots:
    starts = [f"{minute // 60:02d}:{minute % 60:02d}" for minute in range(SLOTS_PER_RUN)]
    for first in range(0, len(starts), 25):
        client.batch_write_item(
            RequestItems={
                TABLE.format("Slots"): [
                    {"PutRequest": {"Item": slot_item(day, start)}}
                    for start in starts[first : first + 25]
                ]
            }
        )
    return Slots(day, starts)


def slot_item(day: date, start: str) -> dict[str, Any]:
    return {
        "office_day": {"S": f"{OFFICE}#{day.isoformat()}"},
        "start_time": {"S": start},
        "start_utc": {"S": utc_text(start_of(day, start))},
        "capacity": {"N": str(SLOT_CAPACITY)},
        "booked": {"N": "0"},
    }


def start_of(day: date, start: str) -> datetime:
    hour, minute = map(int, start.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TIME_ZONE).astimezone(UTC)


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(DATETIME_FORMAT)


@dataclass
class Tally:
    booked: int = 0
    refused: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, outcome: str) -> None:
        with self.lock:
            if outcome == "booked":
                self.booked += 1
            elif outcome == "full":
                self.refused += 1
            else:
                self.failed[outcome] += 1


def run_clients(attempt: Callable[[int, int], str], slots: Slots, seconds: float) -> Tally:
    """`CLIENTS` threads calling attempt(client, slot) until `seconds` have passed."""
    tally = Tally()
    deadline = time.monotonic() + seconds

    def client(number: int) -> None:
        while time.monotonic() < deadline:
            index = slots.slot()
            outcome = attempt(number, index)
            if outcome == "full":
                slots.full(index)
            tally.add(outcome)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tally


class SolvedChallenges:
    """Challenges fetched from the stack and solved before the clock runs (a client solves
    while its person types): a booking made spends one; a refused one keeps it for the next
    try, as the service lets it."""

    def __init__(self, url: str, count: int) -> None:
        with httpx.Client(base_url=url, timeout=30) as api, ThreadPoolExecutor(CLIENTS) as pool:
            solved = list(pool.map(lambda _: solved_over(api), range(count)))
        self.ready: queue.SimpleQueue[str] = queue.SimpleQueue()
        for challenge in solved:
            self.ready.put(challenge)

    def take(self) -> str:
        return self.ready.get_nowait()

    def give_back(self, challenge: str) -> None:
        self.ready.put(challenge)


class GatewayClients:
    """One keep-alive HTTP connection per client, as a browser or a load tester keeps one."""

    def __init__(self, port: int, slots: Slots, challenges: SolvedChallenges) -> None:
        self.port = port
        self.slots = slots
        self.challenges = challenges
        self.connections: dict[int, http.client.HTTPConnection] = {}

    def attempt(self, client: int, index: int) -> str:
        connection = self.connections.get(client)
        if connection is None:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self.connections[client] = connection
        person = next(PEOPLE)
        challenge = self.challenges.take()
        body = booking_body(
            self.slots.slot_id(index),
            applicant=applicant(name=f"Gateway Person {person}", email=None),
            challenge=challenge,
        )
        try:
            connection.request(
                "POST",
                "/appointments",
                body=json.dumps(body),
                headers={"Content-Type": "application/json"},
            )
            response = connection.getresponse()
            answer = response.read()
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            del self.connections[client]
            return type(error).__name__
        if response.status == 201:
            return "booked"
        self.challenges.give_back(challenge)
        if response.status == 409 and json.loads(answer)["error"] == "slot_full":
            return "full"
        return f"{response.status} {json.loads(answer).get('error')}"


class RawClients:
    """The booking's TransactWriteItems, sent by boto3 straight to DynamoDB Local."""

    def __init__(self, endpoint_url: str, slots: Slots) -> None:
        self.client = dynamodb(endpoint_url)
        self.slots = slots

    def attempt(self, client: int, index: int) -> str:
        key = uuid.uuid4().hex
        now = utc_text(datetime.now(UTC))
        start = utc_text(start_of(self.slots.day, self.slots.starts[index]))
        appointment = {
            "confirmation": {"S": key[:11].upper()},
            "status": {"S": "booked"},
            "office_id": {"S": OFFICE},
            "service": {"S": "adit-stamp"},
            "slot_id": {"S": self.slots.slot_id(index)},
            "start_utc": {"S": start},
            "language": {"S": "es"},
            "name": {"S": f"Raw Person {key}"},
            "date_of_birth": {"S": "1985-04-12"},
            "phone": {"S": "+12025550143"},
            "pin_hash": {"S": key + key},
            "applicant_key": {"S": key + key},
            "created_at": {"S": now},
            "updated_at": {"S": now},
            "pin_failures": {"N": "0"},
            "expires_at": {"N": "4102444800"},
        }
        guard = {
            "applicant_key": {"S": key + key},
            "confirmation": {"S": key[:11].upper()},
            "phone_digest": {"S": key},
            "active_until": {"S": start},
            "lookup_count": {"N": "0"},
            "expires_at": {"N": "4102444800"},
        }
        slot = self.slots.starts[index]
        try:
            self.client.transact_write_items(
                ClientRequestToken=uuid.uuid4().hex,
                TransactItems=[
                    {
                        "Put": {
                            "TableName": TABLE.format("Appointments"),
                            "Item": appointment,
                            "ConditionExpression": "attribute_not_exists(confirmation)",
                        }
                    },
                    {
                        "Put": {
                            "TableName": TABLE.format("Applicants"),
                            "Item": guard,
                            "ConditionExpression": (
                                "attribute_not_exists(applicant_key) OR active_until <= :now"
                            ),
                            "ExpressionAttributeValues": {":now": {"S": now}},
                        }
                    },
                    {
                        "Put": {
                            "TableName": TABLE.format("Applicants"),
                            "Item": guard | {"applicant_key": {"S": f"phone-{key}"}},
                            "ConditionExpression": (
                                "attribute_not_exists(applicant_key) OR active_until <= :now"
                            ),
                            "ExpressionAttributeValues": {":now": {"S": now}},
                        }
                    },
                    {
                        "Put": {
                            "TableName": TABLE.format("Limits"),
                            "Item": {
                                "limit_key": {"S": f"used#work#{key}"},
                                "expires_at": {"N": "4102444800"},
                            },
                            "ConditionExpression": "attribute_not_exists(limit_key)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": TABLE.format("Slots"),
                            "Key": {
                                "office_day": {"S": f"{OFFICE}#{self.slots.day.isoformat()}"},
                                "start_time": {"S": slot},
                            },
                            "UpdateExpression": "ADD booked :one",
                            "ConditionExpression": (
                                "attribute_exists(office_day) AND booked < #capacity "
                                "AND start_utc > :now"
                            ),
                            "ExpressionAttributeNames": {"#capacity": "capacity"},
                            "ExpressionAttributeValues": {":one": {"N": "1"}, ":now": {"S": now}},
                            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                        }
                    },
                ],
            )
        except self.client.exceptions.TransactionCanceledException as error:
            codes = [reason.get("Code") for reason in error.response["CancellationReasons"]]
            if codes[-1] == "ConditionalCheckFailed":  # the slot's update, sent last
                return "full"
            return "/".join(str(code) for code in codes)
        return "booked"


def dynamodb(endpoint_url: str) -> Any:
    return local_dynamodb(endpoint_url, connections=CLIENTS)


def cpu_by_part(stack_pid: int) -> dict[str, float]:
    """CPU seconds used so far by each part of the stack, and by these clients."""
    used: dict[str, float] = defaultdict(float)
    own = os.times()
    used["clients (this process)"] = own.user + own.system
    for pid in [stack_pid, *descendants(stack_pid)]:
        try:
            fields = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
            line = (PROC / str(pid) / "cmdline").read_bytes()
        except OSError:
            continue
        seconds = (int(fields[11]) + int(fields[12])) / TICKS
        if pid == stack_pid:
            used["gateway (the stack's process)"] += seconds
        elif b"DynamoDBLocal.jar" in line:
            used["DynamoDB Local"] += seconds
        elif b"multiprocessing" in line:
            used["function processes"] += seconds
    return used


def measured(stack_pid: int, run: Callable[[], Tally]) -> tuple[Tally, dict[str, float]]:
    before = cpu_by_part(stack_pid)
    tally = run()
    after = cpu_by_part(stack_pid)
    return tally, {part: seconds - before.get(part, 0.0) for part, seconds in after.items()}


def overbooked(client: Any, days: list[date]) -> list[str]:
    """Slots holding more than their capacity, or whose counter differs from the
    appointments that name them."""
    appointments: Counter[str] = Counter()
    for page in client.get_paginator("scan").paginate(
        TableName=TABLE.format("Appointments"), ProjectionExpression="slot_id"
    ):
        appointments.update(item["slot_id"]["S"] for item in page["Items"])
    wrong = []
    for day in days:
        for page in client.get_paginator("query").paginate(
            TableName=TABLE.format("Slots"),
            KeyConditionExpression="office_day = :day",
            ExpressionAttributeValues={":day": {"S": f"{OFFICE}#{day.isoformat()}"}},
            ConsistentRead=True,
        ):
            for item in page["Items"]:
                slot_id = f"{OFFICE}:{day.isoformat()}T{item['start_time']['S']}"
                booked, capacity = int(item["booked"]["N"]), int(item["capacity"]["N"])
                if booked > capacity or booked != appointments[slot_id]:
                    wrong.append(f"{slot_id}: {booked}/{capacity}, {appointments[slot_id]}")
    return wrong


def main() -> None:
    far = datetime.now(TIME_ZONE).date() + timedelta(days=90)
    days = [far + timedelta(days=offset) for offset in range(1 + 2 * ROUNDS)]
    runs: dict[str, list[tuple[Tally, dict[str, float]]]] = {"gateway": [], "raw": []}
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        stack = RunningStack(
            root / "data",
            root / "stack.log",
            {
                "LOCAL_TEMPLATE": str(bench_template(root)),
                "LOCAL_ENV_VARS": str(light_challenges(root)),
            },
        )
        began = time.monotonic()
        stack.start()
        started_in = time.monotonic() - began
        try:
            assert stack.process is not None
            client = dynamodb(f"http://127.0.0.1:{stack.ports['dynamodb']}")
            challenges = SolvedChallenges(stack.url, CHALLENGES)
            warm_slots = open_slots(client, days[0])
            warm = GatewayClients(stack.ports["api"], warm_slots, challenges)
            run_clients(warm.attempt, warm_slots, 3)
            for gateway_day, raw_day in zip(days[1::2], days[2::2], strict=True):
                gateway_slots, raw_slots = (
                    open_slots(client, gateway_day),
                    open_slots(client, raw_day),
                )
                gateway = GatewayClients(stack.ports["api"], gateway_slots, challenges)
                raw = RawClients(client.meta.endpoint_url, raw_slots)
                runs["gateway"].append(
                    measured(
                        stack.process.pid,
                        lambda gateway=gateway, slots=gateway_slots: run_clients(
                            gateway.attempt, slots, SECONDS
                        ),
                    )
                )
                runs["raw"].append(
                    measured(
                        stack.process.pid,
                        lambda raw=raw, slots=raw_slots: run_clients(raw.attempt, slots, SECONDS),
                    )
                )
            wrong = overbooked(client, days)
        finally:
            began = time.monotonic()
            stack.stop()
            stopped_in = time.monotonic() - began
    totals = {path: combined(rounds) for path, rounds in runs.items()}
    ratios = [
        gateway.booked / max(raw.booked, 1)
        for (gateway, _), (raw, _) in zip(runs["gateway"], runs["raw"], strict=True)
    ]
    print_table(totals["gateway"][0], totals["raw"][0], ratios, wrong, started_in, stopped_in)
    print()
    print_cpu(totals)
    if wrong or totals["gateway"][0].failed or totals["raw"][0].failed:
        raise SystemExit(1)


def combined(rounds: list[tuple[Tally, dict[str, float]]]) -> tuple[Tally, dict[str, float]]:
    total, used = Tally(), defaultdict[str, float](float)
    for tally, cpu in rounds:
        total.booked += tally.booked
        total.refused += tally.refused
        total.failed.update(tally.failed)
        for part, seconds in cpu.items():
            used[part] += seconds
    return total, dict(used)


def print_table(
    gateway: Tally,
    raw: Tally,
    ratios: list[float],
    wrong: list[str],
    started_in: float,
    stopped_in: float,
) -> None:
    print(
        f"Contended bookings, {CLIENTS} clients, {ROUNDS} rounds of {SECONDS:.0f} s on each path "
        f"in turn, slots of "
        f"{SLOT_CAPACITY} seats taken in turn; the local stack started in {started_in:.1f} s "
        f"and stopped in {stopped_in:.1f} s"
    )
    print()
    print("| path | bookings/s | slot full (409) | failed |")
    print("|---|---:|---:|---:|")
    for name, tally in (
        ("gateway: HTTP POST /appointments", gateway),
        ("raw: TransactWriteItems to DynamoDB Local", raw),
    ):
        failures = ", ".join(f"{kind} {n}" for kind, n in tally.failed.items()) or "0"
        rate = tally.booked / (SECONDS * ROUNDS)
        print(f"| {name} | {rate:.0f} | {tally.refused} | {failures} |")
    print()
    rounds = ", ".join(f"{ratio:.2f}" for ratio in ratios)
    print(f"gateway / raw: {statistics.median(ratios):.2f} (median of the rounds: {rounds})")
    print(f"slots overbooked or miscounted: {len(wrong)}")
    for line in wrong[:10]:
        print(f"  {line}")


def print_cpu(runs: dict[str, tuple[Tally, dict[str, float]]]) -> None:
    """Where the time goes: on two cores, a run's rate is bound by the CPU a booking costs."""
    parts = sorted({part for _, used in runs.values() for part in used})
    print("CPU time per booking, ms (attempts: bookings and refusals)")
    print()
    print("| part | " + " | ".join(runs) + " |")
    print("|---|" + "---:|" * len(runs))
    for part in [*parts, "total"]:
        cells = []
        for tally, used in runs.values():
            seconds = sum(used.values()) if part == "total" else used.get(part, 0.0)
            cells.append(f"{seconds * 1000 / max(tally.booked + tally.refused, 1):.1f}")
        print(f"| {part} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
