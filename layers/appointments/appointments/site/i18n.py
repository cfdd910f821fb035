"""The site's languages: `/{lang}/…` paths, the best language for a browser, the strings.

Strings are in the gettext domain "site" (templates/locale/<lang>/LC_MESSAGES/site.po).
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from babel.support import NullTranslations, Translations

from appointments.vocabulary import Language

LANGUAGES = tuple(language.value for language in Language)
DEFAULT_LANGUAGE = "en"
# Each language named in itself, for the language switcher.
LANGUAGE_NAMES = {
    "en": "English",
    "es": "Español",
    "fr": "Français",
    "zh": "中文",
    "vi": "Tiếng Việt",
    "ko": "한국어",
    "ru": "Русский",
    "ar": "العربية",
    "ht": "Kreyòl ayisyen",
    "pt": "Português",
    "tl": "Tagalog",
    "pl": "Polski",
}
# Browser language tags that name one of ours differently.
_TAG_ALIASES = {"fil": "tl", "cmn": "zh", "yue": "zh"}


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "translate later"
    return message


def templates_dir() -> Path:
    """templates/ of the repository, or SITE_TEMPLATES_DIR where the deployment puts it."""
    configured = os.environ.get("SITE_TEMPLATES_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[4] / "templates"


@cache
def translations(language: str) -> NullTranslations:
    """English is the templates' own text; any other language's compiled catalogue must be
    there (a page silently in English would be worse than an error)."""
    if language == DEFAULT_LANGUAGE:
        return NullTranslations()
    catalogue = templates_dir() / "locale" / language / "LC_MESSAGES" / "site.mo"
    with catalogue.open("rb") as compiled:
        return Translations(compiled, domain="site")


def best_language(accept_language: str | None) -> str:
    """The first of the browser's languages (by preference) that the site has; else English."""
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, parameters = part.strip().partition(";")
        quality = 1.0
        if parameters.strip().startswith("q="):
            try:
                quality = float(parameters.strip()[2:])
            except ValueError:
                continue
        primary = tag.strip().lower().split("-")[0]
        language = _TAG_ALIASES.get(primary, primary)
        if language in LANGUAGES and quality > 0:
            weighted.append((-quality, position, language))
    return min(weighted)[2] if weighted else DEFAULT_LANGUAGE
