"""The local distribution: the template's CloudFront behaviours in front of the local gateway."""

from __future__ import annotations

import copy
import http.client
import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from infra.local.distribution import distribution_from
from infra.local.gateway import LocalGateway, api_keys_from, gateway_responses_from, routes_from
from infra.local.lambda_runtime import Invocation
from infra.local.template import References, function_specs, load_template, parameter_defaults
from infra.tools.upload_assets import CACHE_CONTROL
from tests.helpers import REPO_ROOT

TEMPLATE = load_template()
API_HOST = "test-Api.execute-api.us-east-1.amazonaws.com"
ORIGIN_KEY = "the-distributions-own-key"
STYLE = b"body{margin:0}" + b".usa-banner{padding:0}" * 200  # over CloudFront's 1,000 bytes


def local_references(template: dict[str, Any]) -> References:
    """What the local stack's Ref and GetAtt give, without its engines (names are arbitrary)."""
    references = References(conditions=dict(template.get("Conditions", {})))
    references.refs.update(parameter_defaults(template))
    for logical_id in template["Resources"]:
        references.refs.setdefault(logical_id, f"test-{logical_id}")
    references.attributes[("AssetsBucket", "RegionalDomainName")] = (
        "test-assetsbucket.s3.us-east-1.amazonaws.com"
    )
    references.attributes[("AssetsOriginAccessControl", "Id")] = "test-oac"
    references.attributes[("EdgeWebAcl", "Arn")] = "test-web-acl"
    references.refs["Api.Stage"] = references.ref("StageName")
    secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:test-origin"
    references.refs["OriginVerificationSecret"] = secret
    references.secret_strings[secret] = ORIGIN_KEY
    return references


class Recorder:
    """A function answering every API event with `result`, keeping the events."""

    def __init__(self, result: dict[str, Any]) -> None:
        self.events: list[dict[str, Any]] = []
        self.result = result

    def __call__(self, function: str, event: dict[str, Any]) -> Invocation:
        self.events.append(event)
        return Invocation(True, self.result, 1.0)


@pytest.fixture
def assets(tmp_path: Path) -> Path:
    """What `make assets` builds, and a file beside it that must never be served."""
    built = tmp_path / "site-assets"
    (built / "img").mkdir(parents=True)
    (built / "site.css").write_bytes(STYLE)
    (built / "img" / "close.svg").write_text("<svg/>")
    (tmp_path / "secret.css").write_text("not an asset")
    return built


