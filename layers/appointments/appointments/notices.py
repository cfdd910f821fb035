"""The printable appointment notice, rendered with Jinja2 in the appointment's language.

Strings are translated with gettext catalogues (templates/locale/<language>/LC_MESSAGES),
dates and times are written for the language with Babel, in the office's time zone, and
Arabic is laid out right to left. The PIN is never part of a notice. Everything the
applicant typed is escaped (Jinja2 autoescape).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import segno
from babel.support import NullTranslations, Translations
from jinja2 import Environment, FileSystemLoader, select_autoescape

from appointments.languages import date_text, direction, time_text
from appointments.offices import Office
from appointments.vocabulary import N_, SERVICE_NAMES, AppointmentStatus, Language, Service

LANGUAGES = tuple(Language)


SUBJECTS: dict[str, str] = {
    AppointmentStatus.BOOKED: N_("Your appointment notice"),
    AppointmentStatus.RESCHEDULED: N_("Your appointment was moved"),
    AppointmentStatus.CANCELLED: N_("Your appointment was cancelled"),
}


def templates_dir() -> Path:
    """templates/ of the repository, or NOTICE_TEMPLATES_DIR where the build puts it."""
    configured = os.environ.get("NOTICE_TEMPLATES_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[3] / "templates"


@dataclass(frozen=True)
class NoticeInput:
    """What a notice shows: never the PIN."""

    confirmation_number: str
    status: str
    name: str
    service: str
    case_number: str | None
    start_utc: datetime
    language: str


@dataclass(frozen=True)
class Notice:
    language: str
    direction: str
    status: str
    confirmation_number: str
    applicant_name: str
    service_name: str
    case_number: str | None
    date_text: str
    time_text: str
    office_name: str
    address_lines: list[str]
    qr_svg: str


@cache
def _translations(language: str) -> NullTranslations:
    """English is the templates' own text; any other language's compiled catalogue must be
    there (a notice silently in English is worse than a render that fails and is retried)."""
    if language == "en":
        return NullTranslations()
    catalogue = templates_dir() / "locale" / language / "LC_MESSAGES" / "messages.mo"
    with catalogue.open("rb") as compiled:
        return Translations(compiled, domain="messages")


@cache
def _environment(language: str) -> Environment:
    environment = Environment(
        loader=FileSystemLoader(str(templates_dir())),
        # HTML is escaped; the plain-text e-mail is not HTML.
        autoescape=select_autoescape(
            enabled_extensions=("html", "html.j2"), disabled_extensions=("txt.j2",), default=True
        ),
        extensions=["jinja2.ext.i18n"],
        auto_reload=False,
    )
    environment.install_gettext_translations(_translations(language), newstyle=True)  # type: ignore[attr-defined]
    return environment


def _qr_svg(confirmation_number: str, alternative_text: str) -> str:
    """The code as inline SVG; its <title> is what a screen reader says for it in the PDF."""
    svg: str = segno.make(confirmation_number, error="m").svg_inline(
        scale=4, omitsize=True, title=alternative_text
    )
    return svg


def notice_for(data: NoticeInput, office: Office) -> Notice:
    language = data.language if data.language in LANGUAGES else "en"
    gettext = _translations(language).gettext
    local_start = data.start_utc.astimezone(ZoneInfo(office.time_zone))
    address = office.address
    city_line = " ".join(
        part for part in (address.city, address.state, address.postal_code) if part
    )
    return Notice(
        language=language,
        direction=direction(language),
        status=data.status,
        confirmation_number=data.confirmation_number,
        applicant_name=data.name,
        service_name=gettext(SERVICE_NAMES[Service(data.service)]),
        case_number=data.case_number,
        date_text=date_text(local_start, language),
        time_text=time_text(local_start, language),
        office_name=office.name,
        address_lines=[address.street, city_line, address.country],
        qr_svg=_qr_svg(
            data.confirmation_number,
            f"{gettext('Confirmation number')} {data.confirmation_number}",
        ),
    )


def render_html(data: NoticeInput, office: Office) -> str:
    notice = notice_for(data, office)
    return _environment(notice.language).get_template("notice.html.j2").render(notice=notice)


def render_pdf(html: str) -> bytes:
    """The notice as a tagged PDF/UA-1 document (WeasyPrint; fonts from the system's Noto
    families): a screen reader reads it in reading order, in the language of <html lang>,
    under the title of <title>."""
    import weasyprint  # noqa: PLC0415 - heavy (pango, cairo): only the renderer loads it

    document = weasyprint.HTML(string=html, base_url=str(templates_dir()))
    pdf: bytes = document.write_pdf(pdf_variant="pdf/ua-1")
    return pdf


@dataclass(frozen=True)
class Mail:
    language: str
    direction: str
    status: str
    subject: str
    name: str
    office_name: str
    date_text: str
    time_text: str
    confirmation_number: str
    link: str
    link_days: int
    pin_reset_link: str | None
    pin_reset_minutes: int


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    html: str
    text: str


def render_mail(
    data: NoticeInput,
    office: Office,
    link: str,
    link_days: int,
    *,
    pin_reset_link: str | None,
    pin_reset_minutes: int,
) -> RenderedMail:
    """The e-mail with the notice's download link, in the appointment's language; with the
    link to set a new PIN when one was asked for."""
    notice = notice_for(data, office)
    subject = _translations(notice.language).gettext(
        SUBJECTS.get(data.status, SUBJECTS[AppointmentStatus.BOOKED])
    )
    mail = Mail(
        language=notice.language,
        direction=notice.direction,
        status=data.status,
        subject=subject,
        name=data.name,
        office_name=notice.office_name,
        date_text=notice.date_text,
        time_text=notice.time_text,
        confirmation_number=notice.confirmation_number,
        link=link,
        link_days=link_days,
        pin_reset_link=pin_reset_link,
        pin_reset_minutes=pin_reset_minutes,
    )
    environment = _environment(notice.language)
    return RenderedMail(
        subject=subject,
        html=environment.get_template("email.html.j2").render(mail=mail),
        text=environment.get_template("email.txt.j2").render(mail=mail),
    )
