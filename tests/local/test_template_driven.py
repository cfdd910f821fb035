"""The local stack is driven by the template alone: a function, a route, a schedule or a
stream trigger (and its on-failure queue) added to a copy of template.yaml is served with no
other change."""

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

from infra.local.dynamodb_local import free_port
from infra.local.stack import LocalStack, Settings
from tests.helpers import REPO_ROOT, template_copy

RECORDER = """
import json, os

import boto3


def lambda_handler(event, context):
    with open(os.environ["RECORD_TO"], "a") as record:
        record.write(json.dumps({"greeting": os.environ.get("GREETING"), "event": event}) + "\\n")
    if "httpMethod" in event:
        boto3.client("ses").send_email(
            Source=os.environ["SENDER"],
            Destination={"ToAddresses": ["person@example.com"]},
            Message={
                "Subject": {"Data": "Your notice"},
                "Body": {"Html": {"Data": '<a href="http://127.0.0.1/notice/abc">Download</a>'}},
            },
        )
    return {"statusCode": 200, "body": json.dumps({"greeting": os.environ.get("GREETING")})}
"""

FAILING = """
def lambda_handler(event, context):
    raise RuntimeError("cannot handle these records")
"""


HELLO_FUNCTION = """
  SenderIdentity:
    Type: AWS::SES::EmailIdentity
    Properties:
      EmailIdentity: notices@example.gov

  HelloFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: extra
      Environment:
        Variables:
          RECORD_TO: {record}
          GREETING: hello
          SENDER: !Ref SenderIdentity
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
            StartingPosition: TRIM_HORIZON
            BatchSize: 10
            FunctionResponseTypes: [ReportBatchItemFailures]

  FailingFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: failing
      Events:
        Changes:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt AppointmentsTable.StreamArn
            StartingPosition: TRIM_HORIZON
            MaximumRetryAttempts: 1
            DestinationConfig:
              OnFailure:
                Type: SQS
                Destination: !GetAtt FailedChangesQueue.Arn

  FailedChangesQueue:
    Type: AWS::SQS::Queue
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


@pytest.fixture(scope="module")
def extended_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalStack, Path]]:
    tmp_path = tmp_path_factory.mktemp("extended")
    # Given a copy of the template with a function on a route, a schedule and a stream, and a
    # function failing on the stream, with an on-failure queue
    for folder in ("functions", "layers"):
        (tmp_path / folder).symlink_to(REPO_ROOT / folder)
    (tmp_path / "extra").mkdir()
    (tmp_path / "extra" / "app.py").write_text(RECORDER)
    (tmp_path / "failing").mkdir()
    (tmp_path / "failing" / "app.py").write_text(FAILING)
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


def test_records_a_function_fails_on_reach_its_on_failure_queue(
    extended_stack: tuple[LocalStack, Path],
) -> None:
    stack, _ = extended_stack
    assert stack.endpoints is not None
    dynamodb = boto3.client(
        "dynamodb", endpoint_url=stack.endpoints.dynamodb, region_name="us-east-1"
    )
    sqs = boto3.client("sqs", endpoint_url=stack.endpoints.moto, region_name="us-east-1")
    queue = sqs.get_queue_url(QueueName="appointments-FailedChangesQueue")["QueueUrl"]
    # When an appointment item is written, which the failing function cannot handle
    dynamodb.put_item(
        TableName="appointments-AppointmentsTable",
        Item={"confirmation": {"S": "TESTITEM002"}, "status": {"S": "booked"}},
    )
    # Then, its retry spent, the batch's invocation record is on the template's queue
    received = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=20)
    message = json.loads(received["Messages"][0]["Body"])
    table = dynamodb.describe_table(TableName="appointments-AppointmentsTable")["Table"]
    assert message["DDBStreamBatchInfo"]["streamArn"] == table["LatestStreamArn"]
    assert message["requestContext"]["functionArn"].endswith(":appointments-FailingFunction")
    assert message["requestContext"]["approximateInvokeCount"] == 2
    assert message["responseContext"]["functionError"] == "Unhandled"


def test_mail_a_function_sends_is_in_the_outbox_with_its_link(
    extended_stack: tuple[LocalStack, Path],
) -> None:
    stack, _ = extended_stack
    url = f"http://127.0.0.1:{stack.settings.api_port}"
    # When the function (which sends a notice e-mail) is called
    assert httpx.get(f"{url}/hello/mail", timeout=30).status_code == 200
    # Then the outbox lists the mail, newest first, with its link clickable
    mails = httpx.get(f"{url}/_local/outbox.json", timeout=10).json()
    page = httpx.get(f"{url}/_local/outbox", timeout=10).text
    assert mails[0]["subject"] == "Your notice"
    assert mails[0]["to"] == ["person@example.com"]
    assert mails[0]["links"] == ["http://127.0.0.1/notice/abc"]
    assert '<a href="http://127.0.0.1/notice/abc"' in page


def template_with_only(root: Path, function: str) -> Path:
    """A copy of template.yaml in `root` whose only function is `function`."""
    return template_copy(
        root, lambda logical_id, r: logical_id == function or not r["Type"].endswith("::Function")
    )


def test_without_java_dynamodb_is_served_by_moto_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a machine without Java 17+, and the template's offices route (its only function
    # here: the other functions' processes would take seconds to start, and are not asked)
    monkeypatch.setattr("infra.local.stack.java_available", lambda: False)
    messages: list[str] = []
    settings = Settings(
        api_port=free_port(),
        dynamodb_port=free_port(),
        moto_port=free_port(),
        data_dir=tmp_path / "data",
        template=template_with_only(tmp_path, "ListOfficesFunction"),
        seed=False,
    )
    stack = LocalStack(settings, log=messages.append)
    # When the stack starts
    stack.start()
    try:
        response = httpx.get(
            f"http://127.0.0.1:{settings.api_port}/offices", params={"zip": "96813"}, timeout=30
        )
    finally:
        stack.stop()
    # Then it said so, and the API still works on moto's DynamoDB
    assert any("WARNING" in message and "IN MEMORY" in message for message in messages)
    assert stack.endpoints is not None
    assert stack.endpoints.dynamodb == stack.endpoints.moto
    assert response.status_code == 200
    assert response.json() == {"offices": []}
