"""The printable notice in each language: key fields, translations, escaping, direction."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from appointments.notices import LANGUAGES, render_html
from tests.helpers import REPO_ROOT, sample_notice, sample_offices, visible_text

LOCALE_DIR = REPO_ROOT / "templates" / "locale"
HONOLULU = sample_offices()["honolulu"]
USCIS_CONTACT_CENTER = "800-375-5283"
# Phrases of the English notice; a notice in another language shows none of them.
ENGLISH_PHRASES = (
    "What to bring",
    "If you cannot come, cancel your appointment so someone else can have it.",
    "There is no penalty.",
    "decision letters or requests for evidence",
    "to pass the security check",
    "perfume bottles, other sharp objects",
    "Report anyone who asks you to pay for an appointment:",
    "Questions? Call the USCIS Contact Center:",
)


def catalogue(language: str) -> dict[str, str]:
    with (LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return {message.id: message.string for message in read_po(handle) if message.id}


def template_ids() -> set[str]:
    with (LOCALE_DIR / "messages.pot").open("rb") as handle:
        return {message.id for message in read_po(handle) if message.id}


def test_message_template_is_up_to_date(tmp_path: Path) -> None:
    # The committed messages.pot holds exactly the strings the code and templates translate
    fresh = tmp_path / "messages.pot"
    subprocess.run(
        [Path(sys.executable).parent / "pybabel", "-q", "extract", "-F", "babel.cfg",
         "-k", "N_", "-o", str(fresh), "--no-location", "--omit-header", "."],
        cwd=REPO_ROOT, check=True,
    )  # fmt: skip
    with fresh.open("rb") as handle:
        assert {m.id for m in read_po(handle) if m.id} == template_ids()


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != "en"])
def test_every_string_is_translated(language: str) -> None:
    translated = catalogue(language)
    missing = sorted(msgid for msgid in template_ids() if not translated.get(msgid))
    assert missing == []
    assert all("15" in translated[m] for m in template_ids() if "15" in m)


@pytest.mark.parametrize("language", LANGUAGES)
def test_notice_shows_the_key_fields_in_the_language(language: str) -> None:
    html = render_html(sample_notice(language), HONOLULU)
    text = visible_text(html)
    assert "7K2M9QX4TR8" in text
    assert "María José García-López" in text
    assert HONOLULU.name in text
    assert HONOLULU.address.street in text
    assert "27" in text and "2026" in text  # the local date, written for the language
    assert f'lang="{language}"' in html


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != "en"])
def test_notice_in_another_language_leaves_no_phrase_in_english(language: str) -> None:
    # Given the English notice, which says each of these phrases
    english = visible_text(render_html(sample_notice("en"), HONOLULU))
    assert [phrase for phrase in ENGLISH_PHRASES if phrase not in english] == []
    # When the notice is rendered in another language
    text = visible_text(render_html(sample_notice(language), HONOLULU))
    # Then none of them is left in English
    assert [phrase for phrase in ENGLISH_PHRASES if phrase in text] == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_notice_gives_the_contact_center_number_twice_as_one_left_to_right_run(
    language: str,
) -> None:
    # When the notice is rendered in any language (Arabic included)
    html = render_html(sample_notice(language), HONOLULU)
    # Then the number is there for reporting appointment sellers and for questions, each time
    # kept left to right and on one line
    assert visible_text(html).count(USCIS_CONTACT_CENTER) == 2
    assert html.count(f'<span class="phone" dir="ltr">{USCIS_CONTACT_CENTER}</span>') == 2


def test_dates_and_times_are_local_to_the_office_and_the_language() -> None:
    def text(language: str) -> str:
        return visible_text(render_html(sample_notice(language), HONOLULU))

    assert "Friday, November 27, 2026" in text("en")
    assert "7:45" in text("en")
    assert "viernes, 27 de noviembre de 2026" in text("es")
    assert "vandredi 27 novanm 2026" in text("ht")
    assert "2026年11月27日" in text("zh")


def test_arabic_notice_reads_right_to_left() -> None:
    html = render_html(sample_notice("ar"), HONOLULU)
    assert re.search(r'<html lang="ar" dir="rtl">', html)
    assert '<dd class="confirmation" dir="ltr">' in html  # codes stay left to right


def test_hostile_name_is_escaped() -> None:
    html = render_html(sample_notice(name='<script>alert("x")</script> & Co'), HONOLULU)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "&amp; Co" in html


def test_notice_never_contains_a_pin() -> None:
    html = render_html(sample_notice(), HONOLULU)
    assert "PIN" not in visible_text(html)
    assert not re.search(r"\b\d{6}\b", visible_text(html).replace("2026", ""))


def test_cancelled_and_rescheduled_notices_say_so() -> None:
    cancelled = visible_text(render_html(sample_notice(status="cancelled"), HONOLULU))
    moved = visible_text(render_html(sample_notice(status="rescheduled"), HONOLULU))
    assert "This appointment was cancelled" in cancelled
    assert "What to bring" not in cancelled
    assert "This notice replaces any earlier notice" in moved


def test_only_a_notice_of_a_coming_appointment_asks_to_cancel_it_if_you_cannot_come() -> None:
    def text(status: str) -> str:
        return visible_text(render_html(sample_notice(status=status), HONOLULU))

    request = "If you cannot come, cancel your appointment so someone else can have it."
    assert request in text("booked")
    assert request in text("rescheduled")
    assert request not in text("cancelled")


def test_notice_lists_what_to_bring_and_the_office_rules() -> None:
    text = visible_text(render_html(sample_notice(), HONOLULU))
    for phrase in (
        "passport", "Form I-94", "receipt notices", "decision letters",
        "requests for evidence", "Translations into English", "15 minutes",
        "to pass the security check", "no earlier", "cancelled", "scissors",
        "perfume bottles", "other sharp objects", "aerosols", "interpreter",
        "Appointments are free", "Contact Center", USCIS_CONTACT_CENTER,
    ):  # fmt: skip
        assert phrase in text


def test_qr_code_of_the_confirmation_number_is_embedded() -> None:
    html = render_html(sample_notice(), HONOLULU)
    assert "<svg" in html
    assert html.count("<svg") == 1


def render_in_a_fresh_process(language: str, templates: Path) -> subprocess.CompletedProcess[str]:
    script = (
        "from appointments.notices import render_html\n"
        "from tests.helpers import sample_notice, sample_offices\n"
        f"render_html(sample_notice({language!r}), sample_offices()['honolulu'])\n"
    )
    return subprocess.run(
        [sys.executable, "-c", script],
        env={
            **os.environ,
            "NOTICE_TEMPLATES_DIR": str(templates),
            "PYTHONPATH": f"{REPO_ROOT / 'layers' / 'appointments'}:{REPO_ROOT}",
        },
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_missing_catalogue_fails_the_render_rather_than_falling_back_to_english(
    tmp_path: Path,
) -> None:
    # Given templates whose catalogues were not compiled into the build
    for template in (REPO_ROOT / "templates").glob("*.j2"):
        (tmp_path / template.name).write_text(template.read_text())
    # When a Spanish notice is rendered, then it fails (the stream retries it) instead of
    # reaching the applicant in English
    spanish = render_in_a_fresh_process("es", tmp_path)
    assert spanish.returncode != 0
    assert "FileNotFoundError" in spanish.stderr
    # while English, the templates' own language, needs no catalogue
    assert render_in_a_fresh_process("en", tmp_path).returncode == 0


def test_the_languages_are_english_and_one_catalogue_each() -> None:
    # Given the translation catalogues in templates/locale
    catalogues = {path.parents[1].name for path in LOCALE_DIR.glob("*/LC_MESSAGES/messages.po")}
    # Then every language of the service but English (the templates' own) has one, and no
    # catalogue is for a language the service does not offer
    assert catalogues == {str(language) for language in LANGUAGES} - {"en"}
