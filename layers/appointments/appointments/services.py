"""Which service may be booked where.

Field offices offer the everyday services. Asylum, NACARA and credible/reasonable-fear
screening are interviews on a case that is already pending: they are booked only at the
asylum office that holds the case, which the receipt number's prefix identifies (for example
"ZAR" for Arlington).
"""

from __future__ import annotations

import re

from appointments.errors import CaseNotPendingHere, CaseNumberRequired, NotFound, ServiceNotOffered
from appointments.offices import Office, catalogue
from appointments.vocabulary import Service

__all__ = [
    "CASE_SERVICES",
    "Service",
    "case_pending_at",
    "check_service_allowed",
    "check_service_offered",
    "office_holding_case",
]


CASE_SERVICES = frozenset({Service.ASYLUM, Service.NACARA, Service.FEAR_SCREENING})

# A receipt number: three letters naming the office, then ten digits.
RECEIPT_NUMBER = re.compile(r"^[A-Z]{3}\d{10}$")


def normalise_case_number(raw: str) -> str:
    return "".join(raw.split()).replace("-", "").upper()


def _check_receipt_number(case_number: str) -> None:
    if not RECEIPT_NUMBER.fullmatch(case_number):
        raise CaseNumberRequired(
            "A receipt number is three letters followed by ten digits, e.g. ZAR2612345678."
        )


def office_holding_case(typed_case_number: str) -> tuple[Office, str]:
    """The asylum office that holds the case of a typed receipt number, and the receipt
    number as stored; CaseNumberRequired if it cannot be one, NotFound if no office holds
    cases with its prefix."""
    case_number = normalise_case_number(typed_case_number)
    _check_receipt_number(case_number)
    for office in sorted(catalogue.all().values(), key=lambda office: office.office_id):
        if case_number[:3] in office.case_prefixes:
            return office, case_number
    raise NotFound("No asylum office holds cases with that receipt number.")


def case_pending_at(office: Office, case_number: str | None) -> bool:
    """Whether the case of a (stored) receipt number is pending at `office`."""
    return bool(
        case_number
        and RECEIPT_NUMBER.fullmatch(case_number)
        and case_number[:3] in office.case_prefixes
    )


def check_service_offered(office: Office, service: Service) -> None:
    """Raise ServiceNotOffered unless `office` offers `service` at all: enough to list its
    free slots (a case service's case number is checked at booking, where it is given)."""
    if service not in office.services:
        raise ServiceNotOffered(f"The {office.name} does not offer the service '{service}'.")


def check_service_allowed(office: Office, service: Service, case_number: str | None) -> None:
    """Raise a domain error with a clear reason if `service` cannot be booked at `office`
    with this case number."""
    check_service_offered(office, service)
    if service not in CASE_SERVICES:
        return
    if not case_number:
        raise CaseNumberRequired(
            f"The service '{service}' is an interview on a pending case: "
            "give the case's receipt number (caseNumber)."
        )
    _check_receipt_number(case_number)
    if case_number[:3] not in office.case_prefixes:
        raise CaseNotPendingHere(
            f"That case is not pending at the {office.name}; "
            "book at the asylum office that holds the case."
        )
