"""Copies restored from one SnapStart snapshot (appointments/snapshots.py).

A restore is played by os.fork() of an initialised process: the domain imported, the secret
read, codes already drawn. Each child first undoes what fork does and a restore does not
(Python reseeds `random` in a forked child: the parent's state is put back), then runs the
after-restore hooks as Lambda's runtime would, then draws.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import random
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from typing import Any

import boto3
import pytest

from appointments import challenges, codes, snapshots
from appointments.models import OfficeModel
from appointments.offices import Office, catalogue
from infra import REPO_ROOT
from tests.helpers import SECRET_NAME

# Draws per restored copy: two copies sharing state draw the same sequence for certain; two
# independent copies draw the same PIN sequence with a chance of 10^-120, and any of the same
# confirmation numbers (50 bits) or challenge nonces (128 bits) with less than 10^-12.
DRAWS = 20
CHILD_SECONDS = 60

Draw = Callable[[], Any]


def _initialised_snapshot() -> None:
    """What a function's initialisation may leave in memory: the secret read, codes drawn."""
    codes.service_secret()
    codes.new_pin()
    codes.new_confirmation_number()
    challenges.new_challenge(datetime.now(UTC))


def _restored_copy(draw: Draw, state_at_snapshot: object, answer: int) -> None:
    """A forked child played as a restored copy: what it draws goes to `answer`, then it ends."""
    status = 1
    try:
        random.setstate(state_at_snapshot)  # type: ignore[arg-type]
        snapshots.run_after_restore_hooks()
        drawn = [draw() for _ in range(DRAWS)]
        os.write(answer, json.dumps(drawn).encode())
        status = 0
    finally:
        os._exit(status)


