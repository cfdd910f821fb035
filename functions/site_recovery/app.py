"""The site's pages for a lost notice or PIN.

/{lang}/lost asks for name, date of birth and phone, and always answers the same page
(lookup.request_notice_quietly: same requests, same minimum time): a match gets its notice
and a link to set a new PIN by e-mail. /{lang}/pin/{token} is that link: opening it changes
nothing (mail scanners open links); its button sets a new PIN, shown once on /{lang}/pin/new.
"""

from __future__ import annotations

from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from appointments import lookup, pin_reset
from appointments.api import utc_now
from appointments.errors import ResetLinkGone, ResetLinkInvalid
from appointments.languages import month_names
from appointments.observability import count
from appointments.site.pages import Visit
from appointments.site.recovery import LostForm, keep_new_pin, read_lost_form, take_new_pin
from appointments.site.resolver import site_function

router = Router()


def lost_form(visit: Visit, form: LostForm, status: int = HTTPStatus.OK) -> Response[str]:
    return visit.page(
        "lost.html.j2",
        status=status,
        personal=True,
        values=form.values,
        errors={name: visit.gettext(error.message) for name, error in form.errors.items()},
        focus={name: error.focus for name, error in form.errors.items()},
        month_names=month_names(visit.language),
    )


@router.get("/<lang>/lost")
def lost(lang: str) -> Response[str]:
    visit = Visit.of(router.current_event, lang)
    return lost_form(visit, LostForm(values={}))


@router.post("/<lang>/lost")
def ask_again(lang: str) -> Response[str]:
    visit = Visit.of(router.current_event, lang)
    now = utc_now()
    form = read_lost_form(visit.form(), now.date())
    if form.details is None:
        return lost_form(visit, form, HTTPStatus.UNPROCESSABLE_ENTITY)
    details = form.details
    lookup.request_notice_quietly(details.name, details.date_of_birth, details.phone, now=now)
    count("NoticeLookups")
    return visit.redirect("/lost/sent")


@router.get("/<lang>/lost/sent")
def sent(lang: str) -> Response[str]:
    visit = Visit.of(router.current_event, lang)
    return visit.page("lost-sent.html.j2", link_minutes=pin_reset.LINK_MINUTES)


# Before /pin/<token>: "new" is a page of its own, not a token.
@router.get("/<lang>/pin/new")
def new_pin(lang: str) -> Response[str]:
    visit = Visit.of(router.current_event, lang)
    return visit.page("pin-new.html.j2", personal=True, new_pin=take_new_pin(visit, utc_now()))


def link_refused(visit: Visit, error: ResetLinkInvalid | ResetLinkGone) -> Response[str]:
    return visit.page(
        "pin-link-refused.html.j2",
        status=error.status,
        personal=True,
        link_minutes=pin_reset.LINK_MINUTES,
    )


@router.get("/<lang>/pin/<token>")
def reset_form(lang: str, token: str) -> Response[str]:
    visit = Visit.of(router.current_event, lang)
    try:
        request = pin_reset.check_reset_link(token, utc_now())
    except (ResetLinkInvalid, ResetLinkGone) as error:
        return link_refused(visit, error)
    return visit.page(
        "pin-reset.html.j2",
        personal=True,
        token=token,
        confirmation_number=request.confirmation_number,
    )


@router.post("/<lang>/pin/<token>")
def reset(lang: str, token: str) -> Response[str]:
    visit = Visit.of(router.current_event, lang)
    visit.form()  # the CSRF check: only this site's own button sets a new PIN
    now = utc_now()
    try:
        new = pin_reset.reset_pin(token, now)
    except (ResetLinkInvalid, ResetLinkGone) as error:
        return link_refused(visit, error)
    count("PinResets")
    keep_new_pin(visit, new, now)
    return visit.redirect("/pin/new")


lambda_handler = site_function(router)
