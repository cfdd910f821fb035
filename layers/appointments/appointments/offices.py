"""The office catalogue, and finding the office that serves a ZIP code or a country.

The catalogue lives in the offices table so operators change hours and closures without a
deployment. It is small, so each container reads it whole and keeps it for a few minutes:
booking and listing slots then cost no catalogue reads.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import zipcodes

from appointments.config import settings
from appointments.errors import InvalidRequest, NotFound
from appointments.models import AddressAttribute, OfficeModel
from appointments.snapshots import after_restore
from appointments.vocabulary import OfficeKind

FIELD_OFFICE = OfficeKind.FIELD_OFFICE
INTERNATIONAL_OFFICE = OfficeKind.INTERNATIONAL_OFFICE
ASYLUM_OFFICE = OfficeKind.ASYLUM_OFFICE
DOMESTIC_KINDS = frozenset({FIELD_OFFICE, ASYLUM_OFFICE})
EARTH_RADIUS_MILES = 3958.8
WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# The "states" of APO, FPO and DPO ZIP codes: mail to the armed forces and diplomats abroad
# (Americas, Europe, Pacific). No field office serves them.
MILITARY_MAIL_STATES = frozenset({"AA", "AE", "AP"})
# The United States and the territories that have ZIP codes: found by ZIP code, not as a
# country abroad (ISO 3166 codes).
ZIP_CODE_COUNTRIES = frozenset({"US", "PR", "GU", "VI", "AS", "MP", "UM"})


@dataclass(frozen=True)
class Address:
    street: str
    city: str
    state: str | None
    postal_code: str | None
    country: str

    @property
    def lines(self) -> list[str]:
        """The address as it is written on an envelope: street, city line, country."""
        city_line = " ".join(part for part in (self.city, self.state, self.postal_code) if part)
        return [self.street, city_line, self.country]


@dataclass(frozen=True)
class Office:
    office_id: str
    name: str
    kind: str
    time_zone: str
    address: Address
    services: tuple[str, ...]
    latitude: float | None = None
    longitude: float | None = None
    serves_states: tuple[str, ...] = ()
    serves_countries: tuple[str, ...] = ()
    case_prefixes: tuple[str, ...] = ()
    opening_hours: dict[str, list[list[str]]] = field(default_factory=dict, hash=False)
    slot_minutes: int = 30
    capacity: int = 1
    closures: tuple[str, ...] = ()

    def hours_on(self, day: date) -> list[list[str]]:
        """Opening windows (["08:00", "12:00"], …) on `day`'s weekday; none on a closure."""
        if day.isoformat() in self.closures:
            return []
        return self.opening_hours.get(WEEKDAY_KEYS[day.weekday()], [])


@dataclass(frozen=True)
class OfficeMatch:
    office: Office
    distance_miles: float | None


def office_from_model(model: OfficeModel) -> Office:
    address = model.address
    return Office(
        office_id=model.office_id,
        name=model.name,
        kind=model.kind,
        time_zone=model.time_zone,
        address=Address(
            street=address.street,
            city=address.city,
            state=address.state,
            postal_code=address.postal_code,
            country=address.country,
        ),
        services=tuple(model.services),
        latitude=model.latitude,
        longitude=model.longitude,
        serves_states=tuple(model.serves_states or ()),
        serves_countries=tuple(model.serves_countries or ()),
        case_prefixes=tuple(model.case_prefixes or ()),
        opening_hours=dict(model.opening_hours.as_dict()) if model.opening_hours else {},
        slot_minutes=int(model.slot_minutes),
        capacity=int(model.capacity),
        closures=tuple(model.closures or ()),
    )


