"""How many appointments one network books a day: BOOKINGS_PER_NETWORK at most.

Made-up names, phone numbers and e-mail addresses cost a script nothing, so the guards of
guards.py alone would let it book a seat per identity. What a script cannot make up for free is
where it connects from. The booking's own transaction counts the appointment against its
network's day (a condition on the count: still one request), so a script with one address
holds a handful of a day's seats however fast it is, and however many identities it invents.

A network is what one household or one machine usually has: an IPv4 address, or an IPv6 /64
(a provider hands a whole /64 to one customer). The address is the viewer's as CloudFront saw
it (its CloudFront-Viewer-Address header; the API accepts requests only from the distribution,
see the template's OriginVerification), keyed by a digest: the limits table holds no address.
Networks in TRUSTED_NETWORKS (the contact center booking for callers) are not counted, and
neither is a request without a viewer address, which only CloudFront itself could send.

Cancelling does not give a booking back: a script would otherwise book, cancel and book again.
Moving an appointment takes no new booking and counts nothing (reschedules have their own
limit, booking.MAX_RESCHEDULES).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from pynamodb.transactions import TransactWrite

from appointments.codes import digest
from appointments.config import settings
from appointments.errors import NetworkLimit
from appointments.models import LimitModel

VIEWER_ADDRESS_HEADER = "CloudFront-Viewer-Address"
IPV6_NETWORK_BITS = 64

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def viewer_network(headers: Mapping[str, str]) -> IpNetwork | None:
    """The network a request came from, from the headers CloudFront gave it."""
    return network_of(headers.get(VIEWER_ADDRESS_HEADER))


def network_of(viewer_address: str | None) -> IpNetwork | None:
    """The network of CloudFront's "address:port" (IPv6 without brackets), or None."""
    if not viewer_address:
        return None
    address_text, _, port = viewer_address.strip().rpartition(":")
    if not port.isdigit():
        return None
    try:
        address = ipaddress.ip_address(address_text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is None:
        return ipaddress.IPv6Network((address, IPV6_NETWORK_BITS), strict=False)
    v4 = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else address
    return ipaddress.IPv4Network(v4)


@lru_cache(maxsize=1)
def trusted_networks() -> tuple[IpNetwork, ...]:
    listed = (part.strip() for part in settings().trusted_networks.split(","))
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in listed if cidr)


def allowance_item(network: IpNetwork | None, now: datetime) -> LimitModel | None:
    """The day's count of bookings from `network`, or None where none is kept."""
    limit = settings().bookings_per_network
    if network is None or limit == 0:
        return None
    if any(
        network.version == trusted.version and network.subnet_of(trusted)  # type: ignore[arg-type]
        for trusted in trusted_networks()
    ):
        return None
    day = now.astimezone(ZoneInfo(settings().release_time_zone)).date().isoformat()
    return LimitModel(
        f"network#{digest('network', str(network))}#{day}", expires_at=now + timedelta(days=2)
    )


def count(tx: TransactWrite, allowance: LimitModel) -> None:
    """One more booking from the network today, if it has one left."""
    allowance.count_one_more(tx, settings().bookings_per_network)


def exhausted() -> NetworkLimit:
    return NetworkLimit(
        "Too many appointments were booked from your network today. Please try again "
        "tomorrow, or call the contact center at 800-375-5283 to book by phone."
    )
