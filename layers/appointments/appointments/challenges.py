"""Taking a seat costs work: a solved proof-of-work challenge, or, without JavaScript, time.

Booking and moving an appointment need a proof (API and site alike):
- a solved ALTCHA challenge (v2, PBKDF2/SHA-256: the browser's WebCrypto computes it as fast
  as native code, so a script's CPU buys no more than a person's phone): `GET /challenge`
  gives one, signed with a key derived from the service secret; the client finds the counter
  whose derived key starts with the signed prefix. Verifying it is one HMAC, no request.
- or a signed time-lock (the site's fallback for browsers without JavaScript): a token stamped
  when the details form was shown and accepted only `wait` seconds later, so it costs a script
  exactly the seconds it costs a person, who spends them typing anyway.

Either proof is single-use: the booking's (or move's) own transaction puts its id in the
challenges table on condition that it is not there yet (TTL: its expiry), so a replay is
refused and no request is added.

How much work: the demand of the last minute (challenges handed out, counted in a few shard
items so the count is no hot item) sets it. Calm (the rest of the day) a proof takes a
fraction of a second; at the release minute, the work and the wait rise geometrically with
demand up to CHALLENGE_RUSH_WORK derivations and TIME_LOCK_RUSH_SECONDS.
"""

from __future__ import annotations

import base64
import json
import math
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import altcha
from pynamodb.exceptions import UpdateError
from pynamodb.expressions.operand import Path
from pynamodb.transactions import TransactWrite

from appointments import codes
from appointments.config import settings
from appointments.errors import ChallengeFailed
from appointments.models import LimitModel
from appointments.transactions import raise_if_throttled

ALGORITHM = "PBKDF2/SHA-256"
PBKDF2_ITERATIONS = 1_000  # one derivation: about a millisecond, in a browser or natively
VALID_FOR = timedelta(minutes=30)  # as long as the site keeps a journey's answers
DEMAND_SHARDS = 10
CALM_DEMAND_PER_MINUTE = 30  # at or below: calm


@dataclass(frozen=True)
class Proof:
    """A verified proof of work or time, to be spent by one transaction."""

    id: str  # "work#<nonce>" or "time#<id>": unique across both kinds
    expires_at: datetime


def _key(purpose: str) -> bytes:
    return bytes.fromhex(codes.digest(purpose))


def rush_level(demand_per_minute: int) -> float:
    """0 when calm, 1 at CHALLENGE_RUSH_DEMAND challenges a minute or more, geometric between."""
    rush = max(settings().challenge_rush_demand, CALM_DEMAND_PER_MINUTE + 1)
    if demand_per_minute <= CALM_DEMAND_PER_MINUTE:
        return 0.0
    level = math.log(demand_per_minute / CALM_DEMAND_PER_MINUTE)
    return min(1.0, level / math.log(rush / CALM_DEMAND_PER_MINUTE))


def _between(calm: float, rush: float, level: float) -> float:
    return float(calm * (rush / calm) ** level)


def work_for(level: float) -> int:
    """Mean derivations a challenge of that rush level takes."""
    config = settings()
    return round(_between(config.challenge_calm_work, config.challenge_rush_work, level))


def wait_for(level: float) -> int:
    """Seconds a time-lock of that rush level takes."""
    config = settings()
    return round(_between(config.time_lock_calm_seconds, config.time_lock_rush_seconds, level))


def measured_demand(now: datetime) -> int:
    """Count one more challenge in this minute; challenges a minute now (the fuller of this
    minute and the last), from one UpdateItem of one shard."""
    minute = int(now.timestamp()) // 60
    this, last, gone = (Path(f"m{minute - back}") for back in (0, 1, 2))
    shard = LimitModel(f"demand#{secrets.randbelow(DEMAND_SHARDS)}")
    try:
        response = shard.update(
            actions=[
                this.add(1),
                gone.remove(),
                LimitModel.expires_at.set(now + timedelta(minutes=5)),
            ]
        )
    except UpdateError as error:
        raise_if_throttled(error)
        raise
    stored = response["Attributes"]
    seen = max(_count(stored, this), _count(stored, last))
    return seen * DEMAND_SHARDS


def _count(stored: dict[str, Any], counter: Path) -> int:
    """A minute's count in the item as DynamoDB returned it ({"m123": {"N": "5"}})."""
    return int(stored.get(counter.path[0], {}).get("N", 0))


def new_challenge(now: datetime) -> dict[str, Any]:
    """A challenge to solve before booking or moving, as JSON (ALTCHA v2's format)."""
    level = rush_level(measured_demand(now))
    mean_work = max(1, work_for(level))
    challenge = altcha.create_challenge(
        ALGORITHM,
        PBKDF2_ITERATIONS,
        counter=secrets.randbelow(2 * mean_work) + 1,
        expires_at=now + VALID_FOR,
        hmac_secret=_key("altcha-challenge"),
        hmac_key_secret=_key("altcha-key"),
    )
    return dict(challenge.to_dict())


def verify_work(payload: str) -> Proof:
    """The proof a solved challenge (the base64 payload the widget or client sends) is, or
    ChallengeFailed."""
    result = altcha.verify_solution(
        payload, _key("altcha-challenge"), hmac_key_secret=_key("altcha-key")
    )
    if result.expired:
        raise ChallengeFailed(
            "The challenge has expired. Get a new one and solve it.", reason="challenge_expired"
        )
    if not result.verified:
        raise ChallengeFailed(
            "The challenge was not solved. Get one from /challenge, solve it and send "
            "the solution.",
            reason="challenge_invalid",
        )
    parameters = json.loads(base64.b64decode(payload))["challenge"]["parameters"]
    return Proof(
        id=f"work#{parameters['nonce']}",
        expires_at=datetime.fromtimestamp(int(parameters["expiresAt"]), UTC),
    )


def used_mark(proof: Proof) -> LimitModel:
    """The item that marks `proof` spent (until it would have expired anyway)."""
    return LimitModel(f"used#{proof.id}", expires_at=proof.expires_at)


def spend(tx: TransactWrite, used: LimitModel) -> None:
    """Put the proof's mark in the transaction: it fails if the proof was spent before."""
    tx.save(used, condition=LimitModel.limit_key.does_not_exist())


def replayed() -> ChallengeFailed:
    return ChallengeFailed(
        "This challenge was already used. Get a new one and solve it.", reason="challenge_used"
    )
