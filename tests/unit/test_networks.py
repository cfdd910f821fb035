"""A few bookings per network a day (networks.py), through the API as a client uses it: the
network is the viewer's address CloudFront hands the API."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator
from typing import Any

import pytest

from appointments import networks
from appointments.config import settings
from appointments.models import LimitModel
from tests.helpers import applicant, book, booking_body, call, free_slots

pytestmark = pytest.mark.usefixtures("open_slots")

PEOPLE = [("Ana Lima", "1980-01-01"), ("Bo Chen", "1981-02-02"), ("Cy Diaz", "1982-03-03")]


def _from(address: str) -> dict[str, str]:
    return {networks.VIEWER_ADDRESS_HEADER: f"{address}:50123"}


def _book_as(person: tuple[str, str], slot: dict[str, Any], address: str) -> Any:
    body = booking_body(slot["slotId"], applicant=applicant(*person))
    return call("POST", "/appointments", body=body, headers=_from(address))


@pytest.fixture
def trusted_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setattr(settings(), "trusted_networks", "198.51.100.0/24, 2001:db8:aa::/48")
    networks.trusted_networks.cache_clear()
    yield "198.51.100.77"
    networks.trusted_networks.cache_clear()


def test_a_network_over_its_days_bookings_is_refused_and_books_nothing() -> None:
    # Given a network that booked three appointments today, for three people
    slots = free_slots()
    for person, slot in zip(PEOPLE, slots, strict=False):
        assert _book_as(person, slot, "203.0.113.5").status == 201
    # When a fourth person books from it
    response = _book_as(("Di Evans", "1983-04-04"), slots[3], "203.0.113.5")
    # Then it is refused with 429, and the slot keeps its seat
    assert response.status == 429
    assert response.body["error"] == "network_limit"
    after = next(s for s in free_slots() if s["slotId"] == slots[3]["slotId"])
    assert after["available"] == slots[3]["available"]


def test_another_network_still_books_when_one_has_booked_its_days() -> None:
    # Given a network that booked its three appointments today
    slots = free_slots()
    for person, slot in zip(PEOPLE, slots, strict=False):
        _book_as(person, slot, "203.0.113.5")
    # When someone books from the next address
    response = _book_as(("Di Evans", "1983-04-04"), slots[3], "203.0.113.6")
    # Then it is booked
    assert response.status == 201


def test_addresses_of_one_ipv6_64_are_one_network() -> None:
    # Given three bookings from three addresses of one IPv6 /64
    slots = free_slots()
    for number, (person, slot) in enumerate(zip(PEOPLE, slots, strict=False)):
        assert _book_as(person, slot, f"2001:db8:1:2::{number + 1}").status == 201
    # When a fourth comes from another address of that /64
    response = _book_as(("Di Evans", "1983-04-04"), slots[3], "2001:db8:1:2:ffff::9")
    # Then it is refused
    assert response.status == 429


def test_a_trusted_network_is_not_counted(trusted_network: str) -> None:
    # Given the contact center's network booked three appointments today
    slots = free_slots()
    for person, slot in zip(PEOPLE, slots, strict=False):
        _book_as(person, slot, trusted_network)
    # When it books a fourth
    response = _book_as(("Di Evans", "1983-04-04"), slots[3], trusted_network)
    # Then it is booked
    assert response.status == 201


def test_the_count_is_kept_under_a_digest_not_the_address() -> None:
    # When a network books
    book(headers=_from("203.0.113.5"))
    # Then the limits table holds its day's count, keyed without the address
    counts = [item for item in LimitModel.scan() if item.limit_key.startswith("network#")]
    assert [item.hits for item in counts] == [1]
    assert "203.0.113" not in counts[0].limit_key


def test_a_cancelled_booking_still_counts() -> None:
    # Given a network booked three appointments today and cancelled one
    slots = free_slots()
    booked = [_book_as(p, s, "203.0.113.5").body for p, s in zip(PEOPLE, slots, strict=False)]
    call(
        "DELETE",
        f"/appointments/{booked[0]['confirmationNumber']}",
        headers={"X-Appointment-Pin": booked[0]["pin"]},
    )
    # When it books again
    response = _book_as(("Di Evans", "1983-04-04"), slots[3], "203.0.113.5")
    # Then it is refused
    assert response.status == 429


@pytest.mark.parametrize(
    ("viewer_address", "network"),
    [
        ("198.51.100.7:443", "198.51.100.7/32"),
        ("2001:db8:1:2:3:4:5:6:5678", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.7:80", "198.51.100.7/32"),
        ("198.51.100.7", None),  # no port: not CloudFront's form
        ("not an address:80", None),
        ("", None),
        (None, None),
    ],
)
def test_the_network_of_a_viewer_address(viewer_address: str | None, network: str | None) -> None:
    expected = None if network is None else ipaddress.ip_network(network)
    assert networks.network_of(viewer_address) == expected


def _published_metrics(out: str) -> set[str]:
    blobs = [json.loads(line) for line in out.splitlines() if line.startswith('{"_aws"')]
    return {name for blob in blobs for name in blob if not name.startswith("_")}


def test_a_booking_without_the_viewers_address_is_counted_for_the_alarm(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a request that reached the API without CloudFront's viewer address
    capsys.readouterr()
    body = booking_body(free_slots()[0]["slotId"], applicant=applicant(*PEOPLE[0]))
    # When it books
    assert call("POST", "/appointments", body=body).status == 201
    # Then the booking is counted as one whose network went uncounted
    assert "BookingsWithoutViewerAddress" in _published_metrics(capsys.readouterr().out)


def test_a_booking_with_the_viewers_address_is_not_counted_as_without(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # When a booking comes with CloudFront's viewer address
    capsys.readouterr()
    assert _book_as(PEOPLE[0], free_slots()[0], "203.0.113.5").status == 201
    # Then it is booked and not counted as one without
    published = _published_metrics(capsys.readouterr().out)
    assert "AppointmentsBooked" in published
    assert "BookingsWithoutViewerAddress" not in published
