"""Fetch, start and stop the official DynamoDB Local for tests and local development.

Why: integration tests need real DynamoDB semantics (moto is not always faithful), but we want
no Docker and no download source other than the npm registry. The official
``DynamoDBLocal.jar`` ships inside the npm package ``amplify-dynamodb-simulator``, so we fetch
it with ``npm pack``, cache it under ``.cache/dynamodb-local`` and run it with Java 17+.

Usage::

    python -m infra.local.dynamodb_local [--port N] [--db-path DIR]
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import ctypes
import errno
import fcntl
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType, TracebackType
from typing import IO, Self

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from infra import REPO_ROOT

__all__ = [
    "DEFAULT_CACHE_DIR",
    "NPM_PACKAGE",
    "NPM_VERSION",
    "DynamoDBLocal",
    "InUseError",
    "PortInUseError",
    "ensure_installed",
    "free_port",
    "java_available",
    "port_holder",
]

DEFAULT_CACHE_DIR = REPO_ROOT / ".cache" / "dynamodb-local"

NPM_PACKAGE = "amplify-dynamodb-simulator"
NPM_VERSION = "2.9.30"
MIN_JAVA_MAJOR = 17
JAR_NAME = "DynamoDBLocal.jar"

STARTUP_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
_LOG_TAIL_BYTES = 4000
_LOG_MAX_AGE_S = 24 * 3600
_FATAL_MARKER = 'Exception in thread "main"'

_JAVA_VERSION_RE = re.compile(r'version "(\d+)(?:\.(\d+))?')
_PR_SET_PDEATHSIG = 1
_TCP_LISTEN = "0A"
_COMMAND_LINE_MAX = 300


class InUseError(RuntimeError):
    """Something DynamoDB Local needs is held by another process; the message names it."""


class PortInUseError(InUseError):
    """The port belongs to a process this code did not start: never talk to it as our own."""


def java_available() -> bool:
    """Return True if ``java`` on PATH is >= 17, so callers can skip tests instead of failing."""
    java = shutil.which("java")
    if java is None:
        return False
    try:
        result = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return False
    # `java -version` writes to stderr; the format is e.g. `openjdk version "17.0.15"` or,
    # for Java 8 and older, `java version "1.8.0_392"` (major is then the second number).
    match = _JAVA_VERSION_RE.search(result.stderr or result.stdout)
    if match is None:
        return False
    major = int(match.group(1))
    if major == 1 and match.group(2) is not None:
        major = int(match.group(2))
    return major >= MIN_JAVA_MAJOR


def _emulator_dir(cache_dir: Path) -> Path:
    """Versioned install location, so bumping NPM_VERSION never reuses a stale jar."""
    return cache_dir / f"{NPM_PACKAGE}-{NPM_VERSION}" / "package" / "emulator"


def ensure_installed(
    cache_dir: Path = DEFAULT_CACHE_DIR, *, log: Callable[[str], None] = print
) -> Path:
    """Return the dir holding DynamoDBLocal.jar, downloading it from npm only if missing.

    Safe under concurrency (e.g. pytest-xdist workers): an flock serialises installers and the
    unpacked tree is renamed into place atomically, so readers never see a half-written jar.
    """
    emulator = _emulator_dir(cache_dir)
    if (emulator / JAR_NAME).is_file():
        return emulator

    cache_dir.mkdir(parents=True, exist_ok=True)
    install_root = emulator.parent.parent  # <cache>/<pkg>-<version>
    with (cache_dir / ".install.lock").open("w") as lock_file:
        fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX)
        # Another process may have finished the install while we waited for the lock.
        if (emulator / JAR_NAME).is_file():
            return emulator
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("npm not found on PATH; it is needed to fetch DynamoDB Local")
        if install_root.exists():  # leftover from a manual/foreign partial copy
            shutil.rmtree(install_root)

        tmp = Path(tempfile.mkdtemp(prefix=".tmp-install-", dir=cache_dir))
        try:
            log(f"Fetching DynamoDB Local (npm {NPM_PACKAGE}@{NPM_VERSION})…")
            result = subprocess.run(
                [
                    npm,
                    "pack",
                    f"{NPM_PACKAGE}@{NPM_VERSION}",
                    "--pack-destination",
                    str(tmp),
                    "--silent",
                ],
                cwd=tmp,
                capture_output=True,
                text=True,
                check=False,
                timeout=900,
            )
            tarballs = sorted(tmp.glob("*.tgz"))
            if result.returncode != 0 or not tarballs:
                raise RuntimeError(
                    f"npm pack {NPM_PACKAGE}@{NPM_VERSION} failed "
                    f"(exit {result.returncode}):\n{result.stderr[-_LOG_TAIL_BYTES:]}"
                )

            log("Unpacking…")
            unpacked = tmp / "unpacked"
            with tarfile.open(tarballs[0], "r:gz") as archive:
                archive.extractall(unpacked, filter="data")
            if not (unpacked / "package" / "emulator" / JAR_NAME).is_file():
                raise RuntimeError(
                    f"{NPM_PACKAGE}@{NPM_VERSION} does not contain package/emulator/{JAR_NAME}"
                )
            os.replace(unpacked, install_root)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return emulator


def free_port() -> int:
    """Ask the OS for an unused TCP port on 127.0.0.1 so parallel runs don't collide."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is not "taken"
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def _listening_pids(port: int) -> set[int]:
    """The processes with a socket listening on the port, from /proc (Linux; own user's only)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == _TCP_LISTEN and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{fields[9]}]")
    pids: set[int] = set()
    if not inodes:
        return pids
    for process in Path("/proc").iterdir():
        if not process.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for descriptor in (process / "fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(descriptor) in inodes:
                        pids.add(int(process.name))
                        break
    return pids


def _process_group(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except OSError:
        return None


def _command_line(pid: int) -> str:
    try:
        raw = (Path("/proc") / str(pid) / "cmdline").read_bytes()
    except OSError:
        return "?"
    text = raw.replace(b"\0", b" ").decode(errors="replace").strip()
    return text if len(text) <= _COMMAND_LINE_MAX else text[: _COMMAND_LINE_MAX - 1] + "…"


def port_holder(port: int) -> str | None:
    """Who holds a local TCP port, in words a person can act on; None when the port is free."""
    if _bindable(port):
        return None
    pids = _listening_pids(port)
    if not pids:
        return "a process this user cannot see"
    return ", ".join(f"process {pid} ({_command_line(pid)})" for pid in sorted(pids))


def _die_with_this_process() -> Callable[[], None] | None:
    """A preexec_fn that has the kernel kill the child when this process dies, even by SIGKILL.

    PR_SET_PDEATHSIG fires when the *thread* that started the child ends, so it is only used
    from the main thread; elsewhere (and off Linux) the atexit hook alone stops the child.
    """
    if threading.current_thread() is not threading.main_thread():
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # died before the signal was armed
            os._exit(1)

    return preexec


def _tail(path: Path, limit: int = _LOG_TAIL_BYTES) -> str:
    """Last bytes of the server log, to make start-up failures diagnosable."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - limit))
            return fh.read().decode("utf-8", errors="replace")
    except OSError:
        return "<no log>"


