"""Running a DynamoDB transaction with bounded, jittered retries on TransactionConflict.

A conflict means another transaction touched one of the same items at the same moment; the
attempt changed nothing, so trying again is safe. Each attempt carries its own client request
token, which makes the SDK's own retries of that attempt (timeouts, dropped connections)
idempotent: a retried request never applies twice.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable

from pynamodb.exceptions import PynamoDBException, TransactWriteError
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


def run_transaction(write: Callable[[TransactWrite], None]) -> None:
    """Commit the items `write` adds, retrying conflicts; other cancellations propagate."""
    for attempt in range(MAX_ATTEMPTS):
        try:
            with TransactWrite(
                connection=transaction_connection(), client_request_token=uuid.uuid4().hex
            ) as transaction:
                write(transaction)
        except TransactWriteError as error:
            raise_if_throttled(error)
            if not _is_conflict_only(error):
                raise
            ceiling = min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2**attempt)
            time.sleep(random.uniform(0, ceiling))  # noqa: S311 - jitter, not a secret
        else:
            return
    raise Busy("The service is busy. Please try again in a moment.")


def failed_conditions(error: TransactWriteError) -> list[bool]:
    """Per transaction item (in pynamodb's order), whether its condition failed."""
    return [
        reason is not None and reason.code == "ConditionalCheckFailed"
        for reason in error.cancellation_reasons
    ]
