"""Test hooks on the requests of every AWS client in the process, through botocore's events.

botocore registers its built-in handlers (`botocore.handlers.BUILTIN_HANDLERS`, a public list:
moto hooks in the same way) on every session it creates, and every client copies the handlers of
its session. One dispatcher added there before the first session exists reaches every client the
domain creates later (pynamodb's, boto3's), so a test hooks a handler for a while without knowing
which clients the domain keeps, or how.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from botocore.handlers import BUILTIN_HANDLERS

Handler = Callable[..., Any]
# The events tests hook: the request's parameters, the request about to be sent (a handler may
# answer instead of the service), and the parsed answer.
EVENTS = ("before-parameter-build", "before-call", "after-call")

active: list[tuple[str, Handler]] = []


def dispatch(event_name: str, **kwargs: Any) -> Any:
    """Run the hooks of `event_name`, oldest first; the first answer wins, as botocore sends a
    request only when no before-call handler answered it."""
    for hooked_name, handler in tuple(active):  # a copy: a test may unhook meanwhile
        if event_name == hooked_name or event_name.startswith(f"{hooked_name}."):
            answer = handler(event_name=event_name, **kwargs)
            if answer is not None:
                return answer
    return None


def install() -> None:
    """Add the dispatcher to botocore's built-in handlers, once (before any client exists)."""
    for event in EVENTS:
        if (event, dispatch) not in BUILTIN_HANDLERS:
            BUILTIN_HANDLERS.append((event, dispatch))


@contextmanager
def hooked(event_name: str, handler: Handler) -> Iterator[None]:
    """`handler` runs on `event_name` ("after-call.dynamodb", "before-call.s3.PutObject", …) of
    every client while the block runs."""
    hook = (event_name, handler)
    active.append(hook)
    try:
        yield
    finally:
        active.remove(hook)
