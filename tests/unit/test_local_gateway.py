"""The local API Gateway: routes from the template, proxy events, CORS and answers."""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx
import pytest

from infra.gateway import LocalGateway, cors_from, routes_from
from infra.lambda_runtime import Invocation
from infra.template import function_specs, load_template
from tests.helpers import REPO_ROOT


@pytest.fixture(scope="module")
def gateway_routes() -> Any:
    return routes_from(function_specs(load_template(), REPO_ROOT))


def test_every_api_event_of_the_template_is_a_route(gateway_routes: Any) -> None:
    served = {(route.method, route.path, route.function) for route in gateway_routes}
    assert ("POST", "/appointments", "BookAppointmentFunction") in served
    assert ("GET", "/appointments/{confirmation}", "GetAppointmentFunction") in served
    assert len(served) == 9


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
    url, server = serve(LocalGateway(gateway_routes, Recorder({"errorType": "X"}, ok=False)))
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
