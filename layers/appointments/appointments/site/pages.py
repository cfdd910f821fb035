"""A visit to a page: the request as the site reads it, and the page it answers.

Pages are rendered with Jinja2 from templates/site in the visitor's language (gettext domain
"site"), escape everything, and carry the security headers. A page showing personal data is
never stored by the browser or any cache (`Cache-Control: no-store`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property, partial
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlencode

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.shared.cookies import Cookie
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from appointments.errors import AppointmentError
from appointments.languages import date_text, direction, time_text, time_zone_text
from appointments.site import security
from appointments.site.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGE_NAMES,
    LANGUAGES,
    N_,
    templates_dir,
    translations,
)

HTML_CONTENT_TYPE = "text/html; charset=utf-8"
MAX_FORM_BYTES = 16 * 1024


class FormExpired(AppointmentError):
    """A POST without the CSRF token of this browser: from another site, or a page so old
    that its cookie is gone."""

    status = HTTPStatus.FORBIDDEN
    code = "form_expired"


class PageNotFound(AppointmentError):
    status = HTTPStatus.NOT_FOUND
    code = "page_not_found"


# What the site says for each refusal of the domain (its own messages are the API's English).
ERROR_MESSAGES = {
    "form_expired": N_("This form has expired. Please go back, reload the page and try again."),
    "challenge_failed": N_("This form has expired. Please go back, reload the page and try again."),
    "page_not_found": N_("There is no such page."),
    "not_found": N_("We could not find what you asked for. Please check and try again."),
    "invalid_request": N_("Something in the request is not valid. Please go back and check it."),
    "service_not_offered": N_("This office does not offer that service. Please choose another."),
    "case_number_required": N_("This service needs your receipt number."),
    "case_not_pending_here": N_(
        "Your case is not pending at this office. Please check your receipt number."
    ),
    "slot_full": N_("That time was just taken. Please choose another time."),
    "slot_passed": N_("That time has already passed. Please choose a later time."),
    "already_booked": N_(
        "You already have an appointment. You can change or cancel it from My appointment."
    ),
    "already_booked_phone": N_(
        "This phone number is already given for another appointment. Each phone number may "
        "be given for one appointment at a time: give another number, or change or cancel "
        "that appointment."
    ),
    "already_booked_email": N_(
        "This e-mail address is already given for another appointment. Each address may be "
        "given for one appointment at a time: give another address or none, or change or "
        "cancel that appointment."
    ),
    "reschedule_limit": N_(
        "This appointment was already moved to another time as often as allowed. You can "
        "still cancel it and book a new one."
    ),
    "network_limit": N_(
        "Too many appointments were booked from your network today. Please try again "
        "tomorrow, or call the contact center at 800-375-5283 to book by phone."
    ),
    "not_active": N_("This appointment can no longer be changed."),
    "draft_expired": N_(
        "We keep your answers for 30 minutes only, and they are gone. Please start again."
    ),
    "wrong_pin": N_("The confirmation number or PIN is not correct."),
    "locked": N_("Too many wrong PINs. Please wait 15 minutes, then try again."),
    "busy": N_("Many people are booking right now. Please try again in a moment."),
    "throttled": N_("Many people are booking right now. Please try again in a moment."),
    "unavailable": N_("The service is not available right now. Please try again shortly."),
    "internal_error": N_("Something went wrong on our side. Please try again."),
}


def message_for(error: AppointmentError) -> str:
    """The site's message for a refusal: the rule's own if it has one, else its kind's."""
    return ERROR_MESSAGES.get(
        error.reason, ERROR_MESSAGES.get(error.code, ERROR_MESSAGES["internal_error"])
    )


@cache
def environment(language: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(templates_dir() / "site")),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        auto_reload=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        day_label=partial(date_text, language=language),
        time_label=partial(time_text, language=language),
        zone_label=partial(time_zone_text, language=language),
    )
    return env


def language_of_path(path: str) -> str | None:
    """The site language a path starts with (/es/…), if any."""
    first = path.strip("/").split("/", 1)[0]
    return first if first in LANGUAGES else None


