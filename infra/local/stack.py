"""`make run`: the whole system on this machine, built from template.yaml.

    python -m infra.local

- DynamoDB Local (data kept in LOCAL_DATA_DIR) for the tables; moto's server for S3, SES,
  SQS, Secrets Manager and the scheduler APIs. Without Java 17+, moto serves DynamoDB too,
  in memory.
- Tables, buckets, queues and secrets are created from the template's own resources.
- Every function runs in processes of its own (one warm, more when it is busy, as Lambda
  scales out) with the environment the template gives it; the distribution (the site's
  assets, and the API's events behind it) is served on LOCAL_API_PORT, schedules fire on their
  template schedules (and once at start-up), and DynamoDB stream records reach
  stream-triggered functions.
- The sample office catalogue is seeded; running it again duplicates nothing.

Settings (environment variables): LOCAL_HOST (127.0.0.1), LOCAL_API_PORT (3000),
LOCAL_DYNAMODB_PORT (8000), LOCAL_MOTO_PORT (5000), LOCAL_DATA_DIR (.local),
LOCAL_TEMPLATE (template.yaml), LOCAL_STACK_NAME (appointments), LOCAL_SEED (1: seed data),
LOCAL_ENV_VARS (infra/data/local-env.json: per-function environment overrides, as `sam local
--env-vars`), LOCAL_PARAMETERS (template parameters, "Name=value Name=value", as
`sam deploy --parameter-overrides`), LOCAL_CONCURRENCY (4: warm processes each function may
scale out to, as Lambda's concurrency; a function's ReservedConcurrentExecutions caps it lower).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from infra import DATA_DIR, REPO_ROOT
from infra.local.distribution import distribution_from
from infra.local.dynamodb_local import (
    DynamoDBLocal,
    InUseError,
    PortInUseError,
    ensure_installed,
    java_available,
    port_holder,
)
from infra.local.gateway import (
    LocalGateway,
    access_log_from,
    api_keys_from,
    cors_from,
    gateway_responses_from,
    routes_from,
)
from infra.local.lambda_runtime import FunctionPool, Invocation, start_process_server
from infra.local.resources import REGION, Endpoints, create_resources, local_client
from infra.local.schedule_runner import ScheduleRunner, scheduled_functions
from infra.local.streams import StreamMapping, StreamPoller
from infra.local.template import (
    FunctionSpec,
    References,
    function_specs,
    load_template,
    resolve,
    resources_of_type,
)

# When the stack stops, a stream batch or a schedule in flight gets this long to finish; what
# is cut off is delivered again at the next start (the checkpoint names what was processed).
STOP_GRACE_SECONDS = 3.0
# Imports note: moto's server, its SES backend (the outbox) and Swagger UI are imported where
# they are used, which keeps them out of the way of `python -m infra.tools.release` and the
# tests that only read this module's settings.


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    api_port: int = 3000
    dynamodb_port: int = 8000
    moto_port: int = 5000
    data_dir: Path = REPO_ROOT / ".local"
    template: Path = REPO_ROOT / "template.yaml"
    stack_name: str = "appointments"
    seed: bool = True
    env_vars: Path = DATA_DIR / "local-env.json"
    # Processes per function at most. Each handles one event at a time, and most of a request
    # is spent waiting for DynamoDB, so a few per function keep two cores busy.
    concurrency: int = 4
    # The template's parameters given other values, as `sam deploy --parameter-overrides`.
    parameters: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_environment(cls) -> Settings:
        environ = os.environ
        return cls(
            host=environ.get("LOCAL_HOST", cls.host),
            api_port=int(environ.get("LOCAL_API_PORT", cls.api_port)),
            dynamodb_port=int(environ.get("LOCAL_DYNAMODB_PORT", cls.dynamodb_port)),
            moto_port=int(environ.get("LOCAL_MOTO_PORT", cls.moto_port)),
            data_dir=Path(environ.get("LOCAL_DATA_DIR", cls.data_dir)).resolve(),
            template=Path(environ.get("LOCAL_TEMPLATE", cls.template)).resolve(),
            stack_name=environ.get("LOCAL_STACK_NAME", cls.stack_name),
            seed=environ.get("LOCAL_SEED", "1") != "0",
            env_vars=Path(environ.get("LOCAL_ENV_VARS", cls.env_vars)).resolve(),
            concurrency=int(environ.get("LOCAL_CONCURRENCY", cls.concurrency)),
            parameters=dict(
                pair.split("=", 1)
                for pair in environ.get("LOCAL_PARAMETERS", "").split()
                if "=" in pair
            ),
        )


def say(message: str) -> None:
    print(f"[local] {message}", flush=True)


@dataclass
class LocalStack:
    settings: Settings
    log: Callable[[str], None] = say
    _stoppers: list[Callable[[], None]] = field(default_factory=list)
    _halts: list[Callable[[], object]] = field(default_factory=list)  # end deliveries, no waiting
    _engines: list[DynamoDBLocal] = field(default_factory=list)
    _stop_deadline: float = 0.0
    functions: dict[str, FunctionPool] = field(default_factory=dict)
    endpoints: Endpoints | None = None

    def start(self) -> None:
        settings = self.settings
        template = load_template(settings.template)
        self._refuse_taken_ports()
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        start_process_server()
        moto_url = f"http://{settings.host}:{settings.moto_port}"
        dynamodb_url = self._start_dynamodb(moto_url)
        self._start_moto()
        self.endpoints = Endpoints(
            dynamodb=dynamodb_url,
            moto=moto_url,
            site=f"http://{settings.host}:{settings.api_port}",
        )
        self.log("Creating tables, buckets, queues and secrets from the template")
        references = create_resources(
            template, self.endpoints, settings.stack_name, settings.data_dir, settings.parameters
        )
        specs = function_specs(template, settings.template.parent)
        environments = {spec.logical_id: self._environment(spec, references) for spec in specs}
        # The sample data is written while the function processes start (both take seconds).
        seeding = self._seed(environments[specs[0].logical_id]) if settings.seed else None
        self._start_functions(specs, environments, references)
        if seeding is not None and seeding.wait() != 0:
            raise RuntimeError(f"seeding the sample data failed (exit code {seeding.returncode})")
        self._start_streams(specs, references)
        self._start_schedules(specs, references)
        self._start_gateway(template, specs, references)

    # ------------------------------------------------------------------------ engines

    def _refuse_taken_ports(self) -> None:
        """Never serve on, or talk to, a port some other process holds (an earlier stack's
        DynamoDB Local, another checkout's stack): say which process it is, and stop."""
        settings = self.settings
        ports = {"API": settings.api_port, "moto": settings.moto_port}  # DynamoDB Local: its own
        for name, port in ports.items():
            holder = port_holder(port)
            if holder is not None:
                raise PortInUseError(
                    f"Port {port} (for {name}) is already in use by {holder}. Stop that "
                    f"process, or choose another port (LOCAL_* settings)."
                )

    def _start_dynamodb(self, moto_url: str) -> str:
        settings = self.settings
        if not java_available():
            self.log(
                "WARNING: Java 17+ not found: DynamoDB is served by moto, IN MEMORY. "
                "Data is lost when the stack stops. Install a JDK 17+ to keep it."
            )
            return moto_url
        ensure_installed(log=self.log)
        data = settings.data_dir / "dynamodb"
        self.log(f"Starting DynamoDB Local on port {settings.dynamodb_port} (data in {data})")
        engine = DynamoDBLocal(port=settings.dynamodb_port, db_path=settings.data_dir / "dynamodb")
        engine.start()
        self._engines.append(engine)
        self._stoppers.append(engine.stop)
        return engine.endpoint_url

    def _start_moto(self) -> None:
        settings = self.settings
        self.log(f"Starting moto (S3, SES, SQS, secrets, scheduler) on port {settings.moto_port}")
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per AWS call
        from moto.server import ThreadedMotoServer  # noqa: PLC0415 - see the module's imports note

        server = ThreadedMotoServer(
            ip_address=settings.host, port=settings.moto_port, verbose=False
        )
        server.start()
        self._stoppers.append(server.stop)

    def _environment(self, spec: FunctionSpec, references: References) -> dict[str, str]:
        """What the function's process sees: Lambda's variables, endpoints, the template's."""
        assert self.endpoints is not None
        name = references.ref(spec.logical_id)
        environment = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/tmp"),  # noqa: S108
            "LANG": "C.UTF-8",
            "TZ": "UTC",
            "PYTHONUNBUFFERED": "1",
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ENDPOINT_URL": self.endpoints.moto,
            "AWS_ENDPOINT_URL_DYNAMODB": self.endpoints.dynamodb,
            "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": self.endpoints.dynamodb,
            "AWS_LAMBDA_FUNCTION_NAME": name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        }
        for key, value in resolve(spec.environment, references).items():
            environment[key] = str(value)
        for key, value in self._overrides().get(spec.logical_id, {}).items():
            if value is None:
                environment.pop(key, None)
            else:
                environment[key] = value
        return environment

    def _overrides(self) -> dict[str, dict[str, str | None]]:
        """Per-function environment overrides (LOCAL_ENV_VARS), as `sam local --env-vars`;
        null removes a variable (one that points into a layer Lambda mounts at /opt)."""
        path = self.settings.env_vars
        if not path.exists():
            return {}
        assert self.endpoints is not None
        endpoints = {
            "site_url": self.endpoints.site,
            "moto_url": self.endpoints.moto,
            "dynamodb_url": self.endpoints.dynamodb,
        }
        overrides = json.loads(path.read_text())
        return {
            function: {
                name: None if value is None else str(value).format(**endpoints)
                for name, value in variables.items()
            }
            for function, variables in overrides.items()
            if not function.startswith("_")
        }

    def _seed(self, environment: dict[str, str]) -> subprocess.Popen[bytes]:
        self.log("Seeding the sample office catalogue and opening slots")
        layer = REPO_ROOT / "layers" / "appointments"
        return subprocess.Popen(
            [sys.executable, "-m", "infra.tools.seed"],
            cwd=REPO_ROOT,
            env={**environment, "PYTHONPATH": f"{layer}:{REPO_ROOT}"},
        )

    def _start_functions(
        self,
        specs: list[FunctionSpec],
        environments: dict[str, dict[str, str]],
        references: References,
    ) -> None:
        self.log(
            f"Starting {len(specs)} functions, one process each, more on demand "
            f"(up to {self.settings.concurrency} each)"
        )
        for spec in specs:
            reserved = resolve(spec.reserved_concurrency, references)
            self.functions[spec.logical_id] = FunctionPool(
                spec,
                environments[spec.logical_id],
                references.ref(spec.logical_id),
                concurrency=self.settings.concurrency
                if reserved is None
                else min(self.settings.concurrency, int(reserved)),
                log=self.log,
            )
        self._stoppers.append(self._stop_functions)
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(lambda function: function.start(), self.functions.values()))

    def _stop_functions(self) -> None:
        """All at once: each process ends when its event in flight is done, or after 1 s."""
        functions = list(self.functions.values())
        if functions:
            with ThreadPoolExecutor(max_workers=len(functions)) as pool:
                list(pool.map(lambda function: function.stop(grace_seconds=1), functions))

    def _start_streams(self, specs: list[FunctionSpec], references: References) -> None:
        """Deliver table stream records to stream-triggered functions, as an event source
        mapping does with the event's properties (see infra/local/streams.py)."""
        assert self.endpoints is not None
        client = local_client("dynamodbstreams", self.endpoints.dynamodb)
        for spec in specs:
            for event_name, event in spec.events.items():
                if event.get("Type") != "DynamoDB":
                    continue
                mapping = StreamMapping.from_properties(resolve(event["Properties"], references))
                poller = StreamPoller(
                    mapping,
                    streams_client=client,
                    deliver=self._deliverer(spec.logical_id),
                    function_arn=references.get_att(spec.logical_id, "Arn"),
                    on_failure=self._queue_sender(mapping.on_failure_destination),
                    log=self.log,
                    checkpoint_path=self.settings.data_dir
                    / "streams"
                    / f"{spec.logical_id}-{event_name}.json",
                )
                self.log(f"Delivering {mapping.stream_arn} to {spec.logical_id}")
                poller.start()
                self._halts.append(functools.partial(poller.stop, timeout=0))
                self._stoppers.append(functools.partial(self._stop_poller, poller, spec.logical_id))

    def _queue_sender(self, queue_arn: str | None) -> Callable[[dict[str, Any]], None] | None:
        """Sends a message (as JSON) to the local SQS queue of that ARN."""
        if queue_arn is None:
            return None
        assert self.endpoints is not None
        sqs = local_client("sqs", self.endpoints.moto)
        url = sqs.get_queue_url(QueueName=queue_arn.rsplit(":", 1)[-1])["QueueUrl"]
        return lambda message: sqs.send_message(QueueUrl=url, MessageBody=json.dumps(message))

    def _stop_poller(self, poller: StreamPoller, function: str) -> None:
        if not poller.stop(timeout=self._grace_left()):
            self.log(
                f"{function}: the batch in flight is cut off; it comes again at the next start"
            )

    def _grace_left(self) -> float:
        return max(0.0, self._stop_deadline - time.monotonic())

    def _deliverer(self, logical_id: str) -> Callable[[dict[str, Any]], dict[str, Any] | None]:
        def deliver(event: dict[str, Any]) -> dict[str, Any] | None:
            invocation = self.invoke(logical_id, event)
            if not invocation.ok:
                raise RuntimeError(f"{logical_id} failed: {invocation.payload.get('errorType')}")
            result = invocation.payload
            return result if isinstance(result, dict) else None

        return deliver

    def _start_schedules(self, specs: list[FunctionSpec], references: References) -> None:
        scheduled = scheduled_functions(specs, references)
        if not scheduled:
            return
        self.log(f"Firing {len(scheduled)} schedule(s) now, then on their template schedules")
        runner = ScheduleRunner(scheduled, self.invoke, log=self.log)
        runner.start()
        self._halts.append(lambda: runner.stop(timeout=0))
        self._stoppers.append(lambda: runner.stop(timeout=self._grace_left()))

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Invocation:
        invocation = self.functions[logical_id].invoke(event)
        if not invocation.ok:
            self.log(f"{logical_id} failed: {invocation.payload.get('errorType')}")
        return invocation

    def _start_gateway(
        self, template: dict[str, Any], specs: list[FunctionSpec], references: References
    ) -> None:
        settings = self.settings
        apis = resources_of_type(template, "AWS::Serverless::Api")
        api_properties = (
            resolve(next(iter(apis.values()))["Properties"], references) if apis else {}
        )
        from infra.local.outbox import outbox_json, outbox_page  # noqa: PLC0415 - see above

        distribution = distribution_from(template, references)
        compression = api_properties.get("MinimumCompressionSize")
        gateway = LocalGateway(
            routes_from(specs),
            self.invoke,
            stage=str(api_properties.get("StageName", "local")),
            cors=cors_from(api_properties),
            responses=gateway_responses_from(api_properties),
            minimum_compression_size=None if compression is None else int(compression),
            front=None if distribution is None else distribution.answer,
            api_keys=api_keys_from(template, references, next(iter(apis))) if apis else None,
            access_log=access_log_from(api_properties, settings.data_dir / "logs"),
            local_pages={
                "/_local/health": lambda method, query: (
                    200,
                    "application/json",
                    b'{"status": "ok"}',
                ),
                "/_local/outbox": outbox_page,
                "/_local/outbox.json": outbox_json,
                "/_local/openapi.json": openapi_document,
                "/_local/docs": swagger_page,
            },
            log=self.log,
        )
        server = gateway.server(settings.host, settings.api_port)
        thread = threading.Thread(target=server.serve_forever, name="gateway", daemon=True)
        thread.start()

        def stop_server() -> None:
            server.shutdown()
            server.server_close()

        self._stoppers.append(stop_server)
        base = f"http://{settings.host}:{settings.api_port}"
        for route in gateway.routes:
            self.log(f"  {route.method:6} {base}{route.path} -> {route.function}")
        if distribution is not None:
            self.log(f"  the distribution in front: {distribution.summary()}")
        self.log(f"Ready: API {base}  outbox {base}/_local/outbox  docs {base}/_local/docs")

    def stop(self) -> None:
        """Stop within a few seconds whatever is in flight: deliveries and schedules end first
        (what they were doing gets STOP_GRACE_SECONDS), then the functions and the engines."""
        self._stop_deadline = time.monotonic() + STOP_GRACE_SECONDS
        for halt in self._halts:
            halt()
        while self._stoppers:
            stopper = self._stoppers.pop()
            try:
                stopper()
            except Exception as error:  # keep stopping the rest
                self.log(f"while stopping: {type(error).__name__}: {error}")

    def kill(self) -> None:
        """Stop at once: kill every process the stack started, finish nothing."""
        for function in self.functions.values():
            function.kill()
        for engine in self._engines:
            engine.kill()


