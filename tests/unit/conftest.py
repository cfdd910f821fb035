"""Unit tests run against moto: every test gets fresh tables, the secret and the seed's offices."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws

from appointments.observability import logger
from appointments.offices import Office, catalogue
from tests.helpers import (
    aws_client,
    create_secret,
    make_resources,
    next_weekday,
    reset_connections,
    write_seed_offices,
    write_weekdays,
)

UNIT_TEST_OFFICES = ("new-york", "honolulu", "arlington-asylum")


@pytest.fixture
def aws(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fresh tables, the secret, the notices' bucket and the mail identity, and no cached
    secret. The office cache is emptied too, unless the test has the seed's offices
    (`offices`), which it may keep. The DynamoDB connections are kept from test to test (making
    them was a tenth of a test): they reach moto wherever they were made, and every fixture
    that moves the process to another engine drops them on its way in and out."""
    keeps_offices = "offices" in request.fixturenames
    with mock_aws():
        parameters.clear_caches()
        if not keeps_offices:
            catalogue.invalidate()
        make_resources()
        create_secret()
        aws_client("s3").create_bucket(Bucket="test-notices")
        aws_client("ses").verify_email_identity(EmailAddress="notices@example.gov")
        yield
    parameters.clear_caches()
    if not keeps_offices:
        catalogue.invalidate()


@pytest.fixture(scope="module")
def secret() -> Iterator[None]:
    """Only the service secret on moto, shared by a module whose tests only read it."""
    with mock_aws():
        reset_connections()
        create_secret()
        yield
    reset_connections()


@pytest.fixture
def offices(aws: None) -> Iterator[dict[str, Office]]:
    """The seed's offices (infra/data/offices.json). Every test with them has the same ones, so
    the functions keep the catalogue an earlier test loaded from them, as a warm Lambda
    container keeps it (reading it costs moto a fifth of a second). A test that leaves the
    catalogue holding other offices has it read anew by the next."""
    seeded = write_seed_offices()
    yield seeded
    if catalogue.all() != seeded:
        catalogue.invalidate()


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