@dataclass
class Visit:
    """One request to the site, in the language of its path."""

    event: BaseProxyEvent
    language: str
    cookies_to_set: list[Cookie] = field(default_factory=list)

    @classmethod
    def of(cls, event: BaseProxyEvent, language: str) -> Visit:
        if language not in LANGUAGES:
            raise PageNotFound("There is no such page.")
        return cls(event, language)

    # ------------------------------------------------------------------ reading the request

    @cached_property
    def cookies(self) -> dict[str, str]:
        jar: SimpleCookie = SimpleCookie()
        for name, value in self.event.headers.items():
            if name.lower() == "cookie":
                try:
                    jar.load(value)
                except CookieError:
                    continue
        return {name: morsel.value for name, morsel in jar.items()}

    def query(self, name: str) -> str | None:
        return self.event.get_query_string_value(name)

    def form(self) -> dict[str, str]:
        """The fields of a POSTed form (the first value of each), once its CSRF token is
        checked against this browser's cookie."""
        body = self.event.decoded_body or ""
        if len(body.encode()) > MAX_FORM_BYTES:
            raise FormExpired("The form is too large.")
        fields = {name: values[0] for name, values in parse_qs(body).items()}
        if not security.csrf_valid(
            self.cookies.get(security.CSRF_COOKIE), fields.get(security.CSRF_FIELD)
        ):
            raise FormExpired("The form's CSRF token does not match.")
        return fields

    @property
    def path_after_language(self) -> str:
        """The path without its /{lang} prefix, with the query: the same page in another
        language (the language switcher keeps the visitor's step)."""
        path = self.event.path
        rest = path.strip("/").split("/", 1)[1:]
        query = self.event.multi_value_query_string_parameters or {}
        suffix = f"?{urlencode(query, doseq=True)}" if query else ""
        return ("/" + rest[0] if rest else "") + suffix

    def gettext(self, message: str) -> str:
        return translations(self.language).gettext(message)

    # -------------------------------------------------------------------- answering

    def set_cookie(self, cookie: Cookie) -> None:
        self.cookies_to_set.append(cookie)

    def _csrf_token(self) -> str:
        secret = self.cookies.get(security.CSRF_COOKIE)
        if not secret:
            secret = security.new_csrf_secret()
            self.cookies[security.CSRF_COOKIE] = secret
            self.set_cookie(security.site_cookie(security.CSRF_COOKIE, secret))
        return security.csrf_token(secret)

    def page(
        self,
        template: str,
        *,
        status: int = HTTPStatus.OK,
        personal: bool = False,
        same_page: str | None = None,
        **context: Any,
    ) -> Response[str]:
        """The page `template` in the visitor's language. `personal`: it shows personal data.
        `same_page`: where this page is in another language (path after /{lang}, with its
        query), when it answers a form: its own address then takes a POST only."""
        body = (
            environment(self.language)
            .get_template(template)
            .render(
                lang=self.language,
                dir=direction(self.language),
                language_names=LANGUAGE_NAMES,
                path_after_language=self.path_after_language if same_page is None else same_page,
                csrf_field=security.CSRF_FIELD,
                csrf_token=self._csrf_token,
                **context,
            )
        )
        return self._answer(status, body, personal=personal)

    def redirect(self, path: str, query: Mapping[str, str] | None = None) -> Response[str]:
        """303 See Other to a page of the site in the visitor's language (POST-redirect-GET)."""
        location = f"/{self.language}{path}"
        if query:
            location += "?" + urlencode(query)
        return self._answer(HTTPStatus.SEE_OTHER, "", personal=True, location=location)

    def redirect_away(self, location: str) -> Response[str]:
        """303 See Other to an address outside the site (a short-lived download link)."""
        return self._answer(HTTPStatus.SEE_OTHER, "", personal=True, location=location)

    def download(self, body: str, *, content_type: str, filename: str) -> Response[str]:
        """A file to save (not a page), never stored by a cache: it holds personal data."""
        return self._answer(
            HTTPStatus.OK,
            body,
            personal=True,
            content_type=content_type,
            extra_headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    def _answer(
        self,
        status: int,
        body: str,
        *,
        personal: bool,
        location: str | None = None,
        content_type: str = HTML_CONTENT_TYPE,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Response[str]:
        headers: dict[str, str | list[str]] = dict(security.SECURITY_HEADERS)
        headers["Cache-Control"] = "no-store" if personal else "private, no-cache"
        if location is not None:
            headers["Location"] = location
        headers.update(extra_headers or {})
        return Response(
            status_code=status,
            content_type=content_type,
            body=body,
            headers=headers,
            cookies=list(self.cookies_to_set),
        )


def error_page(
    event: BaseProxyEvent, error: AppointmentError, cookies: Iterable[Cookie] = ()
) -> Response[str]:
    """The page of a refusal, in the language of the path (English outside /{lang}/)."""
    language = language_of_path(event.path) or DEFAULT_LANGUAGE
    visit = Visit(event, language, list(cookies))
    message = message_for(error)
    return visit.page(
        "error.html.j2",
        status=error.status,
        personal=True,
        message=visit.gettext(message),
        retry_after=error.retry_after_seconds,
    )