def openapi_document(method: str, query: dict[str, list[str]]) -> tuple[int, str, bytes]:
    return 200, "application/json", (REPO_ROOT / "openapi.json").read_bytes()


def swagger_page(method: str, query: dict[str, list[str]]) -> tuple[int, str, bytes]:
    """Swagger UI with the assets Powertools ships inlined: the page needs no internet."""
    from aws_lambda_powertools.event_handler.openapi.swagger_ui.html import (  # noqa: PLC0415
        generate_swagger_html,
    )

    assets = Path(generate_swagger_html.__code__.co_filename).parent
    spec = json.loads((REPO_ROOT / "openapi.json").read_text())
    spec["servers"] = [{"url": "/"}]
    page = generate_swagger_html(
        json.dumps(spec),
        (assets / "swagger-ui-bundle.min.js").read_text(),
        (assets / "swagger-ui.min.css").read_text(),
        swagger_base_url="",
        oauth2_config=None,
    )
    return 200, "text/html; charset=utf-8", page.encode()


def main() -> int:
    stack = LocalStack(Settings.from_environment())
    stop = threading.Event()
    started = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():  # the second Ctrl-C: no more waiting
            say("Stopping at once.")
            stack.kill()
            os._exit(128 + signum)
        stop.set()
        if not started.is_set():
            raise KeyboardInterrupt  # cut the start short; `finally` stops what had started

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    began = time.monotonic()
    try:
        stack.start()
        started.set()
        say(f"Started in {time.monotonic() - began:.1f}s. Ctrl-C to stop.")
        while not stop.wait(0.5):
            pass
        return 0
    except InUseError as refused:
        say(f"ERROR: {refused}")
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        if started.is_set() or stop.is_set():
            say("Stopping… (Ctrl-C again to stop at once)")
        stopping = time.monotonic()
        stack.stop()
        say(f"Stopped in {time.monotonic() - stopping:.1f}s.")


if __name__ == "__main__":
    sys.exit(main())
