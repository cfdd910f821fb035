"""The site's pages that change nothing: the start page, the statements, `/` (which sends a
browser to the start page in its language), and the booking journey's steps up to the time:
where, office, service, day, time."""

from __future__ import annotations

from datetime import UTC, date, datetime
from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from appointments import slots
from appointments.config import settings
from appointments.errors import InvalidRequest, NotFound
from appointments.offices import OfficeMatch, find_offices, is_military_mail_zip
from appointments.services import CASE_SERVICES, case_pending_at
from appointments.site import journey
from appointments.site.calendar import month_end, month_of
from appointments.site.i18n import best_language
from appointments.site.pages import Visit
from appointments.site.resolver import site_function
from appointments.vocabulary import Service

router = Router()


@router.get("/")
def root() -> Response[str]:
    language = best_language(router.current_event.headers.get("accept-language"))
    visit = Visit.of(router.current_event, language)
    return visit.redirect("")


@router.get("/<lang>")
def home(lang: str) -> Response[str]:
    return Visit.of(router.current_event, lang).page("home.html.j2")


@router.get("/<lang>/privacy")
def privacy(lang: str) -> Response[str]:
    visit = Visit.of(router.current_event, lang)
    return visit.page("privacy.html.j2", purge_after_days=settings().purge_after_days)


@router.get("/<lang>/accessibility")
def accessibility(lang: str) -> Response[str]:
    return Visit.of(router.current_event, lang).page("accessibility.html.j2")


# ------------------------------------------------------------------------ booking: browse


@router.get("/<lang>/book")
def where(lang: str) -> Response[str]:
    return journey.where_page(Visit.of(router.current_event, lang))


@router.get("/<lang>/book/offices")
def offices(lang: str) -> Response[str]:
    visit = Visit.of(router.current_event, lang)
    zip_code, country = visit.query("zip"), visit.query("country")
    if zip_code is not None:
        return _offices_for_zip(visit, zip_code.strip())
    if country is not None:
        return _offices_for_country(visit, country.strip().upper())
    return visit.redirect("/book")


def _offices_for_zip(visit: Visit, zip_code: str) -> Response[str]:
    if not zip_code:
        return journey.where_page(visit, errors={"zip": journey.WHERE_ERRORS["zip_missing"]})
    try:
        matches = find_offices(zip_code=zip_code, country=None)
    except InvalidRequest:
        return journey.where_page(
            visit, errors={"zip": journey.WHERE_ERRORS["zip_invalid"]}, values={"zip": zip_code}
        )
    except NotFound:
        matches = []
    if not matches:
        return _no_office(visit, searched_zip=zip_code, military=is_military_mail_zip(zip_code))
    return _offices_page(visit, matches, searched_zip=zip_code)


def _offices_for_country(visit: Visit, country: str) -> Response[str]:
    countries = journey.countries_abroad(visit)
    if country not in countries:
        problem = "country_invalid" if country else "country_missing"
        return journey.where_page(visit, errors={"country": journey.WHERE_ERRORS[problem]})
    matches = find_offices(zip_code=None, country=country)
    if not matches:
        return _no_office(visit, searched_country=countries[country])
    return _offices_page(visit, matches, searched_country=countries[country])


def _offices_page(
    visit: Visit,
    matches: list[OfficeMatch],
    *,
    searched_zip: str | None = None,
    searched_country: str | None = None,
) -> Response[str]:
    return visit.page(
        "book/offices.html.j2",
        steps=journey.step_labels(visit),
        step=journey.OFFICE,
        matches=journey.office_choices(matches, visit.language),
        searched_zip=searched_zip,
        searched_country=searched_country,
    )


def _no_office(
    visit: Visit,
    *,
    searched_zip: str | None = None,
    searched_country: str | None = None,
    military: bool = False,
) -> Response[str]:
    """Whom to call, where no office takes appointments online: never an empty list."""
    return visit.page(
        "book/no_office.html.j2",
        steps=journey.step_labels(visit),
        step=journey.OFFICE,
        searched_zip=searched_zip,
        searched_country=searched_country,
        military=military,
    )


@router.get("/<lang>/book/services")
def services(lang: str) -> Response[str]:
    return _services_page(Visit.of(router.current_event, lang))


def _services_page(visit: Visit, *, missing_choice: bool = False) -> Response[str]:
    office = journey.office_of(visit.query("office"))
    draft = journey.read_draft(visit, datetime.now(UTC))
    offered = [Service(service) for service in office.services]
    with_case = case_pending_at(office, draft.case_number)
    choices = [
        (service.value, journey.service_name(visit, service))
        for service in offered
        if service not in CASE_SERVICES or with_case
    ]
    errors = {"service": visit.gettext(journey.CHOOSE_A_SERVICE)} if missing_choice else {}
    return visit.page(
        "book/services.html.j2",
        status=HTTPStatus.UNPROCESSABLE_ENTITY if errors else HTTPStatus.OK,
        steps=journey.step_labels(visit),
        step=journey.SERVICE,
        office=office,
        choices=choices,
        needs_receipt=len(choices) < len(offered),
        errors=errors,
    )


@router.get("/<lang>/book/days")
def days(lang: str) -> Response[str]:
    visit = Visit.of(router.current_event, lang)
    if not visit.query("service"):
        return _services_page(visit, missing_choice=True)
    office = journey.office_of(visit.query("office"))
    service = journey.parse_service(visit.query("service"))
    now = datetime.now(UTC)
    earliest, latest = journey.office_today(office, now), journey.last_bookable_day(office, now)
    asked = journey.parse_month(visit.query("month")) or earliest
    month = min(max(asked, earliest), latest).replace(day=1)
    first, last = max(month, earliest), min(month_end(month), latest)
    listing = slots.list_free_days(office.office_id, service, first, last, now)

    def day_url(day: date) -> str:
        return journey.times_url(visit, office.office_id, service.value, day)

    def month_url(first_day: date) -> str:
        return journey.days_url(visit, office.office_id, service.value, first_day)

    return visit.page(
        "book/days.html.j2",
        steps=journey.step_labels(visit),
        step=journey.DATE,
        office=office,
        service_name=journey.service_name(visit, service),
        month=month_of(month, listing.days, visit.language, earliest=earliest, latest=latest),
        day_url=day_url,
        month_url=month_url,
    )


@router.get("/<lang>/book/times")
def times(lang: str) -> Response[str]:
    visit = Visit.of(router.current_event, lang)
    office = journey.office_of(visit.query("office"))
    service = journey.parse_service(visit.query("service"))
    day = journey.parse_day(visit.query("date"))
    listing = slots.list_free_slots(office.office_id, day, service, datetime.now(UTC))
    missing_choice = visit.query("missing") == "slot" and bool(listing.slots)
    errors = {"slot": visit.gettext(journey.CHOOSE_A_TIME)} if missing_choice else {}
    return visit.page(
        "book/times.html.j2",
        status=HTTPStatus.UNPROCESSABLE_ENTITY if errors else HTTPStatus.OK,
        steps=journey.step_labels(visit),
        step=journey.TIME,
        office=office,
        service=service.value,
        service_name=journey.service_name(visit, service),
        day=day,
        slots=listing.slots,
        errors=errors,
        calendar_url=journey.days_url(visit, office.office_id, service.value, day),
    )


lambda_handler = site_function(router)
