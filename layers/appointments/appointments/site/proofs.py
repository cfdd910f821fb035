"""The proof a site form carries before it takes a seat (challenges.py): the ALTCHA widget's
solved challenge when the browser runs JavaScript, else the form's signed time-lock.

The time-lock is stamped when the form is shown and is accepted `wait` seconds later (more at
the release rush, challenges.wait_for): a person spends those seconds reading and typing, so
usually never sees it; a form sent sooner gets a page asking to wait, whose Continue button
sends it again (no automatic refresh: the person decides when to go on). It is single-use like
a solved challenge.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Mapping
from contextlib import suppress
from datetime import UTC, datetime, timedelta

from aws_lambda_powertools.event_handler import Response

from appointments import challenges
from appointments.challenges import Proof
from appointments.errors import ChallengeFailed
from appointments.site import security
from appointments.site.pages import Visit

PURPOSE = "time-lock"
WORK_FIELD = "altcha"  # the widget's hidden input
TIME_LOCK_FIELD = "time_lock"
EARLY = "challenge_early"  # the refusal's reason when a time-lock is not ripe yet


def new_time_lock(now: datetime) -> str:
    """A time-lock for a form shown now, ripe after the current rush level's wait."""
    wait = challenges.wait_for(challenges.rush_level(challenges.measured_demand(now)))
    expires = now + challenges.VALID_FOR
    payload = {"id": secrets.token_urlsafe(12), "ripe": (now + timedelta(seconds=wait)).timestamp()}
    return security.seal(PURPOSE, payload | {"until": int(expires.timestamp())}, expires)


def time_lock_proof(token: str | None, now: datetime) -> Proof:
    """The proof a time-lock is once ripe; ChallengeFailed ("early", with the seconds left,
    or "invalid")."""
    payload = security.unseal(PURPOSE, token, now)
    if payload is None:
        raise ChallengeFailed(
            "This form has expired. Please reload it.", reason="challenge_invalid"
        )
    ripe = datetime.fromtimestamp(float(payload["ripe"]), UTC)
    if now < ripe:
        raise ChallengeFailed(
            "Please wait a moment, then continue.",
            reason=EARLY,
            retry_after_seconds=math.ceil((ripe - now).total_seconds()),
        )
    return Proof(
        id=f"time#{payload['id']}",
        expires_at=datetime.fromtimestamp(int(payload["until"]), UTC),
    )


def proof_of(work: str | None, time_lock: str | None, now: datetime) -> Proof:
    """The form's proof: its solved challenge if valid, else its time-lock."""
    if work:
        with suppress(ChallengeFailed):
            return challenges.verify_work(work)
    return time_lock_proof(time_lock, now)


def wait_page(
    visit: Visit,
    early: ChallengeFailed,
    *,
    action: str,
    same_page: str,
    fields: Mapping[str, str] | None = None,
) -> Response[str]:
    """The page asking to wait the time-lock's last seconds; Continue sends the form to
    `action` (a path after the language) again, with `fields`."""
    return visit.page(
        "wait.html.j2",
        personal=True,
        same_page=same_page,
        seconds=early.retry_after_seconds or 1,
        action=action,
        fields=dict(fields or {}),
    )
