"""The service's words, defined once: the API's schemas (and so the OpenAPI document), the
stored items, the office catalogue and the notices all use these values."""

from __future__ import annotations

from enum import StrEnum


class Service(StrEnum):
    ADIT_STAMP = "adit-stamp"
    EMERGENCY_ADVANCE_PAROLE = "emergency-advance-parole"
    IMMIGRATION_JUDGE_GRANT = "immigration-judge-grant"
    OTHER = "other"
    ASYLUM = "asylum"
    NACARA = "nacara"
    FEAR_SCREENING = "fear-screening"


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "translate later"
    return message


# What each service is called, in English: notices ("messages") and the site ("site") translate
# these in their own gettext domains.
SERVICE_NAMES = {
    Service.ADIT_STAMP: N_("ADIT stamp (temporary proof of permanent residence)"),
    Service.EMERGENCY_ADVANCE_PAROLE: N_("Emergency advance parole"),
    Service.IMMIGRATION_JUDGE_GRANT: N_("Immigration judge grant"),
    Service.OTHER: N_("Other services"),
    Service.ASYLUM: N_("Asylum interview"),
    Service.NACARA: N_("NACARA interview"),
    Service.FEAR_SCREENING: N_("Credible or reasonable fear screening"),
}


class Language(StrEnum):
    """The languages of notices and e-mails; each but English has a catalogue in
    templates/locale."""

    EN = "en"
    ES = "es"
    FR = "fr"
    ZH = "zh"
    VI = "vi"
    KO = "ko"
    RU = "ru"
    AR = "ar"
    HT = "ht"
    PT = "pt"
    TL = "tl"
    PL = "pl"


class AppointmentStatus(StrEnum):
    BOOKED = "booked"
    RESCHEDULED = "rescheduled"
    CANCELLED = "cancelled"


# An active appointment holds its seat and may still be changed.
ACTIVE_STATUSES = (AppointmentStatus.BOOKED, AppointmentStatus.RESCHEDULED)


class OfficeKind(StrEnum):
    FIELD_OFFICE = "field_office"
    INTERNATIONAL_OFFICE = "international_office"
    ASYLUM_OFFICE = "asylum_office"
