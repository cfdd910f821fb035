"""Faults injected into the domain's AWS requests (botocore's event hooks), and delivery of
stream records as Lambda does it, retries included."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from botocore.awsrequest import AWSResponse, HTTPHeaders

from appointments.config import settings
from tests.aws_hooks import hooked
from tests.helpers import deliver

# Where a fault strikes: a service, and for DynamoDB a table or any.
TARGETS: dict[str, tuple[str, str | None]] = {
    "s3": ("s3", None),
    "ses": ("ses", None),
    "dynamodb": ("dynamodb", None),
    "dynamodb:appointments": ("dynamodb", settings().appointments_table),
    "dynamodb:slots": ("dynamodb", settings().slots_table),
}


def aimed_at(target: str, params: dict[str, Any]) -> bool:
    """Whether a request about to be sent (botocore's `params`) is one `target` names."""
    _, table = TARGETS[target]
    return table is None or json.loads(params["body"] or b"{}").get("TableName") == table


@contextmanager
def hooked_on(
    target: str,
    operation: str,
    before_call: Callable[..., Any],
    after_call: Callable[..., Any] | None = None,
) -> Iterator[None]:
    """Handlers hooked to requests of `operation` to the target's service while the block runs
    (they tell the target's own requests apart with `aimed_at`)."""
    service, _ = TARGETS[target]
    with ExitStack() as stack:
        stack.enter_context(hooked(f"before-call.{service}.{operation}", before_call))
        if after_call is not None:
            stack.enter_context(hooked(f"after-call.{service}.{operation}", after_call))
        yield


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
    target: str,
    operation: str,
    code: str,
    message: str | Callable[[Any], str],
    *,
    status: int = 400,
    nth: int | None = 1,
) -> Iterator[list[int]]:
    """The `nth` request of `operation` to `target` (every one when None) gets an AWS error
    answer, as botocore would parse it; `message` may be made from the request's body. Yields
    the number of requests seen."""
    seen = [0]

    def answer(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if not aimed_at(target, params):
            return None
        seen[0] += 1
        if nth is not None and seen[0] != nth:
            return None
        text = message(params.get("body")) if callable(message) else message
        parsed = {
            "Error": {"Code": code, "Message": text},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }
        return AWSResponse("https://aws", status, HTTPHeaders(), None), parsed

    with hooked_on(target, operation, answer):
        yield seen


@contextmanager
def invocation_ends(
    target: str, operation: str, *, after: bool, naming: str = ""
) -> Iterator[None]:
    """The invocation ends once, just before (or after) a request of `operation` to `target`
    whose body names `naming`: before, AWS never saw the request; after, AWS did it but the
    answer is lost."""
    ended = [False]

    def before_call(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["fault_here"] = (
            not ended[0] and aimed_at(target, params) and naming in str(params.get("body"))
        )
        if context["fault_here"] and not after:
            ended[0] = True
            raise InvocationEnded

    def after_call(context: dict[str, Any], **_: Any) -> None:
        if context.get("fault_here") and after:
            ended[0] = True
            raise InvocationEnded

    with hooked_on(target, operation, before_call, after_call):
        yield
