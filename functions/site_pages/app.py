"""The site's pages that change nothing: the start page, the statements, and `/`, which sends
a browser to the start page in its language."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from appointments.config import settings
from appointments.site.i18n import best_language
from appointments.site.pages import Visit
from appointments.site.resolver import site_function

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


lambda_handler = site_function(router)
