"""The service's 12 languages as people read them: dates and times written for the language
(Babel), and the writing direction. Notices, e-mails and the web site share these."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime, timedelta
from functools import cache

from babel import Locale
from babel.dates import format_date, format_time, get_timezone_name
from babel.units import format_unit

# Babel's locale for each language of the service.
BABEL_LOCALES = {
    "en": "en_US",
    "es": "es_US",
    "fr": "fr",
    "zh": "zh_Hans_CN",
    "vi": "vi",
    "ko": "ko",
    "ru": "ru",
    "ar": "ar",
    "ht": "ht",
    "pt": "pt_BR",
    "tl": "fil",
    "pl": "pl",
}
# Regions CLDR names that are not countries of ISO 3166-1: groupings, codes ISO only reserves
# (Ascension, Canary Islands, Sark, …), Kosovo's provisional code, and CLDR's test regions.
_NOT_ISO_COUNTRIES = frozenset(
    {"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "XK", "ZZ"}
)
# CLDR has no Haitian Creole day and month names (Babel falls back to French).
_HT_DAYS = ("lendi", "madi", "mèkredi", "jedi", "vandredi", "samdi", "dimanch")
_HT_MONTHS = (
    "janvye", "fevriye", "mas", "avril", "me", "jen",
    "jiyè", "out", "septanm", "oktòb", "novanm", "desanm",
)  # fmt: skip


def _locale(language: str) -> Locale:
    """The language's parsed Babel locale (Haitian Creole's times and zones are French's)."""
    return _LOCALES[language]


def date_text(moment: date, language: str, *, weekday: bool = True) -> str:
    """The full date ("Friday, November 27, 2026") in `language`; without its weekday
    ("November 27, 2026") for a date of birth."""
    if language == "ht":
        day, month = _HT_DAYS[moment.weekday()], _HT_MONTHS[moment.month - 1]
        text = f"{moment.day} {month} {moment.year}"
        return f"{day} {text}" if weekday else text
    day_only = moment.date() if isinstance(moment, datetime) else moment
    return format_date(day_only, "full" if weekday else "long", locale=_locale(language))


def time_text(moment: datetime, language: str) -> str:
    return format_time(
        moment.time(), "short", locale=_locale("fr" if language == "ht" else language)
    )


def time_zone_text(time_zone: str, language: str) -> str:
    """A time zone as people name it ("Eastern Time"), with its IANA name if CLDR has none."""
    locale = _locale("fr" if language == "ht" else language)
    name = get_timezone_name(time_zone, "long", zone_variant="generic", locale=locale)
    return str(name) if name else time_zone


def month_text(month: date, language: str) -> str:
    """A month and its year, as a calendar's title ("December 2026")."""
    if language == "ht":
        return f"{_HT_MONTHS[month.month - 1]} {month.year}"
    return format_date(month, "LLLL y", locale=_locale(language))


_A_MONDAY = date(2024, 1, 1)


@cache
def weekday_names(language: str, *, wide: bool = False) -> tuple[str, ...]:
    """Monday to Sunday, as a calendar's column heads."""
    if language == "ht":
        return tuple(name if wide else name[:3].capitalize() for name in _HT_DAYS)
    pattern = "EEEE" if wide else "EEE"
    locale = _locale(language)
    return tuple(
        format_date(_A_MONDAY + timedelta(days=offset), pattern, locale=locale)
        for offset in range(7)
    )


@cache
def month_names(language: str) -> tuple[str, ...]:
    """January to December, for a date of birth's month field."""
    if language == "ht":
        return _HT_MONTHS
    locale = _locale(language)
    return tuple(format_date(date(2024, month, 1), "LLLL", locale=locale) for month in range(1, 13))


def distance_text(miles: float, language: str) -> str:
    """A distance in miles ("12.3 miles"), in `language`."""
    locale = _locale(language)
    text = format_unit(miles, "length-mile", length="long", locale=locale)
    if "length-mile" in text:
        # Babel writes the unit's id where CLDR has no long name for it (Chinese, Vietnamese)
        text = format_unit(miles, "length-mile", length="short", locale=locale)
    return str(text)


def _sort_key(name: str) -> str:
    """Accents and case set aside, as a reader of a list looks a name up."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@cache
def country_names(language: str) -> dict[str, str]:
    """Every country and territory of ISO 3166-1 (alpha-2 code → name in `language`), in the
    order of the names."""
    territories = _locale(language).territories
    names = {
        code: str(name)
        for code, name in territories.items()
        if len(code) == 2 and code.isalpha() and code not in _NOT_ISO_COUNTRIES
    }
    return dict(sorted(names.items(), key=lambda item: _sort_key(item[1])))


@cache
def direction(language: str) -> str:
    """ "rtl" or "ltr"."""
    return str(_locale(language).text_direction)


# Every language's locale is parsed once (a page formats dozens of times), and its data loaded
# before anything is formatted: in Babel 2.18, once a Chinese stand-alone month name has been
# formatted, a locale loaded afterwards (Korean, Arabic, Portuguese, Filipino) answers Chinese
# month names.
_LOCALES = {language: Locale.parse(identifier) for language, identifier in BABEL_LOCALES.items()}
for _language in BABEL_LOCALES:
    direction(_language)
