"""Dates written for each language, whatever was formatted before."""

from __future__ import annotations

from datetime import date

from appointments.languages import month_names, month_text


def test_korean_month_names_stay_korean_after_chinese_ones() -> None:
    # Given Chinese month names formatted first
    month_names("zh")
    # When Korean and Arabic ones are formatted
    korean, arabic = month_text(date(2026, 12, 1), "ko"), month_names("ar")[0]
    # Then they are Korean and Arabic
    assert (korean, arabic) == ("12월 2026", "يناير")
