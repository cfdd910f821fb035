"""The DynamoDB Local launcher never shares what belongs to another process."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from infra.local.dynamodb_local import DynamoDBLocal, InUseError, PortInUseError, java_available

pytestmark = pytest.mark.skipif(not java_available(), reason="DynamoDB Local needs Java 17+")


def test_a_second_dynamodb_local_on_the_same_data_directory_is_refused(tmp_path: Path) -> None:
    # Given a DynamoDB Local keeping its data in a directory
    with DynamoDBLocal(db_path=tmp_path / "dynamodb"):
        second = DynamoDBLocal(db_path=tmp_path / "dynamodb")
        # When another one is started on the same directory (another port)
        with pytest.raises(InUseError, match="in use by the DynamoDB Local of process"):
            second.start()
        # Then it refused before starting java
        assert not second.running


def test_a_port_another_process_listens_on_is_refused_by_name(tmp_path: Path) -> None:
    # Given a port some other program listens on
    with socket.create_server(("127.0.0.1", 0)) as squatter:
        port = squatter.getsockname()[1]
        engine = DynamoDBLocal(port=port, db_path=tmp_path / "dynamodb")
        # When DynamoDB Local is started on it
        with pytest.raises(PortInUseError, match=f"Port {port} is already in use by process"):
            engine.start()
    # Then no java was started to linger without its port
    assert not engine.running
