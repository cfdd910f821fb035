"""The template's web ACL as the local distribution plays it (infra/local/web_acl.py): its
rate-based rules per client IP, and the JSON or page answer of the rules on their labels."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.local.template import References, load_template, parameter_defaults, resolve
from infra.local.web_acl import RateCounter, Request, web_acl_from

TEMPLATE = load_template()


def played_acl(**parameters: str) -> Any:
    """The EdgeWebAcl with the template's parameters (some given other values)."""
    references = References()
    references.refs.update(parameter_defaults(TEMPLATE) | parameters)
    references.conditions = dict(TEMPLATE["Conditions"])
    references.attributes[("TrustedNetworkSet", "Arn")] = "arn:ipset"
    properties = resolve(TEMPLATE["Resources"]["EdgeWebAcl"]["Properties"], references)
    addresses = parameters.get("TrustedNetworks", "").split(",")
    return web_acl_from(properties, {"arn:ipset": addresses})


def booking(ip: str = "203.0.113.7") -> Request:
    return Request(method="POST", path="/appointments", headers={}, ip=ip)


def test_an_ip_over_the_booking_limit_gets_the_json_error_with_retry_after() -> None:
    # Given the template's web ACL
    acl = played_acl()
    # When one IP sends more bookings than the seat-taking rule allows in its window
    answers = [acl.check(booking()) for _ in range(11)]
    # Then the first ten pass, and the eleventh is refused with the API's error contract
    assert answers[:10] == [None] * 10
    refused = answers[10]
    assert refused is not None
    assert refused.status == 429
    assert refused.headers["Retry-After"] == "300"
    assert json.loads(refused.body)["error"] == "rate_limited"


def test_another_ip_is_not_limited_by_the_first() -> None:
    acl = played_acl()
    for _ in range(11):
        acl.check(booking())
    assert acl.check(booking(ip="198.51.100.9")) is None


def test_a_site_form_over_the_limit_gets_a_page_in_every_language() -> None:
    # Given an IP that confirmed more bookings on the site than allowed
    acl = played_acl()
    confirm = Request(method="POST", path="/es/book/confirm", headers={}, ip="203.0.113.8")
    answers = [acl.check(confirm) for _ in range(11)]
    # Then the refusal is a page, not JSON, with the message in the site's languages
    refused = answers[10]
    assert refused is not None
    assert refused.status == 429
    assert refused.headers["Content-Type"].startswith("text/html")
    page = refused.body.decode()
    for language in ("en", "es", "zh", "ar", "ht", "pl"):
        assert f'lang="{language}"' in page


def test_reading_pages_does_not_count_against_booking() -> None:
    acl = played_acl()
    pages = Request(method="GET", path="/en/book/times", headers={}, ip="203.0.113.9")
    for _ in range(50):
        assert acl.check(pages) is None
    assert acl.check(booking(ip="203.0.113.9")) is None


def test_requests_carrying_a_pin_are_limited_per_ip() -> None:
    acl = played_acl()
    view = Request(
        method="GET", path="/appointments/X", headers={"x-appointment-pin": "1"}, ip="192.0.2.4"
    )
    answers = [acl.check(view) for _ in range(31)]
    assert answers[:30] == [None] * 30
    assert answers[30] is not None


def test_a_trusted_network_is_not_rate_limited() -> None:
    acl = played_acl(TrustedNetworks="10.0.0.0/8")
    answers = [acl.check(booking(ip="10.1.2.3")) for _ in range(20)]
    assert answers == [None] * 20


def test_the_window_slides() -> None:
    # Given a limit of 2 in 10 seconds, on a clock the test moves
    now = [0.0]
    counter = RateCounter(limit=2, window=10, clock=lambda: now[0])
    assert [counter.over_limit("a") for _ in range(3)] == [False, False, True]
    # When the window has passed
    now[0] = 10.5
    # Then the IP is under the limit again
    assert counter.over_limit("a") is False


def test_a_statement_the_local_stack_does_not_play_stops_the_start() -> None:
    properties = {
        "DefaultAction": {"Allow": {}},
        "Rules": [
            {
                "Name": "geo",
                "Priority": 1,
                "Action": {"Block": {}},
                "Statement": {"GeoMatchStatement": {"CountryCodes": ["XX"]}},
            }
        ],
    }
    with pytest.raises(ValueError, match="GeoMatchStatement not played locally"):
        web_acl_from(properties)
