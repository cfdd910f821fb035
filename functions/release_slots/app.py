"""Scheduled every business day: opens each office's next business day(s) for booking.

The event is the schedule's input (release.ScheduleInput): {} normally, {"dryRun": true} to
list what would open without writing, {"horizon": N} to open N business days ahead.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from appointments.observability import count, logger, metrics
from appointments.release import release_on_schedule


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any] | None, context: LambdaContext) -> dict[str, Any]:
    summary = release_on_schedule(event, datetime.now(UTC))
    logger.info("slot release", extra=summary.log_fields())
    for metric, value in summary.metrics().items():
        count(metric, value)
    return summary.as_response()
