"""Faults injected into the AWS clients of the domain (botocore's event hooks), and delivery of
stream records as Lambda does it, retries included."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from botocore.awsrequest import AWSResponse, HTTPHeaders

from appointments import notice_files
from appointments.models import AppointmentModel, SlotModel, transaction_connection
from tests.helpers import deliver

CLIENTS: dict[str, Callable[[], Any]] = {
    "s3": notice_files._s3,
    "ses": notice_files._ses,
    "dynamodb": lambda: AppointmentModel._get_connection().connection.client,
    "dynamodb-slots": lambda: SlotModel._get_connection().connection.client,
    "dynamodb-transactions": lambda: transaction_connection().client,
}


class InvocationEnded(BaseException):
    """The invocation stops here, as when Lambda's timeout ends it: no handler runs after."""


def deliver_until_done(*records: dict[str, Any], attempts: int = 4) -> int:
    """Deliver `records` to the notice renderer as a stream does; return how many deliveries
    it took. After failed records, delivery starts again at the first failed one (the
    checkpoint); after a failed or ended invocation, the whole batch comes again."""
    pending = list(records)
    for attempt in range(1, attempts + 1):
        try:
            failures = deliver(*pending)["batchItemFailures"]
        except (Exception, InvocationEnded):  # a failed invocation: the whole batch again
            continue
        if not failures:
            return attempt
        checkpoint = min(failure["itemIdentifier"] for failure in failures)
        pending = [r for r in pending if r["dynamodb"]["SequenceNumber"] >= checkpoint]
    raise AssertionError(f"still failing after {attempts} deliveries")


@contextmanager
def answered_with_error(
    client: str,
    operation: str,
    code: str,
    message: str | Callable[[Any], str],
    *,
    status: int = 400,
    nth: int | None = 1,
) -> Iterator[list[int]]:
    """The `nth` request of `operation` (every one when None) gets an AWS error answer, as
    botocore would parse it; `message` may be made from the request's body. Yields the
    number of requests seen."""
    seen = [0]

    def answer(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        seen[0] += 1
        if nth is not None and seen[0] != nth:
            return None
        text = message(params.get("body")) if callable(message) else message
        parsed = {
            "Error": {"Code": code, "Message": text},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }
        return AWSResponse("https://aws", status, HTTPHeaders(), None), parsed

    events = CLIENTS[client]().meta.events
    service = events_service(client)
    events.register_first(f"before-call.{service}.{operation}", answer)
    try:
        yield seen
    finally:
        events.unregister(f"before-call.{service}.{operation}", answer)


@contextmanager
def invocation_ends(
    client: str, operation: str, *, after: bool, naming: str = ""
) -> Iterator[None]:
    """The invocation ends once, just before (or after) a request of `operation` whose body
    names `naming`: before, AWS never saw the request; after, AWS did it but the answer is
    lost."""
    ended = [False]

    def before_call(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["fault_here"] = not ended[0] and naming in str(params.get("body"))
        if context["fault_here"] and not after:
            ended[0] = True
            raise InvocationEnded

    def after_call(context: dict[str, Any], **_: Any) -> None:
        if context.get("fault_here") and after:
            ended[0] = True
            raise InvocationEnded

    events = CLIENTS[client]().meta.events
    service = events_service(client)
    events.register_first(f"before-call.{service}.{operation}", before_call)
    events.register_first(f"after-call.{service}.{operation}", after_call)
    try:
        yield
    finally:
        events.unregister(f"before-call.{service}.{operation}", before_call)
        events.unregister(f"after-call.{service}.{operation}", after_call)


def events_service(client: str) -> str:
    return client.split("-", 1)[0]