def _draws_of_two_restores(draw: Draw) -> tuple[list[Any], list[Any]]:
    """What two copies restored from one snapshot draw, each `DRAWS` times."""
    _initialised_snapshot()
    state_at_snapshot = random.getstate()
    drawn = []
    for _ in range(2):
        read_end, write_end = os.pipe()
        child = os.fork()
        if child == 0:
            os.close(read_end)
            _restored_copy(draw, state_at_snapshot, write_end)
        os.close(write_end)
        output = _answer_within(read_end, child, CHILD_SECONDS)
        _, status = os.waitpid(child, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        drawn.append(json.loads(output))
    return drawn[0], drawn[1]


def _answer_within(read_end: int, child: int, seconds: float) -> bytes:
    """Everything the child writes until it ends; a child stuck past `seconds` is killed."""
    deadline = time.monotonic() + seconds
    output = b""
    with os.fdopen(read_end, "rb", buffering=0) as answer:
        while chunk := _read_before(answer, deadline, child):
            output += chunk
    return output


def _read_before(answer: Any, deadline: float, child: int) -> bytes:
    ready, _, _ = select.select([answer], [], [], max(0.0, deadline - time.monotonic()))
    if not ready:
        os.kill(child, signal.SIGKILL)
        pytest.fail("a restored copy did not answer in time")
    return bytes(answer.read(65536))


def _challenge_nonce_and_salt() -> list[str]:
    parameters = challenges.new_challenge(datetime.now(UTC))["parameters"]
    return [parameters["nonce"], parameters["salt"]]


def test_two_restores_of_one_snapshot_hand_out_different_pins(aws: None) -> None:
    # Given a function initialised and snapshotted, then restored twice
    # When each copy hands out PINs
    first, second = _draws_of_two_restores(codes.new_pin)
    # Then the two copies' PINs are not the same sequence
    assert first != second


def test_two_restores_of_one_snapshot_hand_out_different_confirmation_numbers(aws: None) -> None:
    # Given a function initialised and snapshotted, then restored twice
    # When each copy hands out confirmation numbers
    first, second = _draws_of_two_restores(codes.new_confirmation_number)
    # Then no confirmation number comes from both copies
    assert not set(first) & set(second)


def test_two_restores_of_one_snapshot_hand_out_different_challenges(aws: None) -> None:
    # Given a function initialised and snapshotted, then restored twice
    # When each copy hands out challenges
    first, second = _draws_of_two_restores(_challenge_nonce_and_salt)
    # Then no nonce or salt comes from both copies
    assert not set(chain.from_iterable(first)) & set(chain.from_iterable(second))


def test_two_restores_of_one_snapshot_retry_a_conflict_at_different_moments(aws: None) -> None:
    # Given a function initialised and snapshotted, then restored twice
    # When each copy draws the jitter of its retries (Python's random, as transactions.py)
    first, second = _draws_of_two_restores(random.random)
    # Then the copies do not retry in step
    assert first != second


def test_codes_do_not_come_from_pythons_random() -> None:
    # Given Python's random set to one state, twice
    random.seed(2026)
    first = [codes.new_pin() + codes.new_confirmation_number() for _ in range(DRAWS)]
    random.seed(2026)
    # When codes are drawn after each
    second = [codes.new_pin() + codes.new_confirmation_number() for _ in range(DRAWS)]
    # Then the codes do not follow that state
    assert not set(first) & set(second)


def test_a_restored_copy_uses_the_secret_as_it_is_now(aws: None) -> None:
    # Given a function that read the service secret before its snapshot
    codes.service_secret()
    # And the secret rotated while the snapshot waited
    rotated = "rotated-secret-fedcba9876543210fedcba9876543210"
    boto3.client("secretsmanager").put_secret_value(SecretId=SECRET_NAME, SecretString=rotated)
    # When a copy is restored and hashes a PIN
    snapshots.run_after_restore_hooks()
    stored = codes.pin_hash("7K2M9QX4TR8", "402913")
    # Then it is keyed with the rotated secret
    message = "\x1f".join(("pin", "7K2M9QX4TR8", "402913")).encode()
    assert stored == hmac.new(rotated.encode(), message, hashlib.sha256).hexdigest()


def test_a_restored_copy_reads_the_offices_anew(offices: dict[str, Office]) -> None:
    # Given a function that loaded the office catalogue before its snapshot
    assert catalogue.get("new-york").name == offices["new-york"].name
    # And the office renamed while the snapshot waited
    OfficeModel.get("new-york").update(actions=[OfficeModel.name.set("New York Field Office")])
    # When a copy is restored
    snapshots.run_after_restore_hooks()
    # Then it serves the office as it is now
    assert catalogue.get("new-york").name == "New York Field Office"


# What Lambda's Python runtime offers (snapshot_restore_py): registration of callables; this
# stand-in keeps them so the test can see what was registered.
RUNTIME_MODULE = """
after_restore = []
before_snapshot = []

def register_after_restore(func, *args, **kwargs):
    after_restore.append(func)
    return func

def register_before_snapshot(func, *args, **kwargs):
    before_snapshot.append(func)
    return func
"""

LOAD_AND_REPORT = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
app = importlib.util.module_from_spec(spec)
spec.loader.exec_module(app)
import snapshot_restore_py as runtime
print(json.dumps([f"{hook.__module__}.{hook.__qualname__}" for hook in runtime.after_restore]))
"""


@pytest.mark.parametrize("function", ["book_appointment", "site_booking"])
def test_on_lambdas_runtime_an_api_function_registers_the_restore_hooks(
    tmp_path: Path, function: str
) -> None:
    # Given Lambda's Python runtime, with its snapshot_restore_py
    (tmp_path / "snapshot_restore_py.py").write_text(RUNTIME_MODULE, encoding="utf-8")
    environment = os.environ | {
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO_ROOT / "layers/appointments")])
    }
    # When an API function is loaded, as Lambda initialises it
    result = subprocess.run(
        [sys.executable, "-c", LOAD_AND_REPORT, str(REPO_ROOT / "functions" / function / "app.py")],
        env=environment,
        capture_output=True,
        text=True,
        timeout=CHILD_SECONDS,
        check=True,
    )
    # Then the runtime runs the domain's restore hooks after each restore
    assert json.loads(result.stdout) == ["appointments.snapshots.run_after_restore_hooks"]
