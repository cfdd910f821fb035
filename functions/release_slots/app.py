"""Scheduled every business day: opens each office's next business day(s) for booking.

The event is the schedule's input: {} normally, {"dryRun": true} to list what would open
without writing, {"horizon": N} to open N business days ahead for this run.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from appointments.config import settings
from appointments.observability import count, logger, metrics
from appointments.release import release


class ReleaseRequest(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    dry_run: bool = Field(default=False, alias="dryRun")
    horizon: int | None = Field(default=None, ge=1, le=60)


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any] | None, context: LambdaContext) -> dict[str, Any]:
    request = ReleaseRequest.model_validate(event or {})
    horizon = request.horizon or settings().release_horizon_days
    summary = release(datetime.now(UTC), horizon=horizon, dry_run=request.dry_run)
    furthest = summary.furthest_day.isoformat() if summary.furthest_day else None
    logger.info(
        "slot release",
        extra={
            "dry_run": summary.dry_run,
            "horizon": summary.horizon,
            "offices": summary.offices,
            "office_days": len(summary.days),
            "slots_opened": summary.slots_opened,
            "slots_already_present": summary.slots_present,
            "furthest_day": furthest,
        },
    )
    if summary.dry_run:
        count("DryRunReleases")
    else:
        count("OfficeDaysReleased", len(summary.days))
        count("SlotsOpened", summary.slots_opened)
        count("SlotsAlreadyPresent", summary.slots_present)
    return {
        "dryRun": summary.dry_run,
        "horizon": summary.horizon,
        "offices": summary.offices,
        "slotsOpened": summary.slots_opened,
        "slotsAlreadyPresent": summary.slots_present,
        "days": [
            {
                "officeId": day.office_id,
                "date": day.day.isoformat(),
                "slotsOpened": day.created,
                "slotsAlreadyPresent": day.already_present,
            }
            for day in summary.days
        ],
    }
