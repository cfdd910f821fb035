"""The notice as PDF: every language is drawn with the intended Noto fonts, every character
has a glyph in them (no missing-glyph boxes), and the text can be read back."""

from __future__ import annotations

import io
import subprocess
from functools import cache

import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from appointments.notices import LANGUAGES, render_html, render_pdf
from tests.helpers import (
    ALLOWED_EMBEDDED,
    embedded_fonts,
    sample_notice,
    sample_offices,
    visible_text,
)

HONOLULU = sample_offices()["honolulu"]
CASE_NUMBER = "ZAR2612345678"
# The font families the notice's stylesheet asks for, as fontconfig names them.
NOTICE_FONTS = ("Noto Sans", "Noto Sans CJK SC", "Noto Naskh Arabic")


@cache
def rendered(language: str) -> tuple[str, PdfReader]:
    html = render_html(sample_notice(language, service="asylum", case_number=CASE_NUMBER), HONOLULU)
    return html, PdfReader(io.BytesIO(render_pdf(html)))


@cache
def covered_characters() -> frozenset[int]:
    covered: set[int] = set()
    for family in NOTICE_FONTS:
        path = subprocess.run(
            ["fc-match", "-f", "%{file}", family], capture_output=True, text=True, check=True
        ).stdout
        assert "Noto" in path, f"{family} is not installed (fonts-noto-core, fonts-noto-cjk)"
        covered |= set(TTFont(path, fontNumber=0).getBestCmap())
    return frozenset(covered)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_character_of_the_notice_has_a_glyph(language: str) -> None:
    html, _ = rendered(language)
    missing = {
        f"U+{ord(character):04X}"
        for character in visible_text(html)
        if not character.isspace() and ord(character) not in covered_characters()
    }
    assert missing == set()


@pytest.mark.parametrize("language", LANGUAGES)
def test_pdf_uses_only_the_notice_fonts(language: str) -> None:
    _, reader = rendered(language)
    fonts = embedded_fonts(reader)
    assert fonts
    assert {font for font in fonts if not ALLOWED_EMBEDDED.match(font)} == set()


@pytest.mark.parametrize("language", LANGUAGES)
def test_pdf_text_reads_back(language: str) -> None:
    _, reader = rendered(language)
    text = "".join("".join(page.extract_text() for page in reader.pages).split())  # unwrapped
    assert "7K2M9QX4TR8" in text
    assert "ZAR2612345678" in text
    if language in ("en", "es", "fr", "pt", "pl", "ht", "tl"):
        assert "MaríaJoséGarcía-López" in text
