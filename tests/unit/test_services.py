"""Which service may be booked where (appointments/services.py)."""

from __future__ import annotations

import pytest

from appointments.errors import CaseNotPendingHere, CaseNumberRequired, ServiceNotOffered
from appointments.offices import Address, Office
from appointments.services import Service, check_service_allowed, check_service_offered

FIELD_OFFICE = Office(
    office_id="fairfax",
    name="Fairfax Field Office",
    kind="field_office",
    time_zone="America/New_York",
    address=Address("2675 Prosperity Ave", "Fairfax", "VA", "22031", "US"),
    services=("adit-stamp", "emergency-advance-parole", "immigration-judge-grant", "other"),
    serves_states=("VA", "DC", "MD"),
)

ASYLUM_OFFICE = Office(
    office_id="arlington-asylum",
    name="Arlington Asylum Office",
    kind="asylum_office",
    time_zone="America/New_York",
    address=Address("1525 Wilson Blvd", "Arlington", "VA", "22209", "US"),
    services=("asylum", "nacara", "fear-screening"),
    serves_states=("VA", "DC", "MD"),
    case_prefixes=("ZAR",),
)


def test_field_office_allows_adit_stamp() -> None:
    # When an ADIT stamp is booked at a field office, no error is raised
    check_service_allowed(FIELD_OFFICE, Service.ADIT_STAMP, None)


def test_field_office_service_needs_no_case_number() -> None:
    check_service_allowed(FIELD_OFFICE, Service.EMERGENCY_ADVANCE_PAROLE, None)


def test_asylum_at_a_field_office_is_not_offered() -> None:
    with pytest.raises(ServiceNotOffered):
        check_service_allowed(FIELD_OFFICE, Service.ASYLUM, "ZAR2612345678")


def test_adit_stamp_at_the_asylum_office_is_not_offered() -> None:
    with pytest.raises(ServiceNotOffered):
        check_service_allowed(ASYLUM_OFFICE, Service.ADIT_STAMP, None)


@pytest.mark.parametrize("case_number", [None, ""])
def test_asylum_without_case_number_requires_one(case_number: str | None) -> None:
    with pytest.raises(CaseNumberRequired):
        check_service_allowed(ASYLUM_OFFICE, Service.ASYLUM, case_number)


@pytest.mark.parametrize(
    "case_number",
    ["ZAR12345", "ZAR26123456789", "ZA2612345678X", "1232612345678", "zar2612345678"],
)
def test_asylum_with_malformed_case_number_requires_a_valid_one(case_number: str) -> None:
    with pytest.raises(CaseNumberRequired):
        check_service_allowed(ASYLUM_OFFICE, Service.ASYLUM, case_number)


def test_asylum_case_pending_at_another_office_is_refused() -> None:
    # Given a case number whose prefix names the New York asylum office
    # When an asylum interview is booked at Arlington
    # Then the case is not pending there
    with pytest.raises(CaseNotPendingHere):
        check_service_allowed(ASYLUM_OFFICE, Service.ASYLUM, "ZNY2612345678")


@pytest.mark.parametrize("service", [Service.ASYLUM, Service.NACARA, Service.FEAR_SCREENING])
def test_case_service_with_case_pending_here_is_allowed(service: Service) -> None:
    check_service_allowed(ASYLUM_OFFICE, service, "ZAR2612345678")


def test_the_offered_check_skips_the_case_check() -> None:
    # Given no case number at all (e.g. listing the free slots of an asylum office)
    # Then the office/service check alone applies
    check_service_offered(ASYLUM_OFFICE, Service.ASYLUM)


def test_the_offered_check_still_checks_the_service_is_offered() -> None:
    with pytest.raises(ServiceNotOffered):
        check_service_offered(FIELD_OFFICE, Service.ASYLUM)


def test_catalogue_arlington_asylum_accepts_its_own_cases(offices: dict[str, Office]) -> None:
    # Given the seeded catalogue
    arlington = offices["arlington-asylum"]
    # Then a ZAR case may be booked there, and a field office does not offer asylum
    check_service_allowed(arlington, Service.ASYLUM, "ZAR2612345678")
    with pytest.raises(ServiceNotOffered):
        check_service_allowed(offices["new-york"], Service.ASYLUM, "ZAR2612345678")