def office_from_catalogue_entry(entry: dict[str, Any]) -> OfficeModel:
    """An office of the JSON catalogue (camelCase, as in infra/data/offices.json) as an item."""
    address = entry["address"]
    return OfficeModel(
        office_id=entry["officeId"],
        name=entry["name"],
        kind=entry["kind"],
        time_zone=entry["timeZone"],
        address=AddressAttribute(
            street=address["street"],
            city=address["city"],
            state=address.get("state"),
            postal_code=address.get("postalCode"),
            country=address["country"],
        ),
        services=list(entry["services"]),
        latitude=entry.get("latitude"),
        longitude=entry.get("longitude"),
        serves_states=list(entry.get("servesStates", [])),
        serves_countries=list(entry.get("servesCountries", [])),
        case_prefixes=list(entry.get("casePrefixes", [])),
        opening_hours=entry.get("openingHours", {}),
        slot_minutes=entry.get("slotMinutes", 30),
        capacity=entry.get("capacity", 1),
        closures=list(entry.get("closures", [])),
    )


class OfficeCatalogue:
    """All offices, read with one Scan and kept for `office_cache_seconds`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offices: dict[str, Office] = {}
        self._loaded_at = -math.inf

    def all(self) -> dict[str, Office]:
        with self._lock:
            if time.monotonic() - self._loaded_at > settings().office_cache_seconds:
                self._offices = {m.office_id: office_from_model(m) for m in OfficeModel.scan()}
                self._loaded_at = time.monotonic()
            return self._offices

    def get(self, office_id: str) -> Office:
        office = self.all().get(office_id)
        if office is None:
            raise NotFound(f"There is no office '{office_id}'.")
        return office

    def invalidate(self) -> None:
        with self._lock:
            self._loaded_at = -math.inf


catalogue = OfficeCatalogue()
# A copy restored from a snapshot reads the offices anew: offices loaded before the snapshot
# are as old as the snapshot, whatever the catalogue's own clock says.
after_restore(catalogue.invalidate)


def _distance_miles(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_MILES * math.asin(math.sqrt(a))


def find_offices(*, zip_code: str | None, country: str | None) -> list[OfficeMatch]:
    """The offices for a US ZIP code or for a country abroad: exactly one of them is given."""
    if zip_code is not None and country is None:
        return offices_for_zip(zip_code)
    if country is not None and zip_code is None:
        return offices_for_country(country)
    raise InvalidRequest("Give exactly one of 'zip' (US ZIP code) or 'country' (ISO code).")


def offices_for_zip(zip_code: str) -> list[OfficeMatch]:
    """Offices serving the ZIP code's state, nearest first.

    The first field office is "the" office for that ZIP; the asylum office that serves the
    state is listed too, for applicants with a case pending there.
    """
    if not (len(zip_code) == 5 and zip_code.isdigit()):
        raise InvalidRequest("A ZIP code is five digits.")
    places = zipcodes.matching(zip_code)
    if not places:
        raise NotFound(f"ZIP code {zip_code} is not a known US ZIP code.")
    place = places[0]
    lat, lon, state = float(place["lat"]), float(place["long"]), place["state"]
    matches = []
    for office in catalogue.all().values():
        if office.kind not in DOMESTIC_KINDS or state not in office.serves_states:
            continue
        distance = None
        if office.latitude is not None and office.longitude is not None:
            distance = round(_distance_miles(lat, lon, office.latitude, office.longitude), 1)
        matches.append(OfficeMatch(office, distance))
    matches.sort(
        key=lambda m: (
            m.office.kind != FIELD_OFFICE,
            math.inf if m.distance_miles is None else m.distance_miles,
        )
    )
    return matches


def is_military_mail_zip(zip_code: str) -> bool:
    """An APO, FPO or DPO ZIP code: the person is abroad, served by an international office."""
    if not (len(zip_code) == 5 and zip_code.isdigit()):
        return False
    return any(place["state"] in MILITARY_MAIL_STATES for place in zipcodes.matching(zip_code))


def offices_for_country(country: str) -> list[OfficeMatch]:
    """International offices serving an ISO 3166 alpha-2 country code."""
    code = country.strip().upper()
    if not (len(code) == 2 and code.isalpha()):
        raise InvalidRequest("A country is a two-letter ISO 3166 code, e.g. MX.")
    return [
        OfficeMatch(office, None)
        for office in sorted(catalogue.all().values(), key=lambda o: o.name)
        if office.kind == INTERNATIONAL_OFFICE and code in office.serves_countries
    ]