@contextmanager
def serve(recorder: Recorder, assets: Path, *, api_compresses: bool = True) -> Iterator[str]:
    """The template's gateway behind its distribution (without the Api's own compression, if
    api_compresses is false)."""
    template = TEMPLATE
    references = local_references(template)
    distribution = distribution_from(template, references, assets)
    assert distribution is not None
    api = template["Resources"]["Api"]["Properties"]
    gateway = LocalGateway(
        routes_from(function_specs(template, REPO_ROOT)),
        recorder,
        responses=gateway_responses_from(api),
        minimum_compression_size=api["MinimumCompressionSize"] if api_compresses else None,
        front=distribution.answer,
        api_keys=api_keys_from(template, references, "Api"),
    )
    server = gateway.server("127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder({"statusCode": 200, "headers": {}, "body": json.dumps({"offices": []})})


@pytest.fixture
def site(recorder: Recorder, assets: Path) -> Iterator[str]:
    with serve(recorder, assets) as url:
        yield url


def raw_get(url: str, path: str, method: str = "GET") -> http.client.HTTPResponse:
    """The path sent as it is (httpx would resolve dot segments)."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request(method, path, headers={"Accept-Encoding": "identity"})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def test_an_asset_is_served_with_the_uploads_content_type_and_cache_control(site: str) -> None:
    response = httpx.get(f"{site}/assets/img/close.svg", headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/svg+xml"
    assert response.headers["Cache-Control"] == CACHE_CONTROL
    assert response.content == b"<svg/>"


@pytest.mark.parametrize(
    ("accept_encoding", "encoding"), [("gzip, deflate, br", "gzip"), ("identity", None)]
)
def test_an_asset_is_gzipped_only_for_a_viewer_that_accepts_gzip(
    site: str, accept_encoding: str, encoding: str | None
) -> None:
    response = httpx.get(f"{site}/assets/site.css", headers={"Accept-Encoding": accept_encoding})
    assert response.headers.get("Content-Encoding") == encoding
    assert response.content == STYLE  # httpx decodes what is encoded


def test_an_asset_below_a_thousand_bytes_is_not_compressed(site: str) -> None:
    response = httpx.get(f"{site}/assets/img/close.svg", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in response.headers


def test_a_missing_asset_is_s3s_404(site: str, recorder: Recorder) -> None:
    response = httpx.get(f"{site}/assets/nothing.css")
    assert response.status_code == 404
    assert b"NoSuchKey" in response.content
    assert recorder.events == []  # the API never saw it


@pytest.mark.parametrize(
    "path",
    [
        "/assets/../secret.css",
        "/assets/%2e%2e/secret.css",
        "/assets/img/../../secret.css",
        "/assets/..%2fsecret.css",
        "/assets/..%5csecret.css",
        "/assets//etc/passwd",
    ],
)
def test_a_path_out_of_the_assets_is_not_served(site: str, path: str) -> None:
    response = raw_get(site, path)
    assert response.status == 404


@pytest.mark.parametrize(("method", "status"), [("HEAD", 200), ("POST", 403), ("DELETE", 403)])
def test_the_assets_answer_get_and_head_only(site: str, method: str, status: int) -> None:
    response = raw_get(site, "/assets/site.css", method)
    assert response.status == status


def test_an_api_answer_carries_the_response_headers_policy(
    assets: Path,
) -> None:
    # Given a function that sets its own, weaker frame option
    recorder = Recorder({"statusCode": 200, "headers": {"X-Frame-Options": "SAMEORIGIN"}})
    with serve(recorder, assets) as url:
        # When the API is called through the distribution
        response = httpx.get(f"{url}/offices", params={"zip": "96813"})
    # Then the answer has the policy's headers, which override the function's
    policy = TEMPLATE["Resources"]["SiteResponseHeadersPolicy"]["Properties"]
    csp = policy["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]["ContentSecurityPolicy"]
    assert response.headers["Content-Security-Policy"] == csp["ContentSecurityPolicy"]
    assert response.headers["Strict-Transport-Security"] == "max-age=63072000; includeSubDomains"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_an_asset_carries_the_response_headers_policy(site: str) -> None:
    response = httpx.get(f"{site}/assets/site.css")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_the_api_gets_every_viewer_header_but_the_host(site: str, recorder: Recorder) -> None:
    httpx.get(f"{site}/offices", params={"zip": "96813"}, headers={"X-Appointment-Pin": "1"})
    (event,) = recorder.events
    assert event["headers"]["Host"] == API_HOST
    assert event["headers"]["X-Appointment-Pin"] == "1"


def test_the_api_gets_the_viewers_address_as_cloudfront_saw_it(
    site: str, recorder: Recorder
) -> None:
    # Given a viewer that claims another address
    with httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.3")) as viewer:
        viewer.get(f"{site}/offices", headers={"CloudFront-Viewer-Address": "203.0.113.9:1"})
    # Then the API gets the address the request came from
    (event,) = recorder.events
    address, _, port = event["headers"]["CloudFront-Viewer-Address"].rpartition(":")
    assert address == "127.0.0.3"
    assert port.isdigit()
    assert event["multiValueHeaders"]["CloudFront-Viewer-Address"] == [
        event["headers"]["CloudFront-Viewer-Address"]
    ]


def test_the_api_gets_the_distributions_key_whatever_key_the_viewer_sends(
    site: str, recorder: Recorder
) -> None:
    # When a viewer sends a key of its own
    response = httpx.get(f"{site}/offices", headers={"x-api-key": "a-guess"})
    # Then the API gets the distribution's and answers
    assert response.status_code == 200
    (event,) = recorder.events
    assert event["multiValueHeaders"]["x-api-key"] == [ORIGIN_KEY]


def test_the_api_without_the_distributions_key_is_forbidden(assets: Path) -> None:
    # Given the stage itself, without the distribution in front
    template, recorder = TEMPLATE, Recorder({"statusCode": 200, "body": "{}"})
    references = local_references(template)
    gateway = LocalGateway(
        routes_from(function_specs(template, REPO_ROOT)),
        recorder,
        responses=gateway_responses_from(template["Resources"]["Api"]["Properties"]),
        api_keys=api_keys_from(template, references, "Api"),
    )
    server = gateway.server("127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        stage = f"http://127.0.0.1:{server.server_address[1]}"
        # When a client calls it with a guessed key, or none
        guessed = httpx.post(f"{stage}/appointments", json={}, headers={"x-api-key": "a-guess"})
        without = httpx.get(f"{stage}/offices", params={"zip": "96813"})
        # Then both are refused in the API's error shape, and no function runs
        assert [guessed.status_code, without.status_code] == [403, 403]
        assert guessed.json()["error"] == "forbidden"
        assert recorder.events == []
        # And the distribution's own key opens it
        assert httpx.get(f"{stage}/offices", headers={"x-api-key": ORIGIN_KEY}).status_code == 200
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(("size", "encoding"), [(5000, "gzip"), (100, None)])
def test_api_answers_are_compressed_by_api_gateway_from_the_minimum_size(
    assets: Path, size: int, encoding: str | None
) -> None:
    # Given a function answering a JSON body of that size
    body = json.dumps({"offices": "x" * size})
    recorder = Recorder(
        {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": body}
    )
    with serve(recorder, assets) as url:
        # When a client that accepts gzip calls the API through the distribution
        response = httpx.get(f"{url}/offices", headers={"Accept-Encoding": "gzip"})
    # Then API Gateway compressed it from MinimumCompressionSize on, once
    assert response.headers.get("Content-Encoding") == encoding
    assert response.json() == json.loads(body)


def test_cloudfront_compresses_no_api_answer_as_it_caches_none(assets: Path) -> None:
    # Given a function answering a large JSON body, and an Api that does not compress
    body = json.dumps({"offices": "x" * 5000})
    recorder = Recorder(
        {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": body}
    )
    with serve(recorder, assets, api_compresses=False) as url:
        # When a client that accepts gzip calls the API through the distribution
        response = httpx.get(f"{url}/offices", headers={"Accept-Encoding": "gzip"})
    # Then it arrives as the function gave it (the default behaviour is CachingDisabled)
    assert "Content-Encoding" not in response.headers
    assert response.text == body


def test_a_method_cloudfront_does_not_forward_is_refused_before_the_api(
    site: str, recorder: Recorder
) -> None:
    response = raw_get(site, "/appointments", "TRACE")
    assert response.status == 403
    assert response.getheader("Content-Type") == "text/plain"  # CloudFront's, not the API's
    assert recorder.events == []


@pytest.mark.parametrize(
    ("where", "added"),
    [
        ("DefaultCacheBehavior", {"FunctionAssociations": []}),
        ("DistributionConfig", {"DefaultRootObject": "index.html"}),
    ],
)
def test_a_distribution_property_not_played_stops_the_start(
    where: str, added: dict[str, Any]
) -> None:
    # Given the template with a property of the distribution the stand-in does not play
    template = copy.deepcopy(TEMPLATE)
    config = template["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    (config if where == "DistributionConfig" else config[where]).update(added)
    # When it is read, Then the property is named
    with pytest.raises(ValueError, match=next(iter(added))):
        distribution_from(template, local_references(template), Path())


SLOTS = "/offices/new-york/slots?date=2027-01-26&service=adit-stamp"


def test_the_free_times_are_kept_at_the_edge_for_the_cache_policys_second(
    site: str, recorder: Recorder
) -> None:
    # Given the free times read once through the distribution
    first = httpx.get(f"{site}{SLOTS}")
    # When they are read again at once, and then for another service
    again = httpx.get(f"{site}{SLOTS}")
    other = httpx.get(f"{site}{SLOTS.replace('adit-stamp', 'other')}")
    # Then the second read is the edge's copy, and the other query string asks the API
    assert (first.headers["X-Cache"], again.headers["X-Cache"]) == (
        "Miss from cloudfront",
        "Hit from cloudfront",
    )
    assert again.json() == first.json()
    assert other.headers["X-Cache"] == "Miss from cloudfront"
    assert [event["queryStringParameters"]["service"] for event in recorder.events] == [
        "adit-stamp",
        "other",
    ]
    assert again.headers["Strict-Transport-Security"]  # the policy's headers on a copy too


def test_the_edge_asks_the_api_again_once_the_copy_is_a_second_old(
    site: str, recorder: Recorder
) -> None:
    httpx.get(f"{site}/offices/new-york/days?service=adit-stamp")
    time.sleep(1.1)  # the policy's DefaultTTL: the API sends no Cache-Control
    later = httpx.get(f"{site}/offices/new-york/days?service=adit-stamp")
    assert later.headers["X-Cache"] == "Miss from cloudfront"
    assert len(recorder.events) == 2


def test_readers_arriving_together_make_one_request_to_the_api(assets: Path) -> None:
    # Given an API that takes a moment to answer the free times
    class SlowRecorder(Recorder):
        def __call__(self, function: str, event: dict[str, Any]) -> Invocation:
            time.sleep(0.3)
            return super().__call__(function, event)

    slow = SlowRecorder({"statusCode": 200, "headers": {}, "body": json.dumps({"slots": []})})
    with serve(slow, assets) as url, ThreadPoolExecutor(8) as pool:
        # When eight people read them at the same moment
        answers = list(pool.map(lambda _: httpx.get(f"{url}{SLOTS}"), range(8)))
    # Then one request reached the API and everyone got its answer
    assert len(slow.events) == 1
    assert sorted(answer.headers["X-Cache"] for answer in answers) == [
        "Hit from cloudfront"
    ] * 7 + ["Miss from cloudfront"]


@pytest.mark.parametrize(
    ("status", "path"),
    [
        (503, SLOTS),  # an error: not kept for the behaviour's TTL
        (200, "/offices?zip=10007"),  # the default behaviour: CachingDisabled
    ],
)
def test_errors_and_other_routes_always_reach_the_api(assets: Path, status: int, path: str) -> None:
    answering = Recorder({"statusCode": status, "headers": {}, "body": json.dumps({})})
    with serve(answering, assets) as url:
        answers = [httpx.get(f"{url}{path}") for _ in range(2)]
    assert len(answering.events) == 2
    assert [answer.status_code for answer in answers] == [status, status]


def test_other_methods_on_the_free_times_reach_the_api_uncached(site: str) -> None:
    answers = [httpx.post(f"{site}/offices/new-york/slots", json={}) for _ in range(2)]
    # the API's own 404 for a method it does not have, not CloudFront's 403
    assert [answer.json()["error"] for answer in answers] == ["not_found", "not_found"]
    assert all("X-Cache" not in answer.headers for answer in answers)


def test_a_gzip_reader_and_another_get_copies_of_their_own(assets: Path) -> None:
    # Given free times large enough for API Gateway to compress
    body = json.dumps({"slots": ["x" * 40] * 200})
    recorder = Recorder(
        {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": body}
    )
    with serve(recorder, assets) as url:
        plain = httpx.get(f"{url}{SLOTS}", headers={"Accept-Encoding": "identity"})
        zipped = httpx.get(f"{url}{SLOTS}", headers={"Accept-Encoding": "gzip, br"})
        plain_again = httpx.get(f"{url}{SLOTS}", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert plain_again.headers["X-Cache"] == "Hit from cloudfront"
    assert "Content-Encoding" not in plain_again.headers
    assert zipped.json() == plain.json() == json.loads(body)
    assert len(recorder.events) == 2


def test_a_cache_policy_property_not_played_stops_the_start() -> None:
    template = copy.deepcopy(TEMPLATE)
    policy = template["Resources"]["AvailabilityCachePolicy"]["Properties"]["CachePolicyConfig"]
    policy["ParametersInCacheKeyAndForwardedToOrigin"]["HeadersConfig"] = {
        "HeaderBehavior": "whitelist",
        "Headers": ["Accept-Language"],
    }
    with pytest.raises(ValueError, match="HeadersConfig"):
        distribution_from(template, local_references(template), Path())
