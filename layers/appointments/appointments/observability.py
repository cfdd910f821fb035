"""The service's logger and metrics, shared by every function (Powertools, JSON to stdout)."""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "appointments"))
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Appointments"))


def count(metric: str, value: int = 1) -> None:
    """Add to a business metric (CloudWatch embedded metric format, flushed per invocation)."""
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=value)
