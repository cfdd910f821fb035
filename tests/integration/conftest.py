"""Integration tests run against the official DynamoDB Local, started once per session.

Secrets Manager is served by moto's server. Every test starts from empty tables.
"""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto.server import ThreadedMotoServer

from appointments.offices import Office
from infra.local.dynamodb_local import DynamoDBLocal, free_port
from infra.tools.seed import seed_offices
from tests.helpers import TABLE_NAMES, create_secret, make_resources, reset_connections


@pytest.fixture(scope="session")
def dynamodb_local() -> Iterator[DynamoDBLocal]:
    with DynamoDBLocal() as engine:
        yield engine


@pytest.fixture(scope="session")
def secrets_endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def local_aws(
    dynamodb_local: DynamoDBLocal, secrets_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_local.endpoint_url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", secrets_endpoint)
    reset_connections()
    client = boto3.client("dynamodb", endpoint_url=dynamodb_local.endpoint_url)
    existing = set(client.list_tables()["TableNames"])
    for name in TABLE_NAMES.values():
        if name in existing:
            client.delete_table(TableName=name)
    make_resources(dynamodb_local.endpoint_url)
    # Created for every test: moto's backends live in this process, and a unit test's
    # mock_aws() in the same worker resets them.
    create_secret(secrets_endpoint)
    yield
    reset_connections()


@pytest.fixture
def offices(local_aws: None) -> dict[str, Office]:
    return {office.office_id: office for office in seed_offices()}
