"""The service's words as the site shows them: services and appointment statuses, translated
when shown (gettext domain "site")."""

from __future__ import annotations

from appointments.site.i18n import N_
from appointments.vocabulary import SERVICE_NAMES, AppointmentStatus

__all__ = ["SERVICE_NAMES", "STATUS_NAMES"]

STATUS_NAMES = {
    AppointmentStatus.BOOKED: N_("Booked"),
    AppointmentStatus.RESCHEDULED: N_("Booked (moved to a new time)"),
    AppointmentStatus.CANCELLED: N_("Cancelled"),
}
