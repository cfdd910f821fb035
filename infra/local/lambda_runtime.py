"""Running a template's function locally the way Lambda does: each execution environment is a
process of its own, with only the environment the template gives the function, its code and
layers on the path, and a timeout.

A function scales out like Lambda's: it starts with one warm process, and another is started
(with a cold start of its own) only when every one it has is busy, up to its concurrency (the
LOCAL_CONCURRENCY setting, or the template's ReservedConcurrentExecutions if lower). Each
process handles one event at a time; events that find them all busy wait in one queue and are
served in the order they came, never dropped. A process that crashed or ran past the timeout
is thrown away, and another takes its place when there is work for it. Logs go to the
terminal. The processes end with the stack, even when the stack is killed hard.
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import multiprocessing.connection
import multiprocessing.forkserver
import os
import queue
import signal
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from infra.local.template import FunctionSpec

_CONTEXT = multiprocessing.get_context("forkserver")
# Each process is forked from a server that has already imported the libraries every function
# imports (as a SnapStart copy starts from an initialised environment): a cold start then costs
# the function's own modules, not a second of the same libraries again, which on two cores
# delayed the stack's start and every scale-out. The libraries read nothing of a function's
# environment when imported; the function's code and the domain layer are imported in its own
# process, after its environment and path are set.
_CONTEXT.set_forkserver_preload(
    [
        "infra.local.lambda_runtime",
        "boto3",
        "pynamodb.models",
        "pynamodb.transactions",
        "aws_lambda_powertools.logging",
        "aws_lambda_powertools.metrics",
        "aws_lambda_powertools.event_handler.api_gateway",
        "aws_lambda_powertools.event_handler.middlewares.openapi_validation",
        "pydantic",
        "jinja2",
        "babel.support",
    ]
)
READY_TIMEOUT_SECONDS = 60
# An idle worker told to stop ends within this; after it, it is killed.
WORKER_EXIT_SECONDS = 1.0


def start_process_server() -> None:
    """Start the server the function processes are forked from, now: its imports then overlap
    the rest of the stack's start instead of delaying the first function's."""
    multiprocessing.forkserver.ensure_running()


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


class _Worker:
    """One execution environment: a process with the handler imported, one event at a time."""

    def __init__(self, spec: FunctionSpec, environment: dict[str, str], name: str) -> None:
        self.spec = spec
        self.name = name
        self._environment = environment
        self._process: Any = None
        self._connection: Connection | None = None
        self.stopping = False

    @property
    def alive(self) -> bool:
        return self._connection is not None and self._process.is_alive()

    def start(self) -> None:
        """Spawn the process and wait for its cold start (the handler's import)."""
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
        try:
            ready = parent.poll(READY_TIMEOUT_SECONDS)
            status, detail = parent.recv() if ready else ("failed", "no answer")
        except (EOFError, OSError):
            status, detail = "failed", "the process ended"
        if status != "ready":
            self.stop(grace_seconds=0)
            raise RuntimeError(f"{self.name} could not start: {detail}")

    def invoke(self, event: dict[str, Any]) -> Invocation:
        """Hand the process one event; one that crashes or runs out of time is ended."""
        if not self.alive:
            self.start()
        connection = self._connection
        assert connection is not None
        started = time.monotonic()
        try:
            connection.send(event)
            if not connection.poll(self.spec.timeout_seconds):
                self.stop(grace_seconds=0)
                return Invocation(False, {"errorType": "TimeoutError"}, _since(started))
            status, payload = connection.recv()
        except (EOFError, OSError):  # the process died, or the stack stopped it
            error = "Stopped" if self.stopping else "RuntimeExited"
            self.stop(grace_seconds=0)
            return Invocation(False, {"errorType": error}, _since(started))
        return Invocation(status == "ok", payload, _since(started))

    def stop(self, grace_seconds: float) -> None:
        """Ask the process to end; kill it if it has not after `grace_seconds`."""
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(OSError):  # the process may already be gone
                connection.send(None)
            connection.close()
        process = self._process
        if process is not None:
            process.join(timeout=grace_seconds)
            if process.is_alive():
                process.kill()
                process.join()

    def kill(self) -> None:
        self.stopping = True
        process = self._process
        if process is not None:
            with contextlib.suppress(OSError, ValueError, AttributeError):
                process.kill()


@dataclass(frozen=True)
class _Request:
    event: dict[str, Any]
    answer: Future[Invocation] = field(default_factory=Future)


class FunctionPool:
    """A function's warm workers, scaled out on demand up to `concurrency`.

    The requests wait in one FIFO queue that every worker's thread takes from, so an event is
    never passed over by a later one, whichever worker becomes free first.
    """

    def __init__(
        self,
        spec: FunctionSpec,
        environment: dict[str, str],
        name: str,
        concurrency: int,
        log: Callable[[str], None] = print,
    ) -> None:
        self.spec = spec
        self.name = name
        self.concurrency = concurrency
        self.log = log
        self._environment = environment
        self._requests: queue.SimpleQueue[_Request | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads: dict[_Worker, threading.Thread] = {}  # started, or starting
        self._waiting = 0  # requests in the queue
        self._busy = 0  # workers with an event in hand
        self._stopped = False

    @property
    def size(self) -> int:
        """Workers running or starting."""
        with self._lock:
            return len(self._threads)

    def start(self) -> None:
        """The first worker's cold start, now: a function that cannot start stops the stack."""
        worker = _Worker(self.spec, self._environment, self.name)
        worker.start()
        with self._lock:
            self._add(worker)

    def invoke(self, event: dict[str, Any]) -> Invocation:
        request = _Request(event)
        with self._lock:
            if self._stopped or self.concurrency < 1:
                return _failed("Stopped" if self._stopped else "TooManyRequestsException")
            self._requests.put(request)
            self._waiting += 1
            self._scale_out()
        return request.answer.result()

    def _scale_out(self) -> None:
        """Start a worker for each waiting request that no idle worker will take (lock held)."""
        while (
            not self._stopped
            and len(self._threads) < self.concurrency
            and self._waiting > len(self._threads) - self._busy
        ):
            self._add(_Worker(self.spec, self._environment, self.name))

    def _add(self, worker: _Worker) -> None:
        thread = threading.Thread(
            target=self._work, args=(worker,), name=f"{self.name}-{len(self._threads)}", daemon=True
        )
        self._threads[worker] = thread
        thread.start()

    def _work(self, worker: _Worker) -> None:
        """A worker's life: its cold start, then requests in order until it is stopped, or
        crashes, or runs out of time."""
        try:
            if not worker.alive and not self._cold_start(worker):
                return
            while True:
                request = self._requests.get()
                if request is None:
                    return
                with self._lock:
                    self._waiting -= 1
                    self._busy += 1
                try:
                    request.answer.set_result(worker.invoke(request.event))
                except Exception as error:  # a crashed process could not start again, or the
                    # event could not be sent: this request fails, never waits for ever
                    self.log(f"{self.name}: {type(error).__name__}")
                    request.answer.set_result(_failed("Runtime.InitError"))
                finally:
                    with self._lock:
                        self._busy -= 1
                if not worker.alive:
                    return  # replaced when there is work for another
        finally:
            worker.stop(grace_seconds=WORKER_EXIT_SECONDS)
            with self._lock:
                del self._threads[worker]
                self._scale_out()

    def _cold_start(self, worker: _Worker) -> bool:
        """Start the worker; if it cannot start, the request waiting longest gets the error
        (as the request that made Lambda scale out does)."""
        try:
            worker.start()
        except RuntimeError as error:
            if not worker.stopping:
                self.log(str(error))
            with contextlib.suppress(queue.Empty):
                request = self._requests.get_nowait()
                if request is not None:
                    with self._lock:
                        self._waiting -= 1
                    request.answer.set_result(_failed("Runtime.InitError"))
            return False
        return True

    def stop(self, grace_seconds: float) -> None:
        """Let each worker finish its event in flight for up to `grace_seconds`, then end them
        all; requests still queued get a failed invocation."""
        deadline = time.monotonic() + grace_seconds
        with self._lock:
            self._stopped = True
            threads = dict(self._threads)
            while True:
                try:
                    request = self._requests.get_nowait()
                except queue.Empty:
                    break
                if request is not None:
                    self._waiting -= 1
                    request.answer.set_result(_failed("Stopped"))
            for _ in threads:
                self._requests.put(None)
        for worker in threads:
            worker.stopping = True
        for thread in threads.values():
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        for worker, thread in threads.items():
            if thread.is_alive():
                worker.kill()
        for thread in threads.values():
            thread.join(timeout=WORKER_EXIT_SECONDS)

    def kill(self) -> None:
        """End every process at once (the stack was told to stop at once)."""
        with self._lock:
            self._stopped = True
            workers = list(self._threads)
        for worker in workers:
            worker.kill()


def _failed(error_type: str) -> Invocation:
    return Invocation(False, {"errorType": error_type}, 0.0)


def _since(started: float) -> float:
    return (time.monotonic() - started) * 1000
