"""The site in 12 languages: every string translated, no English left on a translated page,
and pages read in the right direction."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from babel.messages.pofile import read_po

from appointments.site.i18n import LANGUAGES
from tests.helpers import REPO_ROOT, SiteVisitor

LOCALE_DIR = REPO_ROOT / "templates" / "locale"
TRANSLATED = [language for language in LANGUAGES if language != "en"]
_PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%%")


def site_template() -> set[str]:
    with (LOCALE_DIR / "site.pot").open("rb") as handle:
        return {message.id if isinstance(message.id, str) else message.id[0]
                for message in read_po(handle) if message.id}  # fmt: skip


def catalogue(language: str) -> dict[str, list[str]]:
    """msgid -> its translations (one, or one per plural form); fuzzy entries count as none."""
    with (LOCALE_DIR / language / "LC_MESSAGES" / "site.po").open("rb") as handle:
        return {
            (message.id if isinstance(message.id, str) else message.id[0]): (
                [message.string] if isinstance(message.string, str) else list(message.string or ())
            )
            for message in read_po(handle)
            if message.id and not message.fuzzy
        }


def test_site_template_holds_exactly_the_strings_the_site_translates(tmp_path: Path) -> None:
    fresh = tmp_path / "site.pot"
    subprocess.run(
        [Path(sys.executable).parent / "pybabel", "-q", "extract",
         "-F", "templates/site/babel.cfg", "-k", "N_", "-o", str(fresh),
         "--no-location", "--omit-header", "."],
        cwd=REPO_ROOT, check=True,
    )  # fmt: skip
    with fresh.open("rb") as handle:
        extracted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    assert extracted == site_template()


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_site_string_is_translated(language: str) -> None:
    translated = catalogue(language)
    missing = sorted(
        msgid for msgid in site_template()
        if not translated.get(msgid) or not all(form.strip() for form in translated[msgid])
    )  # fmt: skip
    assert missing == []


def english_fragments(language: str) -> set[str]:
    """Pieces of English sentences (between placeholders) that the language translates
    differently, long enough to be telling."""
    translated = catalogue(language)
    # English a translation quotes on purpose (the term on a USCIS form, in parentheses)
    quoted = " ".join(form for forms in translated.values() for form in forms)
    fragments = set()
    for msgid in site_template():
        if translated.get(msgid, [msgid])[0] == msgid:
            continue
        for piece in _PLACEHOLDER.split(msgid):
            fragment = piece.strip(" .,:;()")
            if len(fragment) >= 12 and " " in fragment and fragment not in quoted:
                fragments.add(fragment)
    return fragments


class _TemplateText(HTMLParser):
    """Text a template writes itself: its text and the attributes people read or hear."""

    READ_ATTRIBUTES = ("alt", "title", "aria-label", "placeholder")

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.extend(value or "" for name, value in attrs if name in self.READ_ATTRIBUTES)

    def handle_data(self, data: str) -> None:
        self.found.append(data)


_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
_WORD = re.compile(r"[A-Za-z]{2,}")
# Written the same in every language: the language switcher's own name (it is for someone who
# cannot read the page's language), the telephone number's prefix.
SAME_IN_EVERY_LANGUAGE = {"Language", "TTY"}


@pytest.mark.parametrize(
    "template", sorted((REPO_ROOT / "templates" / "site").rglob("*.j2")), ids=lambda p: p.name
)
def test_templates_write_no_text_of_their_own(template: Path) -> None:
    # Given a template with its Jinja expressions and statements taken out
    parser = _TemplateText()
    parser.feed(_JINJA.sub(" ", template.read_text(encoding="utf-8")))
    # Then no word is left: everything a person reads goes through the catalogue
    words = {word for text in parser.found for word in _WORD.findall(text)}
    assert words - SAME_IN_EVERY_LANGUAGE == set()


PAGES = (
    "",
    "/privacy",
    "/accessibility",
    "/book",
    "/book/offices?zip=96813",
    "/book/offices?zip=96799",
    "/book/offices?country=KE",
    "/book/services?office=honolulu",
    "/lost",
    "/lost/sent",
    "/appointment/sign-in",
    "/no-such-page",
)


@pytest.mark.usefixtures("open_slots")
@pytest.mark.parametrize("language", TRANSLATED)
def test_no_english_is_left_on_a_translated_page(language: str) -> None:
    # Given the site's pages in a language other than English
    visitor = SiteVisitor()
    fragments = english_fragments(language)
    left = {}
    for page in PAGES:
        path, _, query = page.partition("?")
        text = visitor.get(f"/{language}{path}", dict(parse_qsl(query)) or None).text
        # Then none of them shows an English sentence the language translates
        found = sorted(fragment for fragment in fragments if fragment in text)
        if found:
            left[page] = found
    assert left == {}


@pytest.mark.parametrize("language", ["en", "es", "ar"])
def test_an_address_under_a_language_without_a_page_is_the_sites_404_in_it(language: str) -> None:
    # When a visitor opens an address of the site that has no page
    page = SiteVisitor().get(f"/{language}/book/no/such/page")
    # Then the answer is the site's "no such page", in the address's language
    assert page.status == 404
    assert page.headers["content-type"].startswith("text/html")
    assert f'<html lang="{language}"' in page.html


def test_a_get_of_an_api_address_that_does_not_exist_is_the_apis_json_404() -> None:
    # When a client asks for an address of the JSON API that does not exist (the site's
    # catch-all route takes every GET nothing else serves)
    answer = SiteVisitor().get("/offices/new-york/no-such-thing")
    # Then the answer is the API's own 404, in its error contract
    assert answer.status == 404
    assert answer.headers["content-type"] == "application/json"
    assert json.loads(answer.html) == {
        "error": "not_found",
        "message": "There is no such resource.",
    }
