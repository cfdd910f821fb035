"""Running a template's function locally the way Lambda does: one process per function, with
only the environment the template gives it, its code and layers on the path, and a timeout.

The handler runs in a separate process (spawned, so nothing leaks from the gateway) and is
invoked one event at a time, like a single warm Lambda container: callers that find it busy
queue, and are served in the order they came. Logs go to the terminal. The process ends with
the stack, even when the stack is killed hard.
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
import time
import traceback
import uuid
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from infra.local.template import FunctionSpec

_CONTEXT = multiprocessing.get_context("spawn")
READY_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class Invocation:
    ok: bool
    payload: Any  # the handler's return value, or {"errorType": …} when it failed
    duration_ms: float


class _LambdaContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    def __init__(self, name: str, memory_mb: int, timeout_seconds: int) -> None:
        self.function_name = name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory_mb
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _serve(
    connection: Connection, spec: FunctionSpec, environment: dict[str, str], name: str
) -> None:
    """The worker process: import the handler once, then answer events until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the stack, which stops us
    _exit_with_parent()
    os.environ.clear()
    os.environ.update(environment)
    sys.path[:0] = [str(spec.code_dir), *(str(path) for path in spec.layer_dirs)]
    handler = spec.handler
    module_name, _, function_name = handler.rpartition(".")
    try:
        function = getattr(importlib.import_module(module_name), function_name)
    except Exception as error:  # reported to the gateway, which shows it and gives up
        connection.send(("failed", f"{type(error).__name__} while importing {handler}"))
        traceback.print_exc()
        return
    connection.send(("ready", None))
    while True:
        try:
            event = connection.recv()
        except EOFError:  # the local stack has gone away
            return
        if event is None:
            return
        context = _LambdaContext(name, spec.memory_mb, spec.timeout_seconds)
        try:
            connection.send(("ok", function(event, context)))
        except Exception as error:
            traceback.print_exc()
            connection.send(("error", {"errorType": type(error).__name__}))


def _exit_with_parent() -> None:
    """End this process when the stack's process ends, however it ends (kill -9 included);
    otherwise a worker busy with an event would live on after it."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return
    sentinel = parent.sentinel  # readable (end of file) once the parent has gone

    def watch() -> None:
        multiprocessing.connection.wait([sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


class _ArrivalOrderLock:
    """A lock handed to its waiters in the order they came.

    Why: threading.Lock wakes any waiter, so with many requests for a busy function one could
    wait behind later ones for as long as the load lasts.
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held = False
        self._waiting: deque[threading.Lock] = deque()

    def __enter__(self) -> None:
        with self._mutex:
            if not self._held:
                self._held = True
                return
            turn = threading.Lock()
            turn.acquire()
            self._waiting.append(turn)
        turn.acquire()  # released by the holder: the lock passes straight to us

    def __exit__(self, *exc_info: object) -> None:
        with self._mutex:
            if self._waiting:
                self._waiting.popleft().release()
            else:
                self._held = False


class FunctionWorker:
    """One warm 'container' of a function; invocations are serialised as in Lambda."""

    def __init__(self, spec: FunctionSpec, environment: dict[str, str], name: str) -> None:
        self.spec = spec
        self.name = name
        self._environment = environment
        self._lock = _ArrivalOrderLock()
        self._process: Any = None
        self._connection: Connection | None = None
        self._stopped = False

    def start(self) -> None:
        parent, child = _CONTEXT.Pipe()
        self._process = _CONTEXT.Process(
            target=_serve,
            name=f"lambda:{self.name}",
            args=(child, self.spec, self._environment, self.name),
            daemon=True,
        )
        self._process.start()
        child.close()
        self._connection = parent
        if not parent.poll(READY_TIMEOUT_SECONDS):
            self._terminate(grace_seconds=0)
            raise RuntimeError(f"{self.name} did not start within {READY_TIMEOUT_SECONDS}s")
        status, detail = parent.recv()
        if status != "ready":
            self._terminate(grace_seconds=3)
            raise RuntimeError(f"{self.name} could not start: {detail}")

    def invoke(self, event: dict[str, Any]) -> Invocation:
        with self._lock:
            if self._stopped:
                return Invocation(False, {"errorType": "Stopped"}, 0.0)
            if self._connection is None or not self._process.is_alive():
                self.start()
            connection = self._connection
            if connection is None:
                raise RuntimeError(f"{self.name} is not running")
            started = time.monotonic()
            try:
                connection.send(event)
                if not connection.poll(self.spec.timeout_seconds):
                    self._restart()
                    return Invocation(False, {"errorType": "TimeoutError"}, _since(started))
                status, payload = connection.recv()
            except (EOFError, OSError):  # the process died, or the stack stopped it
                if self._stopped:
                    return Invocation(False, {"errorType": "Stopped"}, _since(started))
                self._restart()
                return Invocation(False, {"errorType": "RuntimeExited"}, _since(started))
            return Invocation(status == "ok", payload, _since(started))

    def _restart(self) -> None:
        self._terminate(grace_seconds=3)
        self.start()

    def stop(self, grace_seconds: float = 3) -> None:
        """End the process once its event in flight is done, or after `grace_seconds`; callers
        waiting for it get a failed invocation, and it is not started again."""
        self._stopped = True
        self._terminate(grace_seconds)

    def kill(self) -> None:
        """End the process at once (the stack was told to stop at once)."""
        self._stopped = True
        process = self._process
        if process is not None:
            with contextlib.suppress(OSError, ValueError):
                process.kill()

    def _terminate(self, grace_seconds: float) -> None:
        if self._connection is not None:
            with contextlib.suppress(OSError):  # the worker may already be gone
                self._connection.send(None)
            self._connection.close()
            self._connection = None
        if self._process is not None:
            self._process.join(timeout=grace_seconds)
            if self._process.is_alive():
                self._process.kill()
                self._process.join()
            self._process = None


def _since(started: float) -> float:
    return (time.monotonic() - started) * 1000
