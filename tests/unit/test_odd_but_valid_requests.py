"""Requests a person could really send, odd but acceptable (names in any script, with accents,
apostrophes, at the length limit; phones written every way; dates of birth at the edges; slot
ids that parse but lead nowhere; every language and service), reach the domain through the
handler: never a server error, only the documented answers, some of them bookings, and the
person's details never in a refusal nor in the logs."""

from __future__ import annotations

import io
import logging
import re
from collections import Counter
from datetime import date, timedelta
from typing import Any

import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appointments.schemas import EARLIEST_BIRTH_DATE
from tests.helpers import ApiResponse, book, call

pytestmark = pytest.mark.usefixtures("open_slots")

LANGUAGES = ["en", "es", "fr", "zh", "vi", "ko", "ru", "ar", "ht", "pt", "tl", "pl"]
FIELD_OFFICE_SERVICES = [
    "adit-stamp",
    "emergency-advance-parole",
    "immigration-judge-grant",
    "other",
]
ASYLUM_SERVICES = ["asylum", "nacara", "fear-screening"]
NAME_LIMIT = 200
# Family names that cannot occur in a log by chance, so finding the name there means a leak.
FAMILY_NAMES = [
    "O'Connor-Nguyễn",
    "Dvořák Øster",
    "D\u2019Arcy-Ağaoğlu",
    "王小明",
    "Al-Hāshimī",
    "N'Diaye Ñúñez",
    "Łukasiewicz",
    "Ó Briain",
]
# The same examples every run (derived from each test's source): a run proves what the last one
# proved, and a count of outcomes (at least five bookings made) cannot come out short by chance.
odd_booking = settings(
    max_examples=20,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

given_names = st.text(
    alphabet=st.characters(categories=("L", "M"), include_characters=" '\u2019-."),
    min_size=1,
    max_size=40,
).filter(lambda text: text.strip() != "")


@st.composite
def names(draw: st.DrawFn) -> str:
    """A given name in any script, then a distinctive family name; sometimes exactly as long
    as the API allows."""
    name = f"{draw(given_names).strip()} {draw(st.sampled_from(FAMILY_NAMES))}"
    if draw(st.booleans()):
        name = "A" * (NAME_LIMIT - len(name)) + name
    return name


US_AREA_CODES = ["202", "212", "305", "415", "617", "808", "907"]


@st.composite
def us_phones(draw: st.DrawFn) -> str:
    area = draw(st.sampled_from(US_AREA_CODES))
    line = f"{draw(st.integers(100, 199)):04d}"
    written = draw(
        st.sampled_from(
            [
                "{a}555{l}",
                "{a}-555-{l}",
                "{a}.555.{l}",
                "({a}) 555-{l}",
                "+1{a}555{l}",
                "+1 {a} 555 {l}",
                "+1-{a}-555-{l}",
                "1 ({a}) 555.{l}",
                " {a} 555 {l} ",
            ]
        )
    )
    return written.format(a=area, l=line)


@st.composite
def international_phones(draw: st.DrawFn) -> str:
    region = draw(st.sampled_from(["GB", "FR", "MX", "PH", "VN", "KR", "CN", "HT", "BR", "PL"]))
    number = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    assert number is not None
    style = draw(
        st.sampled_from(
            [phonenumbers.PhoneNumberFormat.INTERNATIONAL, phonenumbers.PhoneNumberFormat.E164]
        )
    )
    return phonenumbers.format_number(number, style)


# Each person's own (one active appointment per phone number and per e-mail address): the
# international example numbers are one per country, so they come up less often.
phones = us_phones() | us_phones() | us_phones() | international_phones()
dates_of_birth = st.sampled_from(
    [EARLIEST_BIRTH_DATE, date(2000, 2, 29), date.today() - timedelta(days=1), date.today()]
) | st.dates(EARLIEST_BIRTH_DATE, date.today())
emails = st.none() | st.builds(
    lambda number, form: form.format(number),
    st.integers(0, 10**9),
    st.sampled_from(["maria.{}@example.com", "o'connor.{}+notices@example.co.uk"]),
)
people = st.fixed_dictionaries(
    {
        "name": names(),
        "dateOfBirth": dates_of_birth.map(date.isoformat),
        "phone": phones,
        "email": emails,
    }
)

# Receipt numbers of cases pending at the Arlington asylum office, written as people write them.
odd_case_numbers = st.sampled_from(
    ["ZAR2612345678", "zar 2612345678", " ZAR-26-1234-5678 ", "zaR26 1234 5678"]
)


def phone_forms(phone: str) -> list[str]:
    """The phone as written, in E.164, and a US number's ten digits (shorter national numbers
    are left out: they occur inside other numbers, such as the example case number)."""
    parsed = phonenumbers.parse(phone, "US")
    assert parsed is not None
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    national = str(parsed.national_number)
    return [phone.strip(), e164, *([national] if len(national) >= 10 else [])]


def personal_values(person: dict[str, Any]) -> list[str]:
    """What must not appear where the person is not its holder. A date of birth of the last
    few days is left out: today's and the coming days' dates are in every log line."""
    values = [person["name"].strip(), *phone_forms(person["phone"])]
    if date.fromisoformat(person["dateOfBirth"]) < date.today() - timedelta(days=14):
        values.append(person["dateOfBirth"])
    return values


def assert_told_nothing_personal(text: str, person: dict[str, Any], pins: list[str]) -> None:
    for value in personal_values(person):
        assert value not in text, f"{value!r} appeared"
    for pin in pins:
        assert not re.search(rf"(?<!\d){pin}(?!\d)", text), "a PIN appeared"


class Logs:
    """What the functions logged since the last `new()`."""

    def __init__(self, stream: io.StringIO, caplog: pytest.LogCaptureFixture) -> None:
        self.stream, self.caplog = stream, caplog
        caplog.set_level(logging.INFO)

    def new(self) -> str:
        text = self.stream.getvalue() + self.caplog.text
        self.stream.seek(0)
        self.stream.truncate()
        self.caplog.clear()
        return text


@pytest.fixture
def logs(log_output: io.StringIO, caplog: pytest.LogCaptureFixture) -> Logs:
    return Logs(log_output, caplog)


def listed_slots(office_id: str, day: date, service: str) -> list[str]:
    response = call(
        "GET", f"/offices/{office_id}/slots", query={"date": day.isoformat(), "service": service}
    )
    assert response.status == 200, response.body
    return [slot["slotId"] for slot in response.body["slots"]]


def parseable_slot_ids(listed: list[str], days: list[date]) -> st.SearchStrategy[str]:
    """Slot ids that parse: real ones, and ones for an unknown office, a day with no slots,
    a time between slots, or a day that has passed."""
    real = st.sampled_from(listed)
    office, _, when = listed[0].partition(":")
    start = when.partition("T")[2]
    elsewhere = st.sampled_from(["nowhere", "new-yorkk", "NEW-YORK", "honolulu"]).map(
        lambda other: f"{other}:{when}"
    )
    other_days = st.builds(
        lambda day: f"{office}:{day.isoformat()}T{start}",
        st.dates(date(2000, 1, 1), date(2099, 12, 31)).filter(lambda day: day not in days),
    )
    between = st.builds(lambda minute: f"{when[:-2]}{minute:02d}", st.integers(0, 59))
    return real | real | real | elsewhere | other_days | between


def assert_documented(response: ApiResponse, allowed: set[int]) -> None:
    assert response.status in allowed, response.body
    if response.status >= 400:
        assert set(response.body) == {"error", "message"}


def test_odd_but_valid_bookings_are_booked_or_refused_as_documented(
    open_slots: dict[str, Any], logs: Logs
) -> None:
    days = open_slots["days"]
    field_slots = listed_slots("new-york", days[0], "adit-stamp") + listed_slots(
        "honolulu", days[1], "adit-stamp"
    )
    asylum_slots = listed_slots("arlington-asylum", days[0], "asylum")
    outcomes: Counter[int] = Counter()
    field_offers = st.tuples(
        parseable_slot_ids(field_slots, days),
        st.sampled_from(FIELD_OFFICE_SERVICES),
        st.none() | st.just("ZAR2612345678"),
    )
    asylum_offers = st.tuples(
        st.sampled_from(asylum_slots), st.sampled_from(ASYLUM_SERVICES), odd_case_numbers
    )
    mismatched_offers = st.tuples(
        st.sampled_from(field_slots + asylum_slots),
        st.sampled_from(FIELD_OFFICE_SERVICES + ASYLUM_SERVICES),
        st.none() | odd_case_numbers | st.just("ZNY2612345678"),
    )

    @odd_booking
    @given(
        offer=field_offers | field_offers | asylum_offers | mismatched_offers,
        language=st.sampled_from(LANGUAGES),
        person=people,
    )
    def attempt(offer: tuple[str, str, str | None], language: str, person: dict[str, Any]) -> None:
        slot_id, service, case_number = offer
        # Given a booking a person could send, odd but acceptable
        body = {
            "officeId": slot_id.split(":", maxsplit=1)[0],
            "service": service,
            "slotId": slot_id,
            "applicant": person,
            "language": language,
            "caseNumber": case_number,
        }
        # When it is sent
        response = call("POST", "/appointments", body=body)
        logged = logs.new()
        outcomes[response.status] += 1
        # Then it is booked, or refused with a documented answer that says nothing of them
        assert_documented(response, {201, 404, 409, 422})
        pins = [response.body["pin"]] if response.status == 201 else []
        assert_told_nothing_personal(logged, person, pins)
        if response.status == 201:
            assert response.body["applicant"]["name"] == person["name"].strip()
            assert (response.body["slotId"], response.body["language"]) == (slot_id, language)
        else:
            assert_told_nothing_personal(str(response.body), person, [])

    attempt()
    assert outcomes[201] >= 5, outcomes  # the odd requests did reach the bookings


def test_odd_but_valid_lookups_always_get_the_same_answer(logs: Logs) -> None:
    booked = book()
    maria_written_differently = {
        "name": "  Maria Garcia ",
        "dateOfBirth": "1985-04-12",
        "phone": "(202) 555-0143",
    }
    answers: Counter[str] = Counter()

    @odd_booking
    @given(person=people | st.just(maria_written_differently))
    def attempt(person: dict[str, Any]) -> None:
        # Given details someone could send to recover a notice, matching or not
        # When they are sent
        details = {key: person[key] for key in ("name", "dateOfBirth", "phone")}
        response = call("POST", "/appointments/lookup", body=details)
        # Then the answer is the same 202 whatever they are, and nothing of them is logged
        assert response.status == 202, response.body
        answers[response.body["message"]] += 1
        assert_told_nothing_personal(logs.new(), {**person, "email": None}, [booked["pin"]])

    attempt()
    assert len(answers) == 1


def test_moving_a_booking_to_any_slot_id_that_parses_is_answered_as_documented(
    open_slots: dict[str, Any], logs: Logs
) -> None:
    days = open_slots["days"]
    listed = listed_slots("new-york", days[0], "adit-stamp")
    booked = book(listed[0])
    path = f"/appointments/{booked['confirmationNumber']}/slot"
    outcomes: Counter[int] = Counter()

    @odd_booking
    @given(
        slot_id=parseable_slot_ids(listed + listed_slots("new-york", days[1], "adit-stamp"), days)
    )
    def attempt(slot_id: str) -> None:
        # Given the holder of a booking and a slot id that parses
        # When they move the booking there
        response = call(
            "PUT", path, headers={"X-Appointment-Pin": booked["pin"]}, body={"slotId": slot_id}
        )
        outcomes[response.status] += 1
        # Then it moves, or is refused as documented, and nothing of theirs is logged
        assert_documented(response, {200, 404, 409, 422})
        assert_told_nothing_personal(logs.new(), booked["applicant"], [booked["pin"]])

    attempt()
    assert outcomes[200] >= 1, outcomes
