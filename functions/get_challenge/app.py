"""GET /challenge: a proof-of-work challenge to solve before booking or moving an appointment.

Its work follows the demand of the last minute (challenges.py): light through the day, heavier
at the release minute. The ALTCHA widget on the site fetches it too.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from appointments import challenges
from appointments.api import api_function, documented, utc_now
from appointments.observability import count
from appointments.schemas import ChallengeOut

router = Router()


@router.get(
    "/challenge",
    summary="Get a challenge to solve before booking or rescheduling",
    operation_id="getChallenge",
    responses=documented(200, ChallengeOut, "A challenge, valid for 30 minutes"),
)
def get_challenge() -> Response[dict[str, Any]]:
    challenge = challenges.new_challenge(utc_now())
    count("ChallengesIssued")
    return Response(
        status_code=200,
        content_type="application/json",
        body=challenge,
        headers={"Cache-Control": "no-store"},
    )


lambda_handler = api_function(router)
