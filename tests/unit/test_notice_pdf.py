"""The notice as PDF: every language is drawn with the intended Noto fonts, every character
has a glyph in them (no missing-glyph boxes), the text can be read back, and the document is
tagged PDF/UA-1 for screen readers, in the notice's language."""

from __future__ import annotations

import html as html_text
import io
import re
import subprocess
from collections.abc import Iterator
from functools import cache
from typing import Any
from xml.etree import ElementTree

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
# A left-to-right, a right-to-left and a CJK notice.
TAGGED_LANGUAGES = ("en", "ar", "zh")
PDF_UA_ID = "{http://www.aiim.org/pdfua/ns/id/}part"


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


def document_catalog(reader: PdfReader) -> Any:
    """The document's root dictionary: its language, tagging, structure tree, metadata."""
    return reader.root_object


def pdf_ua_part(reader: PdfReader) -> str | None:
    """The PDF/UA part the document's XMP metadata claims to conform to."""
    metadata = document_catalog(reader).get("/Metadata")
    if metadata is None:
        return None
    for element in ElementTree.fromstring(metadata.get_object().get_data()).iter():
        part = element.get(PDF_UA_ID) or (element.text if element.tag == PDF_UA_ID else None)
        if part:
            return part
    return None


def structure_elements(reader: PdfReader) -> Iterator[Any]:
    """Every element of the document's structure tree, depth first."""
    tree = document_catalog(reader).get("/StructTreeRoot")
    pending = [tree["/K"]] if tree else []
    while pending:
        kids = pending.pop().get_object()
        for kid in kids if isinstance(kids, list) else [kids]:
            element = kid.get_object()
            if isinstance(element, dict) and "/S" in element:
                yield element
                pending.extend([element["/K"]] if "/K" in element else [])


def fonts_without_a_font_file(reader: PdfReader) -> set[str]:
    """The fonts the pages draw with whose program is not in the file."""
    missing: set[str] = set()
    for page in reader.pages:
        resources: Any = page["/Resources"]
        for reference in resources["/Font"].values():
            font: Any = reference.get_object()
            described = (
                font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            )
            descriptor = described.get("/FontDescriptor")
            programs = set(descriptor.get_object()) if descriptor else set()
            if not {"/FontFile", "/FontFile2", "/FontFile3"} & programs:
                missing.add(str(font["/BaseFont"]))
    return missing


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
    assert text.count("800-375-5283") == 2  # the USCIS Contact Center, in one piece
    if language in ("en", "es", "fr", "pt", "pl", "ht", "tl"):
        assert "MaríaJoséGarcía-López" in text


@pytest.mark.parametrize("language", TAGGED_LANGUAGES)
def test_pdf_is_tagged_pdf_ua_in_the_language_of_the_notice(language: str) -> None:
    # When the notice is drawn as PDF
    _, reader = rendered(language)
    document = document_catalog(reader)
    # Then it says it conforms to PDF/UA-1, is tagged, and gives its language
    assert pdf_ua_part(reader) == "1"
    assert bool(document.get("/MarkInfo", {}).get("/Marked"))
    assert {str(element["/S"]) for element in structure_elements(reader)} >= {
        "/Document", "/H1", "/H2", "/P", "/L", "/LI", "/Figure",
    }  # fmt: skip
    assert document["/Lang"] == language


@pytest.mark.parametrize("language", TAGGED_LANGUAGES)
def test_pdf_title_is_the_notice_title(language: str) -> None:
    html, reader = rendered(language)
    title = re.search(r"<title>(.*?)</title>", html)
    assert title is not None
    assert reader.metadata is not None
    assert reader.metadata.title == html_text.unescape(title.group(1))
    # shown by a reader instead of the file name
    preferences = document_catalog(reader).get("/ViewerPreferences", {})
    assert bool(preferences.get("/DisplayDocTitle"))


@pytest.mark.parametrize(
    ("language", "label"),
    [("en", "Confirmation number"), ("ar", "رقم التأكيد"), ("zh", "确认号码")],
)
def test_pdf_describes_the_qr_code_in_the_language_of_the_notice(language: str, label: str) -> None:
    _, reader = rendered(language)
    figures = [element for element in structure_elements(reader) if element["/S"] == "/Figure"]
    assert [str(figure.get("/Alt")) for figure in figures] == [f"{label} 7K2M9QX4TR8"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_pdf_embeds_every_font_it_draws_with(language: str) -> None:
    _, reader = rendered(language)
    assert fonts_without_a_font_file(reader) == set()


@pytest.mark.parametrize("language", LANGUAGES)
def test_notice_fits_on_one_page(language: str) -> None:
    _, reader = rendered(language)
    assert len(reader.pages) == 1
