"""Dates written for each language, whatever was formatted before."""

from __future__ import annotations

from datetime import date

import pytest

from appointments.languages import (
    BABEL_LOCALES,
    country_names,
    date_text,
    distance_text,
    month_names,
    month_text,
)


def test_korean_month_names_stay_korean_after_chinese_ones() -> None:
    # Given Chinese month names formatted first
    month_names("zh")
    # When Korean and Arabic ones are formatted
    korean, arabic = month_text(date(2026, 12, 1), "ko"), month_names("ar")[0]
    # Then they are Korean and Arabic
    assert (korean, arabic) == ("12월 2026", "يناير")


@pytest.mark.parametrize("language", sorted(BABEL_LOCALES))
def test_every_country_of_iso_3166_is_named_in_each_language(language: str) -> None:
    # When the countries are named for a language
    names = country_names(language)
    # Then they are ISO 3166-1's 249 countries and territories, each with a name
    assert len(names) == 249
    assert {"MX", "KE", "IN", "AX", "SS", "US", "PR"} <= set(names)
    assert not {"EU", "EZ", "UN", "XK", "ZZ", "IC", "QO"} & set(names)
    assert all(names.values())


def test_countries_are_in_the_order_of_their_names_accents_aside() -> None:
    # Given the countries in French
    order = list(country_names("fr").values())
    # Then "Égypte" comes between "Danemark" and "Espagne"
    assert order.index("Danemark") < order.index("Égypte") < order.index("Espagne")


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "12.3 miles"), ("es", "12.3 millas"), ("zh", "12.3英里"), ("vi", "12,3 dặm")],
)
def test_distances_are_written_in_miles_for_the_language(language: str, expected: str) -> None:
    # Chinese and Vietnamese have no long name for the mile in CLDR: the short one is used
    assert distance_text(12.3, language) == expected


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "April 12, 1985"), ("es", "12 de abril de 1985"), ("ht", "12 avril 1985")],
)
def test_a_date_of_birth_is_written_without_its_weekday(language: str, expected: str) -> None:
    assert date_text(date(1985, 4, 12), language, weekday=False) == expected