def _prune_old_logs(log_dir: Path) -> None:
    """Drop day-old per-port logs so random ports don't pile up files forever."""
    cutoff = time.time() - _LOG_MAX_AGE_S
    for old in log_dir.glob("dynamodb-local-*.log"):
        with contextlib.suppress(OSError):
            if old.stat().st_mtime < cutoff:
                old.unlink()


class DynamoDBLocal:
    """A DynamoDB Local java process owned by this Python process.

    Runs in its own process group so the whole tree can be stopped reliably, and an atexit hook
    stops it so no orphan java outlives the interpreter (on normal exit/exception). Started from
    the main thread, the kernel also kills it when this process is killed (kill -9 included).
    It never starts on a port another process holds, nor on a data directory another
    DynamoDB Local of ours is using.
    """

    def __init__(
        self,
        port: int | None = None,
        db_path: Path | None = None,
        cache_dir: Path = DEFAULT_CACHE_DIR,
    ) -> None:
        self._port = port if port is not None else free_port()
        self._db_path = db_path.resolve() if db_path is not None else None
        self._cache_dir = cache_dir
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_path: Path | None = None
        self._data_lock: IO[str] | None = None

    @property
    def port(self) -> int:
        """TCP port the emulator listens on."""
        return self._port

    @property
    def endpoint_url(self) -> str:
        """Value for boto3's ``endpoint_url``."""
        return f"http://127.0.0.1:{self._port}"

    @property
    def log_path(self) -> Path | None:
        """Where the java process writes its output (None before start)."""
        return self._log_path

    @property
    def running(self) -> bool:
        """True while the java process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        """Launch java and block until DynamoDB Local answers requests."""
        if self.running:
            return
        if not java_available():
            raise RuntimeError(f"DynamoDB Local needs java >= {MIN_JAVA_MAJOR} on PATH")
        emulator = ensure_installed(self._cache_dir)
        self._refuse_a_taken_port()

        cmd = [
            "java",
            # The quick compiler only, and one garbage collector thread: the emulator of a
            # local run or a test starts in half the time and half the CPU (2.6 s instead of
            # 5.7; the seed's release 2.8 s instead of 5.0), which on two cores is what counts;
            # the optimising compiler's later speed never pays back its compile time here.
            "-XX:TieredStopAtLevel=1",
            "-XX:+UseSerialGC",
            "-Djava.library.path=./DynamoDBLocal_lib",
            "-jar",
            JAR_NAME,
            "-sharedDb",
            "-port",
            str(self._port),
        ]
        if self._db_path is not None:
            self._db_path.mkdir(parents=True, exist_ok=True)
            self._lock_data_directory(self._db_path)
            cmd += ["-dbPath", str(self._db_path)]
            # One server per db_path at a time (the -sharedDb file), so one fixed log name.
            self._log_path = self._db_path / "dynamodb-local.log"
        else:
            cmd.append("-inMemory")
            log_dir = self._cache_dir / "logs"
            log_dir.mkdir(parents=True, exist_ok=True)
            _prune_old_logs(log_dir)
            # Parallel in-memory servers (e.g. xdist workers) differ by port.
            self._log_path = log_dir / f"dynamodb-local-{self._port}.log"

        # Output goes to a file, not a pipe: nobody reads it, and a full pipe would block java.
        with self._log_path.open("wb") as log_file:
            self._proc = subprocess.Popen(
                cmd,
                cwd=emulator,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_this_process(),  # noqa: PLW1509 - only prctl, then exec
            )
        atexit.register(self.stop)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _refuse_a_taken_port(self) -> None:
        holder = port_holder(self._port)
        if holder is None:
            return
        hint = "stop it, or choose another port"
        if self._db_path is not None and f"-dbPath {self._db_path}" in holder:
            hint = "it is a DynamoDB Local left from an earlier run on this data directory; stop it"
        raise PortInUseError(
            f"Port {self._port} is already in use by {holder}. DynamoDB Local was not started: "
            f"{hint}."
        )

    def _lock_data_directory(self, db_path: Path) -> None:
        """One DynamoDB Local per data directory: two would write the same database file."""
        lock = (db_path / "dynamodb-local.lock").open("a+")
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            owner = lock.read().strip() or "?"
            lock.close()
            raise InUseError(
                f"{db_path} is in use by the DynamoDB Local of process {owner}; stop that one first"
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(str(os.getpid()))
        lock.flush()
        self._data_lock = lock

    def _wait_ready(self) -> None:
        """Poll list_tables until it succeeds; the port opens before the service is usable."""
        client = boto3.client(
            "dynamodb",
            endpoint_url=self.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="dummy",
            aws_secret_access_key="dummy",  # noqa: S106 - DynamoDB Local ignores credentials
            config=Config(connect_timeout=1, read_timeout=2, retries={"max_attempts": 1}),
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            assert self._proc is not None
            code = self._proc.poll()
            if code is not None:
                raise RuntimeError(
                    f"DynamoDB Local exited with code {code} during start-up; "
                    f"log {self._log_path}:\n{self._log_tail()}"
                )
            # A failed bind leaves the JVM alive (Jetty threads), so also fail fast on the log.
            if _FATAL_MARKER in self._log_tail():
                raise RuntimeError(
                    f"DynamoDB Local failed to start on port {self._port}; "
                    f"log {self._log_path}:\n{self._log_tail()}"
                )
            listeners = _listening_pids(self._port)
            ours = {pid for pid in listeners if _process_group(pid) == self._proc.pid}
            if listeners and not ours:  # another process took the port first
                raise PortInUseError(
                    f"Port {self._port} was taken by {port_holder(self._port)} while DynamoDB "
                    f"Local was starting; it was stopped."
                )
            try:
                client.list_tables(Limit=1)
            except (BotoCoreError, ClientError):
                pass
            else:
                if ours or not Path("/proc/net/tcp").exists():  # without /proc, trust the check
                    return
            if time.monotonic() >= deadline:
                raise RuntimeError(
                    f"DynamoDB Local did not answer on {self.endpoint_url} within "
                    f"{STARTUP_TIMEOUT_S:.0f}s; log {self._log_path}:\n{self._log_tail()}"
                )
            time.sleep(0.1)

    def _log_tail(self) -> str:
        return _tail(self._log_path) if self._log_path is not None else "<no log>"

    def stop(self) -> None:
        """Terminate the process group (SIGTERM, then SIGKILL after 10 s); safe to call twice."""
        proc, self._proc = self._proc, None
        atexit.unregister(self.stop)
        if proc is None:
            self._release_data_directory()
            return
        if proc.poll() is None:
            # pgid == pid because of start_new_session=True.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        self._release_data_directory()

    def kill(self) -> None:
        """SIGKILL at once (the stack asked to stop at once); the data on disk stays consistent."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

    def _release_data_directory(self) -> None:
        lock, self._data_lock = self._data_lock, None
        if lock is not None:
            lock.close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _raise_keyboard_interrupt(signum: int, frame: FrameType | None) -> None:
    """Treat SIGTERM like Ctrl-C so `kill` of the CLI also stops java cleanly."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None, out: IO[str] = sys.stdout) -> int:
    """CLI: run DynamoDB Local in the foreground until Ctrl-C/SIGTERM."""
    parser = argparse.ArgumentParser(
        prog="python -m infra.local.dynamodb_local", description="Run DynamoDB Local (no Docker)."
    )
    parser.add_argument("--port", type=int, default=None, help="port (default: a free one)")
    parser.add_argument(
        "--db-path", type=Path, default=None, help="persist data here (default: in-memory)"
    )
    args = parser.parse_args(argv)

    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    server = DynamoDBLocal(port=args.port, db_path=args.db_path)
    try:
        started = time.monotonic()
        server.start()
        print(
            f"DynamoDB Local ready at {server.endpoint_url} "
            f"({time.monotonic() - started:.1f}s; log: {server.log_path}). Ctrl-C to stop.",
            file=out,
            flush=True,
        )
        while server.running:
            time.sleep(0.5)
        print("DynamoDB Local exited unexpectedly; see the log.", file=out, flush=True)
        return 1
    except KeyboardInterrupt:
        print("Stopping DynamoDB Local…", file=out, flush=True)
        return 0
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
