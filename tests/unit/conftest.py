"""Unit tests run against moto: every test gets fresh tables, the secret and the catalogue."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from appointments.observability import logger
from appointments.offices import Office
from infra.tools.seed import seed_offices
from tests.helpers import (
    create_secret,
    make_resources,
    next_weekday,
    reset_connections,
    write_weekdays,
)

UNIT_TEST_OFFICES = ("new-york", "honolulu", "arlington-asylum")


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        reset_connections()
        make_resources()
        create_secret()
        boto3.client("s3").create_bucket(Bucket="test-notices")
        boto3.client("ses").verify_email_identity(EmailAddress="notices@example.gov")
        yield
    reset_connections()


@pytest.fixture(scope="module")
def secret() -> Iterator[None]:
    """Only the service secret on moto, shared by a module whose tests only read it."""
    with mock_aws():
        reset_connections()
        create_secret()
        yield
    reset_connections()


@pytest.fixture
def offices(aws: None) -> dict[str, Office]:
    return {office.office_id: office for office in seed_offices()}


@pytest.fixture
def open_slots(offices: dict[str, Office]) -> dict[str, Any]:
    """Slots for the next two weekdays at a few offices (moto copies whole tables for every
    transaction, so unit tests keep the slots table small)."""
    chosen = [offices[office_id] for office_id in UNIT_TEST_OFFICES]
    return {"days": write_weekdays(chosen, next_weekday(), 2)}


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """Everything the functions log during the test, formatted as in Lambda."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    underlying = logging.getLogger(logger.name)
    underlying.addHandler(handler)
    yield stream
    underlying.removeHandler(handler)
