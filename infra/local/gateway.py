"""API Gateway on this machine: the routes are the `Api` events of the template's functions.

Each HTTP request becomes the REST API (v1) proxy event API Gateway would send, goes to the
function the template routes it to, and that function's proxy result becomes the HTTP answer.
Nothing here knows the product's routes: a route added to template.yaml is served as it is.
Its own answers (unknown route or method, a malformed request, a failed function) are the Api's
`GatewayResponses`, as API Gateway gives them; with the Api's `MinimumCompressionSize`, it
compresses the functions' answers as API Gateway does. When the template has a distribution in
front of the Api, every request reaches the gateway through it (`front`, distribution.py).
With the Api's `Auth: ApiKeyRequired`, a request without a key of a usage plan of the Api's
stage (an enabled `AWS::ApiGateway::ApiKey`, in `x-api-key`) gets INVALID_API_KEY's 403.
With the Api's `AccessLogSetting`, each request that reaches the stage gets a line in its
`Format` (the `$context` fields, "-" for those the local gateway has no value for) in a file
of the stack's data directory.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import threading
import time
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from infra.local.lambda_runtime import Invocation
from infra.local.template import FunctionSpec, References, resolve, resources_of_type

Invoke = Callable[[str, dict[str, Any]], Invocation]
LocalPage = Callable[[str, dict[str, list[str]]], tuple[int, str, bytes]]
_PARAMETER = re.compile(r"\{([^}]+)\}")
# Connections the kernel keeps waiting for accept(). socketserver's default of 5 made a burst
# of clients overflow the queue, and the kernel reset their connections (SYN cookies).
LISTEN_BACKLOG = 1024
# API Gateway refuses payloads over 10 MB.
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Route:
    method: str  # upper case, or "ANY"
    path: str  # as in the template, e.g. /appointments/{confirmationNumber}
    function: str  # logical id
    pattern: re.Pattern[str]

    @property
    def specificity(self) -> tuple[int, int]:
        """API Gateway prefers literal segments over parameters, and parameters over greedy."""
        segments = self.path.strip("/").split("/")
        greedy = sum(segment.endswith("+}") for segment in segments)
        parameters = sum(segment.startswith("{") for segment in segments)
        return greedy, parameters - len(segments)


def _compile(path: str) -> re.Pattern[str]:
    parts = []
    for segment in path.strip("/").split("/"):
        match = _PARAMETER.fullmatch(segment)
        if match is None:
            parts.append(re.escape(segment))
        elif match.group(1).endswith("+"):
            parts.append(f"(?P<{_group(match.group(1)[:-1])}>.+)")
        else:
            parts.append(f"(?P<{_group(match.group(1))}>[^/]+)")
    return re.compile("^/" + "/".join(parts) + "$")


def _group(name: str) -> str:
    return "p_" + re.sub(r"\W", "_", name)


def routes_from(specs: list[FunctionSpec]) -> list[Route]:
    routes = [
        Route(
            method=str(event["Properties"]["Method"]).upper(),
            path=str(event["Properties"]["Path"]),
            function=spec.logical_id,
            pattern=_compile(str(event["Properties"]["Path"])),
        )
        for spec in specs
        for event in spec.events.values()
        if event.get("Type") == "Api"
    ]
    return sorted(routes, key=lambda route: route.specificity)


@dataclass(frozen=True)
class IncomingRequest:
    method: str
    raw_path: str  # path and query string, as sent
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str


@dataclass(frozen=True)
class Cors:
    allow_origin: str
    allow_headers: str
    allow_methods: str
    max_age: str | None = None


@dataclass(frozen=True)
class GatewayAnswer:
    status: int
    headers: dict[str, str]
    body: bytes
    # Each cookie on a Set-Cookie line of its own: joined with commas, as other headers with
    # several values are, a browser would read only the first.
    cookies: tuple[str, ...] = ()
    response_type: str | None = None  # the gateway response's type, when the gateway answered

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)


Origin = Callable[[BaseHTTPRequestHandler], GatewayAnswer]
# What stands in front of the gateway (the distribution): it answers a request itself, or asks
# the gateway (the origin) and passes its answer on.
Front = Callable[[BaseHTTPRequestHandler, Origin], GatewayAnswer]


def accepted_codings(accept_encoding: str | None) -> set[str]:
    """The content codings an Accept-Encoding header accepts (not those with q=0)."""
    accepted = set()
    for item in (accept_encoding or "").split(","):
        coding, *parameters = (part.strip() for part in item.split(";"))
        if coding and not any(re.fullmatch(r"q=0(\.0*)?", p) for p in parameters):
            accepted.add(coding.lower())
    return accepted


def discard_body(request: BaseHTTPRequestHandler) -> None:
    """Answered without reading the body: the connection cannot carry another request."""
    if request.headers.get("Content-Length", "0").strip() != "0":
        request.close_connection = True


# API Gateway's status codes of the response types this gateway gives (when the template sets none).
_DEFAULT_STATUS = {
    "MISSING_AUTHENTICATION_TOKEN": HTTPStatus.FORBIDDEN,
    "INVALID_API_KEY": HTTPStatus.FORBIDDEN,
    "REQUEST_TOO_LARGE": HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    "INTEGRATION_TIMEOUT": HTTPStatus.GATEWAY_TIMEOUT,
    "INTEGRATION_FAILURE": HTTPStatus.GATEWAY_TIMEOUT,
}
# API Gateway's own bodies, when neither the type nor its DEFAULT_4XX/5XX has a template.
_DEFAULT_MESSAGES = {
    "MISSING_AUTHENTICATION_TOKEN": "Missing Authentication Token",
    "INVALID_API_KEY": "Forbidden",
}
API_KEY_HEADER = "x-api-key"


@dataclass(frozen=True)
class GatewayResponses:
    """The Api's `GatewayResponses`: what API Gateway answers when it answers itself.

    A type the template does not set takes DEFAULT_4XX's or DEFAULT_5XX's template and headers
    (by its status) and keeps its own status code, as on API Gateway.
    """

    configured: dict[str, dict[str, Any]]

    def answer(self, response_type: str, status: int | None = None) -> GatewayAnswer:
        own = self.configured.get(response_type, {})
        code = int(
            own.get("StatusCode")
            or status
            or _DEFAULT_STATUS.get(response_type, HTTPStatus.BAD_REQUEST)
        )
        fallback = self.configured.get("DEFAULT_4XX" if code < 500 else "DEFAULT_5XX", {})
        templates = own.get("ResponseTemplates") or fallback.get("ResponseTemplates") or {}
        body = templates.get("application/json")
        if body is None:
            message = _DEFAULT_MESSAGES.get(response_type) or HTTPStatus(code).phrase
            body = json.dumps({"message": message})
        parameters = own.get("ResponseParameters") or fallback.get("ResponseParameters") or {}
        headers = {"Content-Type": "application/json"}
        for name, value in (parameters.get("Headers") or {}).items():
            headers[str(name)] = str(value).strip("'")  # SAM's values are quoted strings
        return GatewayAnswer(code, headers, str(body).encode(), response_type=response_type)


_CONTEXT_FIELD = re.compile(r"\$context\.([A-Za-z]+(?:\.[A-Za-z]+)*)")


class AccessLog:
    """The stage's access log: a line per request in the Api's `AccessLogSetting.Format`."""

    def __init__(self, line_format: str, path: Path) -> None:
        self.line_format = line_format
        self.path = path
        self._lock = threading.Lock()

    def write(self, context: dict[str, object]) -> None:
        line = _CONTEXT_FIELD.sub(
            lambda field: str(context.get(field.group(1), "-")), self.line_format
        )
        with self._lock, self.path.open("a", encoding="utf-8") as log:
            log.write(line + "\n")


def access_log_from(api_properties: dict[str, Any], directory: Path) -> AccessLog | None:
    setting = api_properties.get("AccessLogSetting")
    if not setting:
        return None
    directory.mkdir(parents=True, exist_ok=True)
    return AccessLog(str(setting["Format"]), directory / "api-access.log")


def gateway_responses_from(api_properties: dict[str, Any]) -> GatewayResponses:
    return GatewayResponses(dict(api_properties.get("GatewayResponses") or {}))


def api_keys_from(
    template: dict[str, Any], references: References, api: str
) -> frozenset[str] | None:
    """The keys the Api's methods take, when its `Auth` requires one (None: no key needed):
    the enabled API keys a usage plan of its stage holds."""
    auth = resolve(template["Resources"][api]["Properties"].get("Auth") or {}, references)
    if not auth.get("ApiKeyRequired"):
        return None
    api_id, stage = references.ref(api), references.ref(f"{api}.Stage")
    plans = {
        references.ref(logical_id)
        for logical_id, plan in resources_of_type(template, "AWS::ApiGateway::UsagePlan").items()
        if {"ApiId": api_id, "Stage": stage}
        in resolve(plan["Properties"].get("ApiStages", []), references)
    }
    keys = {
        references.ref(logical_id): resolve(key["Properties"], references)
        for logical_id, key in resources_of_type(template, "AWS::ApiGateway::ApiKey").items()
    }
    return frozenset(
        str(keys[attached["KeyId"]]["Value"])
        for attached in (
            resolve(resource["Properties"], references)
            for resource in resources_of_type(template, "AWS::ApiGateway::UsagePlanKey").values()
        )
        if attached["UsagePlanId"] in plans
        and attached["KeyId"] in keys
        and keys[attached["KeyId"]].get("Enabled")
        and "Value" in keys[attached["KeyId"]]
    )


class _BadRequest(Exception):
    def __init__(self, response_type: str, status: int) -> None:
        super().__init__(response_type)
        self.response_type = response_type
        self.status = status


class LocalGateway:
    def __init__(
        self,
        routes: list[Route],
        invoke: Invoke,
        *,
        stage: str = "local",
        cors: Cors | None = None,
        local_pages: dict[str, LocalPage] | None = None,
        responses: GatewayResponses | None = None,
        minimum_compression_size: int | None = None,
        front: Front | None = None,
        api_keys: frozenset[str] | None = None,
        access_log: AccessLog | None = None,
        log: Callable[[str], None] = print,
    ) -> None:
        self.routes = routes
        self.invoke = invoke
        self.stage = stage
        self.cors = cors
        self.local_pages = local_pages or {}
        self.responses = responses or GatewayResponses({})
        self.minimum_compression_size = minimum_compression_size
        self.front = front
        self.api_keys = api_keys
        self.access_log = access_log
        self.log = log

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            found = route.pattern.match(path)
            if found and route.method in (method, "ANY"):
                names = _PARAMETER.findall(route.path)
                values = [unquote(value) for value in found.groups()]
                return route, {
                    name.rstrip("+"): value for name, value in zip(names, values, strict=True)
                }
        return None

    def path_exists(self, path: str) -> bool:
        return any(route.pattern.match(path) for route in self.routes)

    def event(
        self, request: IncomingRequest, route: Route, path_parameters: dict[str, str]
    ) -> dict[str, Any]:
        """The API Gateway REST API proxy event for this request."""
        method, headers, body, source_ip = (
            request.method,
            request.headers,
            request.body,
            request.source_ip,
        )
        split = urlsplit(request.raw_path)
        query = parse_qs(split.query, keep_blank_values=True)
        multi_headers: dict[str, list[str]] = {}
        for name, value in headers:
            multi_headers.setdefault(name, []).append(value)
        try:
            text: str | None = body.decode() if body else None
            encoded = False
        except UnicodeDecodeError:
            text, encoded = base64.b64encode(body).decode(), True
        now = time.time()
        return {
            "resource": route.path,
            "path": unquote(split.path),
            "httpMethod": method,
            "headers": {name: values[-1] for name, values in multi_headers.items()} or None,
            "multiValueHeaders": multi_headers or None,
            "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
            "multiValueQueryStringParameters": query or None,
            "pathParameters": path_parameters or None,
            "stageVariables": None,
            "requestContext": {
                "resourcePath": route.path,
                "httpMethod": method,
                "path": f"/{self.stage}{unquote(split.path)}",
                "stage": self.stage,
                "requestId": str(uuid.uuid4()),
                "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
                "requestTimeEpoch": int(now * 1000),
                "accountId": "123456789012",
                "apiId": "local",
                "protocol": "HTTP/1.1",
                "identity": {"sourceIp": source_ip, "userAgent": dict(headers).get("User-Agent")},
            },
            "body": text,
            "isBase64Encoded": encoded,
        }

    def server(self, host: str, port: int) -> ThreadingHTTPServer:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "LocalApiGateway"

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the gateway logs one line per request itself, without query strings

            def __getattr__(self, name: str) -> Any:
                # Every method reaches the gateway, which answers the ones no route has as API
                # Gateway does; without this, http.server answers them with an HTML 501 page.
                if name.startswith("do_"):
                    return self._handle
                raise AttributeError(name)

            def _handle(self) -> None:
                started = time.monotonic()
                try:
                    answer = gateway.serve(self)
                except Exception as error:  # an answer in the contract, never a dropped connection
                    gateway.log(f"gateway error: {type(error).__name__}")
                    self.close_connection = True
                    answer = gateway.responses.answer("DEFAULT_5XX", 502)
                status = _write(self, answer)
                path = urlsplit(self.path).path
                elapsed = (time.monotonic() - started) * 1000
                gateway.log(f"{self.command} {path} -> {status} ({elapsed:.0f} ms)")

            def send_error(
                self, code: int, message: str | None = None, explain: str | None = None
            ) -> None:
                """http.server's own refusals (malformed request line, headers too long)."""
                self.close_connection = True
                if self.request_version == "HTTP/0.9":  # nothing parsed: answer as HTTP/1.1
                    self.request_version = self.protocol_version
                kind = "DEFAULT_4XX" if code < 500 else "DEFAULT_5XX"
                _write(self, gateway.responses.answer(kind, code))

        server = _Server((host, port), Handler)
        server.daemon_threads = True
        return server

    def serve(self, request: BaseHTTPRequestHandler) -> GatewayAnswer:
        """The local pages (not the template's), or the API through the front, if any."""
        split = urlsplit(request.path)
        page = self.local_pages.get(split.path)
        if page is not None:
            discard_body(request)
            status, content_type, payload = page(request.command, parse_qs(split.query))
            return GatewayAnswer(status, {"Content-Type": content_type}, payload)
        return self.answer(request) if self.front is None else self.front(request, self.answer)

    def answer(self, request: BaseHTTPRequestHandler) -> GatewayAnswer:
        """What API Gateway answers to this request, written to the access log."""
        received = time.time()
        context: dict[str, object] = {
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(received * 1000),
            "httpMethod": request.command,
            "protocol": request.request_version,
        }
        answered = self._answer(request, context)
        if self.access_log is not None:
            context |= {
                "status": answered.status,
                "responseLatency": round((time.time() - received) * 1000),
                "responseLength": len(answered.body),
                "error.responseType": answered.response_type or "-",
            }
            self.access_log.write(context)
        return answered

    def _answer(self, request: BaseHTTPRequestHandler, context: dict[str, object]) -> GatewayAnswer:
        try:
            body = _read_body(request)
        except _BadRequest as refused:
            request.close_connection = True  # the body, if any, was not read
            return self.responses.answer(refused.response_type, refused.status)
        path = urlsplit(request.path).path
        method = request.command
        if method == "OPTIONS" and self.cors is not None and self.path_exists(path):
            if not self._key_accepted(request):  # SAM requires the key of preflights too
                return self.responses.answer("INVALID_API_KEY")
            return GatewayAnswer(HTTPStatus.NO_CONTENT, self._cors_headers(preflight=True), b"")
        matched = self.match(method, path)
        if matched is None:  # an unknown route, or a method the route does not have
            return self.responses.answer("MISSING_AUTHENTICATION_TOKEN")
        if not self._key_accepted(request):
            return self.responses.answer("INVALID_API_KEY")
        route, parameters = matched
        context["resourcePath"] = route.path
        incoming = IncomingRequest(
            method, request.path, list(request.headers.items()), body, request.client_address[0]
        )
        event = self.event(incoming, route, parameters)
        context["requestId"] = event["requestContext"]["requestId"]
        invoked = time.monotonic()
        invocation = self.invoke(route.function, event)
        context["integrationLatency"] = round((time.monotonic() - invoked) * 1000)
        answer = self._proxy_result(invocation)
        context["integrationStatus"] = answer.status if answer.response_type is None else "-"
        return self._compressed(request.headers.get("Accept-Encoding"), answer)

    def _key_accepted(self, request: BaseHTTPRequestHandler) -> bool:
        return self.api_keys is None or request.headers.get(API_KEY_HEADER) in self.api_keys

    def _proxy_result(self, invocation: Invocation) -> GatewayAnswer:
        result = invocation.payload
        if not invocation.ok or not isinstance(result, dict) or "statusCode" not in result:
            if isinstance(result, dict) and result.get("errorType") == "TimeoutError":
                return self.responses.answer("INTEGRATION_TIMEOUT")
            # A function error or a malformed proxy result: API Gateway's 502.
            return self.responses.answer("DEFAULT_5XX", HTTPStatus.BAD_GATEWAY)
        headers: dict[str, str] = {}
        cookies: list[str] = []
        for name, value in (result.get("headers") or {}).items():
            if str(name).lower() == "set-cookie":
                cookies.append(str(value))
            else:
                headers[str(name)] = str(value)
        for name, values in (result.get("multiValueHeaders") or {}).items():
            if str(name).lower() == "set-cookie":
                cookies = [str(value) for value in values]
            else:
                headers[str(name)] = ", ".join(str(value) for value in values)
        raw = result.get("body") or ""
        payload = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
        return GatewayAnswer(int(result["statusCode"]), headers, payload, tuple(cookies))

    def _compressed(self, accept_encoding: str | None, answer: GatewayAnswer) -> GatewayAnswer:
        """API Gateway compresses an integration's answer of MinimumCompressionSize bytes or
        more, not encoded already, for a client that accepts gzip or deflate."""
        if (
            self.minimum_compression_size is None
            or len(answer.body) < self.minimum_compression_size
            or answer.header("Content-Encoding") is not None
        ):
            return answer
        accepted = accepted_codings(accept_encoding)
        if "gzip" in accepted:
            coding, body = "gzip", gzip.compress(answer.body, mtime=0)
        elif "deflate" in accepted:
            coding, body = "deflate", zlib.compress(answer.body)
        else:
            return answer
        return replace(answer, headers=answer.headers | {"Content-Encoding": coding}, body=body)

    def _cors_headers(self, *, preflight: bool) -> dict[str, str]:
        if self.cors is None:
            return {}
        headers = {"Access-Control-Allow-Origin": self.cors.allow_origin}
        if preflight:
            headers["Access-Control-Allow-Headers"] = self.cors.allow_headers
            headers["Access-Control-Allow-Methods"] = self.cors.allow_methods
            if self.cors.max_age:
                headers["Access-Control-Max-Age"] = self.cors.max_age
        return headers


