"""The service's words as the site shows them: services and appointment statuses, translated
when shown (gettext domain "site")."""

from __future__ import annotations

from appointments.site.i18n import N_
from appointments.vocabulary import AppointmentStatus, Service

SERVICE_NAMES = {
    Service.ADIT_STAMP: N_("ADIT stamp (temporary proof of permanent residence)"),
    Service.EMERGENCY_ADVANCE_PAROLE: N_("Emergency advance parole"),
    Service.IMMIGRATION_JUDGE_GRANT: N_("Immigration judge grant"),
    Service.OTHER: N_("Other services"),
    Service.ASYLUM: N_("Asylum interview"),
    Service.NACARA: N_("NACARA interview"),
    Service.FEAR_SCREENING: N_("Credible or reasonable fear screening"),
}

STATUS_NAMES = {
    AppointmentStatus.BOOKED: N_("Booked"),
    AppointmentStatus.RESCHEDULED: N_("Booked (moved to a new time)"),
    AppointmentStatus.CANCELLED: N_("Cancelled"),
}
