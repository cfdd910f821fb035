"""Booking refusals on DynamoDB Local: every failed condition of the booking transaction is
reported, and each is read by the item it belongs to, so the slot's refusal is answered
before the applicant's."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from pynamodb.transactions import TransactWrite

from appointments.models import ApplicantModel, SlotModel
from appointments.offices import Office
from appointments.slots import SlotId
from appointments.transactions import TransactionRefused, run_transaction
from tests.helpers import (
    applicant,
    booking_body,
    call,
    next_weekday,
    on_dynamodb_calls,
    open_weekdays,
)


@pytest.fixture
def slots(offices: dict[str, Office]) -> list[dict[str, Any]]:
    open_weekdays([offices["new-york"]], next_weekday(), 1)
    response = call(
        "GET",
        "/offices/new-york/slots",
        query={"date": next_weekday().isoformat(), "service": "adit-stamp"},
    )
    return list(response.body["slots"])


@contextmanager
def cancellation_reasons() -> Iterator[list[list[str]]]:
    """The reason codes of every cancelled transaction, as DynamoDB sent them."""
    seen: list[list[str]] = []

    def record(parsed: dict[str, Any], **_: Any) -> None:
        if "CancellationReasons" in parsed:
            seen.append([reason["Code"] for reason in parsed["CancellationReasons"]])

    with on_dynamodb_calls("after-call", record, "TransactWriteItems"):
        yield seen


def book(slot_id: str, name: str = "Maria Garcia") -> Any:
    return call("POST", "/appointments", body=booking_body(slot_id, applicant=applicant(name=name)))


def test_full_slot_and_booked_applicant_both_fail_and_the_slot_is_answered(
    slots: list[dict[str, Any]],
) -> None:
    # Given an applicant with an appointment, and another slot filled by others
    first, second = slots[:2]
    assert book(first["slotId"]).status == 201
    for index in range(second["available"]):
        assert book(second["slotId"], name=f"Other Person{index}").status == 201
    # When the applicant tries the full slot
    with cancellation_reasons() as reasons:
        response = book(second["slotId"])
    # Then DynamoDB reports the guards of her person, phone and e-mail address and the slot
    # (puts: the appointment, the guards, the spent challenge; then the slot's update), and
    # the answer is the slot's
    failed = "ConditionalCheckFailed"
    assert reasons == [["None", failed, failed, failed, "None", failed]]
    assert (response.status, response.body["error"]) == (409, "slot_full")


def test_bookable_slot_and_booked_applicant_is_already_booked(
    slots: list[dict[str, Any]],
) -> None:
    first, second = slots[:2]
    assert book(first["slotId"]).status == 201
    with cancellation_reasons() as reasons:
        response = book(second["slotId"])
    failed = "ConditionalCheckFailed"
    assert reasons == [["None", failed, failed, failed, "None", "None"]]
    assert (response.status, response.body["error"]) == (409, "already_booked")
    assert "new-york" not in response.body["message"]


def test_a_refusal_is_read_by_item_whatever_order_the_items_were_sent_in(
    slots: list[dict[str, Any]],
) -> None:
    # Given a free slot, and an applicant guard that does not exist
    slot_id = SlotId.parse(slots[0]["slotId"])
    slot = SlotModel(slot_id.office_day, slot_id.start_time)
    guard = ApplicantModel("nobody-has-this-key")

    def write(tx: TransactWrite) -> None:
        tx.update(slot, actions=[SlotModel.booked.add(0)], condition=SlotModel.booked >= 0)
        tx.delete(guard, condition=ApplicantModel.applicant_key.exists())

    # When a transaction whose last item's condition fails is sent (pynamodb sends deletes
    # before updates, so that item goes first)
    with cancellation_reasons() as reasons, pytest.raises(TransactionRefused) as refused:
        run_transaction(write)
    # Then the refusal names the guard, not the slot
    assert reasons == [["ConditionalCheckFailed", "None"]]
    assert refused.value.condition_failed(guard)
    assert not refused.value.condition_failed(slot)
