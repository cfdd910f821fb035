"""The local stack is driven by the template alone: a function, a route, a schedule or a
stream trigger added to a copy of template.yaml is served with no other change."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from infra.dynamodb_local import free_port
from infra.local import LocalStack, Settings
from tests.helpers import REPO_ROOT

RECORDER = """
import json, os

def lambda_handler(event, context):
    with open(os.environ["RECORD_TO"], "a") as record:
        record.write(json.dumps({"greeting": os.environ.get("GREETING"), "event": event}) + "\\n")
    return {"statusCode": 200, "body": json.dumps({"greeting": os.environ.get("GREETING")})}
"""


HELLO_FUNCTION = """
  HelloFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: extra
      Environment:
        Variables:
          RECORD_TO: {record}
          GREETING: hello
      Events:
        Api:
          Type: Api
          Properties: {{RestApiId: !Ref Api, Path: "/hello/{{name}}", Method: GET}}
        Daily:
          Type: ScheduleV2
          Properties:
            ScheduleExpression: cron(0 17 ? * MON-FRI *)
            ScheduleExpressionTimezone: America/New_York
            Input: '{{"source": "schedule"}}'
        Changes:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt AppointmentsTable.StreamArn
            StartingPosition: LATEST
            BatchSize: 10
            FunctionResponseTypes: [ReportBatchItemFailures]
"""


def recorded(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def wait_for(condition: Callable[[], bool], seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def extended_stack(tmp_path: Path) -> Iterator[tuple[LocalStack, Path]]:
    # Given a copy of the template with three more functions: a route, a schedule, a stream
    for folder in ("functions", "layers"):
        (tmp_path / folder).symlink_to(REPO_ROOT / folder)
    (tmp_path / "extra").mkdir()
    (tmp_path / "extra" / "app.py").write_text(RECORDER)
    record = tmp_path / "calls.jsonl"
    added = HELLO_FUNCTION.format(record=record)
    text = (REPO_ROOT / "template.yaml").read_text().replace("\nOutputs:", added + "\nOutputs:")
    (tmp_path / "template.yaml").write_text(text)
    settings = Settings(
        api_port=free_port(),
        dynamodb_port=free_port(),
        moto_port=free_port(),
        data_dir=tmp_path / "data",
        template=tmp_path / "template.yaml",
        seed=False,
    )
    stack = LocalStack(settings, log=lambda _: None)
    stack.start()
    yield stack, record
    stack.stop()


def test_added_route_schedule_and_stream_trigger_are_served(
    extended_stack: tuple[LocalStack, Path],
) -> None:
    stack, record = extended_stack
    url = f"http://127.0.0.1:{stack.settings.api_port}"
    # When the new route is called, and an appointment item is written
    response = httpx.get(f"{url}/hello/world", timeout=30)
    assert stack.endpoints is not None
    boto3.client(
        "dynamodb", endpoint_url=stack.endpoints.dynamodb, region_name="us-east-1"
    ).put_item(
        TableName="appointments-AppointmentsTable",
        Item={"confirmation": {"S": "TESTITEM001"}, "status": {"S": "booked"}},
    )
    # Then the route answered with the template's environment, the schedule fired at start-up
    # with its input, and the stream record reached the function
    assert response.status_code == 200
    assert response.json() == {"greeting": "hello"}
    assert wait_for(lambda: any(call["event"].get("Records") for call in recorded(record)))
    events = [call["event"] for call in recorded(record)]
    api_event = next(e for e in events if "httpMethod" in e)
    assert api_event["pathParameters"] == {"name": "world"}
    assert {"source": "schedule"} in events
    stream = next(e for e in events if "Records" in e)
    assert stream["Records"][0]["eventName"] == "INSERT"
    assert os.environ.get("GREETING") is None  # the function's environment stayed its own
