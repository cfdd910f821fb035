"""Which service may be booked where (appointments/services.py)."""

from __future__ import annotations

import pytest

from appointments.errors import (
    CaseNotPendingHere,
    CaseNumberRequired,
    NotFound,
    ServiceNotOffered,
)
from appointments.offices import Address, Office
from appointments.services import (
    Service,
    case_pending_at,
    check_service_allowed,
    check_service_offered,
    office_holding_case,
)

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


# --- the office that holds a case ----------------------------------------------------------


def test_a_receipt_number_names_the_asylum_office_holding_the_case(
    offices: dict[str, Office],
) -> None:
    # When a receipt number is typed with spaces, dashes and small letters
    office, case_number = office_holding_case(" zar-2612345678 ")
    # Then its prefix names the Arlington Asylum Office, and it is kept as stored
    assert (office.office_id, case_number) == ("arlington-asylum", "ZAR2612345678")


def test_a_receipt_number_no_office_holds_is_not_found(offices: dict[str, Office]) -> None:
    with pytest.raises(NotFound):
        office_holding_case("EAC2612345678")


@pytest.mark.parametrize("typed", ["", "ZAR123", "ZAR26123456789", "2612345678ZAR"])
def test_something_that_is_no_receipt_number_is_refused_as_such(
    offices: dict[str, Office], typed: str
) -> None:
    with pytest.raises(CaseNumberRequired):
        office_holding_case(typed)


@pytest.mark.parametrize(
    ("office", "case_number", "pending"),
    [
        (ASYLUM_OFFICE, "ZAR2612345678", True),
        (ASYLUM_OFFICE, "ZNY2612345678", False),
        (ASYLUM_OFFICE, "ZAR12", False),
        (ASYLUM_OFFICE, None, False),
        (FIELD_OFFICE, "ZAR2612345678", False),
    ],
)
def test_a_case_is_pending_only_at_the_office_of_its_prefix(
    office: Office, case_number: str | None, pending: bool
) -> None:
    assert case_pending_at(office, case_number) is pending
