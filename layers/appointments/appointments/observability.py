"""The service's logger and metrics, shared by every function (Powertools, JSON to stdout)."""

from __future__ import annotations

import os
import traceback
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

if TYPE_CHECKING:
    from appointments.errors import AppointmentError

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "appointments"))
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Appointments"))


def count(metric: str, value: int = 1) -> None:
    """Add to a business metric (CloudWatch embedded metric format, flushed per invocation)."""
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=value)


def measure(metric: str, value: float, unit: MetricUnit = MetricUnit.Seconds) -> None:
    metrics.add_metric(name=metric, unit=unit, value=value)


def count_refusal(error: AppointmentError) -> None:
    """Count a refused request by the rule that refused it (metric Refusals, dimension
    reason: slot_full, already_booked_phone, challenge_used, …): the alarms and the
    dashboard read them."""
    with single_metric(
        name="Refusals",
        unit=MetricUnit.Count,
        value=1,
        namespace=metrics.namespace,
        default_dimensions=metrics.default_dimensions,
    ) as metric:
        metric.add_dimension(name="reason", value=error.reason)


def log_unexpected(error: BaseException, message: str = "unexpected error") -> None:
    """Log where it failed (file, line, function) without the exception's message or source
    lines, which may quote personal data (an SES refusal names the recipient)."""
    logger.error(
        message,
        extra={
            "error_type": type(error).__name__,
            "cause": getattr(error, "cause_response_code", None) or _aws_error_code(error),
            "stack": [
                f"{frame.filename}:{frame.lineno} in {frame.name}"
                for frame in traceback.extract_tb(error.__traceback__)
            ],
        },
    )


def _aws_error_code(error: BaseException) -> str | None:
    """The code of an AWS error answer (botocore's ClientError), which names no data."""
    response = getattr(error, "response", None)
    if not isinstance(response, dict):
        return None
    code = response.get("Error", {}).get("Code")
    return code if isinstance(code, str) else None