class _Server(ThreadingHTTPServer):
    request_queue_size = LISTEN_BACKLOG


def _read_body(request: BaseHTTPRequestHandler) -> bytes:
    raw = request.headers.get("Content-Length")
    if raw is None:
        return b""
    if not raw.strip().isdigit():
        raise _BadRequest("DEFAULT_4XX", HTTPStatus.BAD_REQUEST)
    length = int(raw)
    if length > MAX_PAYLOAD_BYTES:
        raise _BadRequest("REQUEST_TOO_LARGE", HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
    return request.rfile.read(length) if length else b""


def _write(request: BaseHTTPRequestHandler, answer: GatewayAnswer) -> int:
    request.send_response(answer.status)
    for name, value in answer.headers.items():
        if name.lower() not in ("content-length", "connection", "transfer-encoding"):
            request.send_header(name, value)
    for cookie in answer.cookies:
        request.send_header("Set-Cookie", cookie)
    request.send_header("Content-Length", str(len(answer.body)))
    if request.close_connection:
        request.send_header("Connection", "close")
    request.end_headers()
    if request.command != "HEAD":
        request.wfile.write(answer.body)
    return answer.status


def cors_from(api_properties: dict[str, Any]) -> Cors | None:
    """The Api resource's Cors setting; SAM's values are quoted strings ("'*'")."""
    cors = api_properties.get("Cors")
    if cors is None:
        return None
    if isinstance(cors, str):
        return Cors(allow_origin=cors.strip("'"), allow_headers="*", allow_methods="*")

    def unquote_value(key: str, default: str) -> str:
        return str(cors.get(key, default)).strip("'")

    return Cors(
        allow_origin=unquote_value("AllowOrigin", "*"),
        allow_headers=unquote_value("AllowHeaders", "*"),
        allow_methods=unquote_value("AllowMethods", "*"),
        max_age=unquote_value("MaxAge", "") or None,
    )
