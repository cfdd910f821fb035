"""Test environment: fake credentials and fixed resource names, set before any import of the
domain package (pynamodb models read their table names when first imported)."""

from __future__ import annotations

import os

for variable in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
    os.environ.pop(variable, None)
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "OFFICES_TABLE": "test-OfficesTable",
        "SLOTS_TABLE": "test-SlotsTable",
        "APPOINTMENTS_TABLE": "test-AppointmentsTable",
        "APPLICANTS_TABLE": "test-ApplicantsTable",
        "SERVICE_SECRET_NAME": "test/service-secret",
        "LETTERS_BUCKET": "test-letters",
        "POWERTOOLS_METRICS_NAMESPACE": "Appointments",
        "POWERTOOLS_SERVICE_NAME": "appointments",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }
)
