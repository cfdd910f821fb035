"""Running a DynamoDB transaction with bounded, jittered retries on TransactionConflict.

A conflict means another transaction touched one of the same items at the same moment; the
attempt changed nothing, so trying again is safe. Each attempt carries its own client request
token, which makes the SDK's own retries of that attempt (timeouts, dropped connections)
idempotent: a retried request never applies twice.

Any other cancellation is a `TransactionRefused`, which says whose condition failed by item:
DynamoDB gives one cancellation reason per item in the order of the request it received, so
each reason is paired with the item of the request that was actually sent (seen through the
botocore client's own event hook), whatever order pynamodb put the items in.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import PynamoDBException, TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from appointments.errors import Busy, Throttled
from appointments.models import transaction_connection

MAX_ATTEMPTS = 6
BASE_DELAY_SECONDS = 0.02
MAX_DELAY_SECONDS = 0.5
THROTTLING_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceeded",
        "ThrottlingError",
    }
)


def _is_conflict_only(error: TransactWriteError) -> bool:
    codes = {reason.code for reason in error.cancellation_reasons if reason is not None}
    return "TransactionConflict" in codes and codes <= {"TransactionConflict", "None"}


def raise_if_throttled(error: PynamoDBException) -> None:
    """Turn DynamoDB throttling that outlasted the SDK's retries into a 429 for the caller."""
    codes = {error.cause_response_code}
    if isinstance(error, TransactWriteError):
        codes |= {reason.code for reason in error.cancellation_reasons if reason is not None}
    if codes & THROTTLING_CODES:
        raise Throttled("The service is busy. Please try again in a moment.") from error


class TransactionRefused(TransactWriteError):
    """A transaction DynamoDB cancelled for another reason than a conflict, read by item."""

    def __init__(self, error: TransactWriteError, sent_items: list[dict[str, Any]]) -> None:
        super().__init__(error.msg, error.cause)
        self._sent = list(zip(sent_items, error.cancellation_reasons, strict=False))

    def condition_failed(self, item: Model) -> bool:
        """Whether the condition the transaction put on `item` failed."""
        reason = self._reason_for(item)
        return reason is not None and reason.code == "ConditionalCheckFailed"

    def any_condition_failed(self) -> bool:
        return any(
            reason is not None and reason.code == "ConditionalCheckFailed"
            for _, reason in self._sent
        )

    def item_held(self, item: Model) -> dict[str, Any] | None:
        """The item as DynamoDB held it when its condition failed, if the transaction asked
        for it (ReturnValuesOnConditionCheckFailure=ALL_OLD) and it existed."""
        reason = self._reason_for(item)
        held: dict[str, Any] | None = reason.raw_item if reason is not None else None
        return held or None

    def _reason_for(self, item: Model) -> Any:
        table, key = item.Meta.table_name, _key_of(item)
        for sent, reason in self._sent:
            ((_, request),) = sent.items()  # {"Put" | "Update" | "Delete" | "ConditionCheck": …}
            named = request.get("Key") or request.get("Item") or {}
            if request.get("TableName") == table and all(
                named.get(name) == value for name, value in key.items()
            ):
                return reason
        return None


def _key_of(item: Model) -> dict[str, Any]:
    """The item's key as DynamoDB receives it ({attribute name: typed value})."""
    serialized = item.serialize(null_check=False)
    return {
        attribute.attr_name: serialized[attribute.attr_name]
        for attribute in type(item).get_attributes().values()
        if attribute.is_hash_key or attribute.is_range_key
    }


_items_sent: ContextVar[list[dict[str, Any]] | None] = ContextVar("items_sent", default=None)


def _remember_items_sent(params: dict[str, Any], **_: Any) -> None:
    sent = _items_sent.get()
    if sent is not None:
        sent[:] = params.get("TransactItems", [])


@contextmanager
def _items_sent_by(connection: Connection) -> Iterator[list[dict[str, Any]]]:
    """The TransactItems of the request the block sends through `connection`, as sent."""
    connection.client.meta.events.register(
        "provide-client-params.dynamodb.TransactWriteItems",
        _remember_items_sent,
        unique_id="appointments-transaction-items",
    )
    sent: list[dict[str, Any]] = []
    token = _items_sent.set(sent)
    try:
        yield sent
    finally:
        _items_sent.reset(token)


def run_transaction(write: Callable[[TransactWrite], None]) -> None:
    """Commit the items `write` adds, retrying conflicts; other cancellations raise
    TransactionRefused."""
    connection = transaction_connection()
    for attempt in range(MAX_ATTEMPTS):
        with _items_sent_by(connection) as sent:
            try:
                with TransactWrite(
                    connection=connection, client_request_token=uuid.uuid4().hex
                ) as transaction:
                    write(transaction)
            except TransactWriteError as error:
                raise_if_throttled(error)
                if not _is_conflict_only(error):
                    raise TransactionRefused(error, sent) from error
                ceiling = min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2**attempt)
                time.sleep(random.uniform(0, ceiling))  # noqa: S311 - jitter, not a secret
            else:
                return
    raise Busy("The service is busy. Please try again in a moment.")
