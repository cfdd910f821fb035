"""The local API Gateway: routes from the template, proxy events, CORS and answers."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from infra.local.gateway import (
    AccessLog,
    GatewayResponses,
    LocalGateway,
    access_log_from,
    cors_from,
    gateway_responses_from,
    routes_from,
)
from infra.local.lambda_runtime import Invocation
from infra.local.template import function_specs, load_template
from tests.helpers import REPO_ROOT


@pytest.fixture(scope="module")
def gateway_routes() -> Any:
    return routes_from(function_specs(load_template(), REPO_ROOT))


def test_every_api_event_of_the_template_is_a_route(gateway_routes: Any) -> None:
    served = {(route.method, route.path, route.function) for route in gateway_routes}
    assert ("POST", "/appointments", "BookAppointmentFunction") in served
    assert ("GET", "/appointments/{confirmationNumber}", "GetAppointmentFunction") in served
    api_events = [
        event
        for spec in function_specs(load_template(), REPO_ROOT)
        for event in spec.events.values()
        if event.get("Type") == "Api"
    ]
    assert len(served) == len(api_events)


def test_literal_segments_win_over_parameters(gateway_routes: Any) -> None:
    gateway = LocalGateway(gateway_routes, invoke=lambda *_: Invocation(True, {}, 0))
    matched = gateway.match("POST", "/appointments/lookup")
    assert matched is not None
    assert matched[0].function == "LookupAppointmentFunction"


def test_path_parameters_are_decoded(gateway_routes: Any) -> None:
    gateway = LocalGateway(gateway_routes, invoke=lambda *_: Invocation(True, {}, 0))
    matched = gateway.match("GET", "/offices/new%2Dyork/slots")
    assert matched is not None
    assert matched[1] == {"officeId": "new-york"}


class Recorder:
    def __init__(self, result: Any, ok: bool = True) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.result = result
        self.ok = ok

    def __call__(self, function: str, event: dict[str, Any]) -> Invocation:
        self.events.append((function, event))
        return Invocation(self.ok, self.result, 1.0)


def serve(gateway: LocalGateway) -> tuple[str, Any]:
    server = gateway.server("127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}", server


def test_request_becomes_a_rest_proxy_event_and_the_result_an_answer(
    gateway_routes: Any,
) -> None:
    # Given a gateway whose function answers 201 with a header
    recorder = Recorder(
        {"statusCode": 201, "headers": {"Location": "/x"}, "body": json.dumps({"ok": True})}
    )
    url, server = serve(LocalGateway(gateway_routes, recorder, stage="prod"))
    try:
        # When a client posts JSON with a query string and a header
        response = httpx.post(
            f"{url}/appointments?trace=1",
            json={"a": 1},
            headers={"Idempotency-Key": "key-123456"},
        )
    finally:
        server.shutdown()
    # Then the function got API Gateway's event, and its result is the answer
    function, event = recorder.events[0]
    assert function == "BookAppointmentFunction"
    assert event["httpMethod"] == "POST"
    assert event["resource"] == "/appointments"
    assert event["path"] == "/appointments"
    assert event["requestContext"]["stage"] == "prod"
    assert event["queryStringParameters"] == {"trace": "1"}
    assert event["headers"]["Idempotency-Key"] == "key-123456"
    assert json.loads(event["body"]) == {"a": 1}
    assert response.status_code == 201
    assert response.headers["Location"] == "/x"
    assert response.json() == {"ok": True}


def test_a_failing_function_is_a_502_in_the_error_contract(gateway_routes: Any) -> None:
    failing = Recorder({"errorType": "X"}, ok=False)
    url, server = serve(LocalGateway(gateway_routes, failing, responses=template_responses()))
    try:
        response = httpx.get(f"{url}/offices", params={"zip": "10001"})
    finally:
        server.shutdown()
    assert response.status_code == 502
    assert response.json()["error"] == "internal_error"


def test_preflight_answers_with_the_template_cors_settings(gateway_routes: Any) -> None:
    cors = cors_from(
        load_template()["Resources"]["Api"]["Properties"]
        | {
            "Cors": {
                "AllowOrigin": "'*'",
                "AllowHeaders": "'Content-Type,X-Appointment-Pin'",
                "AllowMethods": "'GET,POST'",
            }
        }
    )
    url, server = serve(LocalGateway(gateway_routes, Recorder({}), cors=cors))
    try:
        response = httpx.options(f"{url}/appointments/ABC")
    finally:
        server.shutdown()
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "X-Appointment-Pin" in response.headers["Access-Control-Allow-Headers"]


def test_function_specs_apply_globals() -> None:
    specs = {spec.logical_id: spec for spec in function_specs(load_template(), REPO_ROOT)}
    book = specs["BookAppointmentFunction"]
    assert book.handler == "app.lambda_handler"
    assert book.runtime == "python3.12"
    assert book.code_dir == REPO_ROOT / "functions" / "book_appointment"
    assert book.layer_dirs == (REPO_ROOT / "layers" / "appointments",)
    assert book.environment["APPOINTMENTS_TABLE"] == {"Ref": "AppointmentsTable"}


def template_responses() -> GatewayResponses:
    return gateway_responses_from(load_template()["Resources"]["Api"]["Properties"])


def raw_exchange(url: str, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are (httpx refuses malformed requests) and read one answer."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(request)
        received = b""
        while chunk := connection.recv(65536):  # the gateway closes after a refusal
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    status = int(lines[0].split()[1]) if lines[0].startswith("HTTP/") else 0
    return status, headers, body


@pytest.mark.parametrize(
    ("method", "path"),
    [("TRACE", "/appointments"), ("PATCH", "/appointments/ABC"), ("POST", "/no/such/thing")],
)
def test_an_unknown_method_or_route_gets_the_templates_json_answer(
    gateway_routes: Any, method: str, path: str
) -> None:
    # Given the gateway with the template's gateway responses
    recorder = Recorder({"statusCode": 200, "body": "{}"})
    url, server = serve(LocalGateway(gateway_routes, recorder, responses=template_responses()))
    try:
        # When a client uses a method or a path no route has
        response = httpx.request(method, f"{url}{path}")
    finally:
        server.shutdown()
    # Then the answer is MISSING_AUTHENTICATION_TOKEN's, in the error contract, and no function ran
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"error": "not_found", "message": "There is no such resource."}
    assert recorder.events == []


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"NONSENSE\r\n\r\n",
        b"GET /offices HTTP/1.1\r\nHost: x\r\n" + b"X-Long: " + b"a" * 70000 + b"\r\n\r\n",
        b"POST /appointments HTTP/1.1\r\nHost: x\r\nContent-Length: many\r\n\r\n",
    ],
    ids=["garbled request line", "header too long", "bad content length"],
)
def test_a_malformed_request_gets_a_json_4xx(gateway_routes: Any, request_bytes: bytes) -> None:
    # Given the gateway with the template's gateway responses
    recorder = Recorder({"statusCode": 200, "body": "{}"})
    url, server = serve(LocalGateway(gateway_routes, recorder, responses=template_responses()))
    try:
        # When a client sends a request HTTP cannot parse
        status, headers, body = raw_exchange(url, request_bytes)
    finally:
        server.shutdown()
    # Then the answer is DEFAULT_4XX's JSON, not http.server's HTML page
    assert 400 <= status < 500
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body)["error"] == "bad_request"
    assert recorder.events == []


def test_a_throttled_answer_carries_the_templates_headers() -> None:
    answer = template_responses().answer("THROTTLED")
    assert answer.status == 429
    assert answer.headers["Retry-After"] == "1"
    assert json.loads(answer.body)["error"] == "throttled"


def test_a_burst_of_connections_waits_for_the_gateway_instead_of_being_dropped(
    gateway_routes: Any,
) -> None:
    # Given a gateway that is not accepting connections yet (busy, as under load)
    recorder = Recorder({"statusCode": 200, "body": '{"ok": true}'})
    server = LocalGateway(gateway_routes, recorder, responses=template_responses()).server(
        "127.0.0.1", 0
    )
    port = server.server_address[1]
    request = b"GET /offices?zip=10001 HTTP/1.1\r\nHost: local\r\nConnection: close\r\n\r\n"
    outcomes: list[str] = []

    def client() -> None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
                connection.sendall(request)
                answer = b""
                while chunk := connection.recv(65536):
                    answer += chunk
            outcomes.append(answer.split(b" ", 2)[1].decode() if answer else "closed")
        except OSError as error:
            outcomes.append(type(error).__name__)

    # When 128 clients connect and send their request at once, and the gateway gets to them
    clients = [threading.Thread(target=client) for _ in range(128)]
    for thread in clients:
        thread.start()
    time.sleep(1)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        for thread in clients:
            thread.join()
    finally:
        server.shutdown()
    # Then every one of them is answered: none was reset or left unconnected
    assert Counter(outcomes) == {"200": 128}


def test_each_cookie_is_a_set_cookie_header_of_its_own(gateway_routes: Any) -> None:
    # Given a function that sets two cookies (API Gateway's multi-value headers)
    cookies = ["a=1; Path=/; HttpOnly", "b=2; Path=/; Max-Age=900"]
    recorder = Recorder({"statusCode": 303, "multiValueHeaders": {"Set-Cookie": cookies}})
    url, server = serve(LocalGateway(gateway_routes, recorder))
    try:
        # When a client asks for its page
        response = httpx.get(f"{url}/offices", params={"zip": "10001"})
    finally:
        server.shutdown()
    # Then each cookie comes on its own line, and the client keeps both
    assert response.headers.get_list("set-cookie") == cookies
    assert dict(response.cookies) == {"a": "1", "b": "2"}


def _template_access_log(directory: Path) -> AccessLog:
    access_log = access_log_from(load_template()["Resources"]["Api"]["Properties"], directory)
    assert access_log is not None
    return access_log


def test_each_request_to_the_stage_is_a_line_of_the_templates_access_log(
    gateway_routes: Any, tmp_path: Path
) -> None:
    # Given a gateway with the template's access log, whose function answers 201
    recorder = Recorder({"statusCode": 201, "body": json.dumps({"pin": "402913"})})
    access_log = _template_access_log(tmp_path)
    url, server = serve(LocalGateway(gateway_routes, recorder, access_log=access_log))
    try:
        # When a person books, and someone looks up an appointment by its confirmation number
        httpx.post(f"{url}/appointments", json={"applicant": {"name": "Maria Garcia"}})
        httpx.get(f"{url}/appointments/7K2M9QX4TR8", headers={"X-Appointment-Pin": "402913"})
    finally:
        server.shutdown()
    # Then each is one JSON line with the route's template, the status and the latencies
    lines = access_log.path.read_text(encoding="utf-8").splitlines()
    booked, viewed = (json.loads(line) for line in lines)
    assert (booked["method"], booked["route"], booked["status"]) == ("POST", "/appointments", 201)
    assert viewed["route"] == "/appointments/{confirmationNumber}"
    assert booked["latencyMs"] >= 0
    assert booked["requestId"] == recorder.events[0][1]["requestContext"]["requestId"]
    # And nothing the person sent or got: no name, no PIN, no confirmation number
    for sent in ("Maria", "402913", "7K2M9QX4TR8"):
        assert sent not in "\n".join(lines)


def test_the_gateways_own_answers_are_logged_with_their_type(
    gateway_routes: Any, tmp_path: Path
) -> None:
    # Given a gateway with the template's access log
    access_log = _template_access_log(tmp_path)
    url, server = serve(
        LocalGateway(
            gateway_routes, Recorder({}), responses=template_responses(), access_log=access_log
        )
    )
    try:
        # When a client uses a method the route does not have
        httpx.request("PATCH", f"{url}/appointments")
    finally:
        server.shutdown()
    # Then the line says the gateway answered it, and no function ran
    (line,) = [json.loads(text) for text in access_log.path.read_text().splitlines()]
    assert (line["status"], line["error"]) == (404, "MISSING_AUTHENTICATION_TOKEN")
    assert (line["route"], line["integrationMs"]) == ("-", "-")
