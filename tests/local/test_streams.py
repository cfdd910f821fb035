"""StreamPoller against the official DynamoDB Local: the records a stream-triggered function gets
locally must match what Lambda's event source mapping would hand it on AWS."""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from infra.local.dynamodb_local import DynamoDBLocal
from infra.local.streams import StreamPoller

REGION = "us-east-1"


@pytest.fixture(scope="module")
def streams_engine() -> Iterator[DynamoDBLocal]:
    """Our own in-memory DynamoDB Local, independent of the session fixtures in conftest."""
    with DynamoDBLocal() as engine:
        yield engine


@dataclass
class StreamTable:
    """A fresh table with a NEW_AND_OLD_IMAGES stream, so every test sees only its own records."""

    dynamodb: Any
    streams: Any
    name: str
    stream_arn: str

    def put(self, pk: str, **attributes: str) -> None:
        item = {"pk": {"S": pk}} | {key: {"S": value} for key, value in attributes.items()}
        self.dynamodb.put_item(TableName=self.name, Item=item)

    def delete(self, pk: str) -> None:
        self.dynamodb.delete_item(TableName=self.name, Key={"pk": {"S": pk}})

    def shard_id(self) -> str:
        shards = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        return str(shards["Shards"][0]["ShardId"])


@pytest.fixture
def streams_table(streams_engine: DynamoDBLocal) -> Iterator[StreamTable]:
    url = streams_engine.endpoint_url
    dynamodb = boto3.client("dynamodb", endpoint_url=url, region_name=REGION)
    name = f"streams-{uuid.uuid4().hex[:12]}"
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    stream_arn = dynamodb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    streams = boto3.client("dynamodbstreams", endpoint_url=url, region_name=REGION)
    yield StreamTable(dynamodb, streams, name, stream_arn)
    dynamodb.delete_table(TableName=name)


@dataclass
class Function:
    """Stands in for the Lambda handler: records each event, answers via `respond`."""

    respond: Callable[[dict[str, Any]], dict[str, Any] | None] = lambda event: None
    events: list[dict[str, Any]] = field(default_factory=list)
    called: threading.Event = field(default_factory=threading.Event)

    def __call__(self, event: dict[str, Any]) -> dict[str, Any] | None:
        self.events.append(event)
        self.called.set()
        return self.respond(event)

    def keys(self) -> list[list[str]]:
        """The pk of every record, per invocation."""
        return [[r["dynamodb"]["Keys"]["pk"]["S"] for r in e["Records"]] for e in self.events]


def make_poller(
    table: StreamTable, function: Function, errors: list[str], **options: Any
) -> StreamPoller:
    options.setdefault("starting_position", "TRIM_HORIZON")
    options.setdefault("poll_interval", 0.05)
    return StreamPoller(
        streams_client=table.streams,
        stream_arn=table.stream_arn,
        deliver=function,
        on_error=errors.append,
        **options,
    )


def sequence_number(record: dict[str, Any]) -> str:
    return str(record["dynamodb"]["SequenceNumber"])


def test_insert_modify_remove_arrive_in_order_in_lambda_shape(streams_table: StreamTable) -> None:
    function = Function()
    errors: list[str] = []
    poller = make_poller(streams_table, function, errors)
    streams_table.put("p1", status="free")
    streams_table.put("p1", status="booked")
    streams_table.delete("p1")

    assert poller.poll_once() == 3

    (event,) = function.events
    json.dumps(event)  # a Lambda payload is JSON: no datetimes may be left in it
    insert, modify, remove = event["Records"]
    assert [r["eventName"] for r in event["Records"]] == ["INSERT", "MODIFY", "REMOVE"]
    for record in event["Records"]:
        assert record["eventSource"] == "aws:dynamodb"
        assert record["eventVersion"] == "1.1"
        assert record["eventSourceARN"] == streams_table.stream_arn
        assert record["awsRegion"] == REGION
        assert record["dynamodb"]["Keys"] == {"pk": {"S": "p1"}}
        assert record["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        created = record["dynamodb"]["ApproximateCreationDateTime"]
        assert isinstance(created, float)
        assert abs(created - time.time()) < 180  # DynamoDB Local truncates to the minute
    assert insert["dynamodb"]["NewImage"]["status"] == {"S": "free"}
    assert "OldImage" not in insert["dynamodb"]
    assert modify["dynamodb"]["OldImage"]["status"] == {"S": "free"}
    assert modify["dynamodb"]["NewImage"]["status"] == {"S": "booked"}
    assert remove["dynamodb"]["OldImage"]["status"] == {"S": "booked"}
    assert "NewImage" not in remove["dynamodb"]
    numbers = [int(sequence_number(r)) for r in event["Records"]]
    assert numbers == sorted(numbers)
    assert errors == []


def test_batch_size_limits_records_per_delivery(streams_table: StreamTable) -> None:
    function = Function()
    errors: list[str] = []
    poller = make_poller(streams_table, function, errors, batch_size=2)
    for pk in ["a", "b", "c", "d", "e"]:
        streams_table.put(pk)

    assert poller.poll_once() == 5

    assert function.keys() == [["a", "b"], ["c", "d"], ["e"]]
    assert errors == []


def test_filter_delivers_only_modifications(streams_table: StreamTable) -> None:
    function = Function()
    errors: list[str] = []
    only_modify = [{"Pattern": json.dumps({"eventName": ["MODIFY"]})}]
    poller = make_poller(streams_table, function, errors, filters=only_modify)
    streams_table.put("a", status="free")
    streams_table.put("a", status="booked")
    streams_table.put("b", status="free")
    streams_table.put("b", status="cancelled")
    streams_table.delete("a")

    assert poller.poll_once() == 2
    assert poller.poll_once() == 0  # the skipped records count as processed

    records = [r for e in function.events for r in e["Records"]]
    assert [r["eventName"] for r in records] == ["MODIFY", "MODIFY"]
    assert [r["dynamodb"]["NewImage"]["status"]["S"] for r in records] == ["booked", "cancelled"]
    assert errors == []


def test_raising_function_is_retried_then_skipped(streams_table: StreamTable) -> None:
    def respond(event: dict[str, Any]) -> None:
        if event["Records"][0]["dynamodb"]["NewImage"]["email"]["S"] == "jane@example.com":
            raise RuntimeError("cannot send to jane@example.com")

    function = Function(respond)

    errors: list[str] = []
    poller = make_poller(streams_table, function, errors, batch_size=1, max_retries=2)
    streams_table.put("poison", email="jane@example.com")
    streams_table.put("fine", email="joe@example.com")

    assert poller.poll_once() == 1

    assert function.keys() == [["poison"]] * 3 + [["fine"]]  # first try + 2 retries
    poison = sequence_number(function.events[0]["Records"][0])
    (message,) = errors
    assert streams_table.stream_arn in message
    assert streams_table.shard_id() in message
    assert poison in message
    assert "RuntimeError" in message
    assert "jane" not in message  # no personal data in logs
    assert poller.poll_once() == 0  # skipped, not redelivered


def test_batch_item_failures_redeliver_from_the_failed_record(streams_table: StreamTable) -> None:
    answers: list[dict[str, Any] | None] = []

    def respond(event: dict[str, Any]) -> dict[str, Any] | None:
        if not answers:  # first call: r2 failed (r3 was not attempted)
            failed = sequence_number(event["Records"][1])
            answers.append({"batchItemFailures": [{"itemIdentifier": failed}]})
            return answers[-1]
        return {"batchItemFailures": []}

    function = Function(respond)

    errors: list[str] = []
    poller = make_poller(streams_table, function, errors)
    for pk in ["r1", "r2", "r3"]:
        streams_table.put(pk)

    assert poller.poll_once() == 3

    assert function.keys() == [["r1", "r2", "r3"], ["r2", "r3"]]
    assert errors == []


def test_malformed_batch_item_failures_fail_the_whole_batch(streams_table: StreamTable) -> None:
    function = Function(lambda event: {"batchItemFailures": [{"itemIdentifier": "nope"}]})
    errors: list[str] = []
    poller = make_poller(streams_table, function, errors, max_retries=1)
    streams_table.put("a")
    streams_table.put("b")

    assert poller.poll_once() == 0

    assert function.keys() == [["a", "b"], ["a", "b"]]
    (message,) = errors
    assert "InvalidBatchItemFailuresResponse" in message


def test_checkpoint_file_skips_processed_records(
    streams_table: StreamTable, tmp_path: Path
) -> None:
    checkpoint = tmp_path / "state" / "checkpoints.json"
    first = Function()
    errors: list[str] = []
    streams_table.put("a")
    streams_table.put("b")
    assert make_poller(streams_table, first, errors, checkpoint_path=checkpoint).poll_once() == 2
    last = sequence_number(first.events[-1]["Records"][-1])
    assert json.loads(checkpoint.read_text()) == {streams_table.shard_id(): last}
    streams_table.put("c")

    # A restarted local stack: a new poller, same file, even from TRIM_HORIZON.
    restarted = Function()
    poller = make_poller(streams_table, restarted, errors, checkpoint_path=checkpoint)
    assert poller.poll_once() == 1

    assert restarted.keys() == [["c"]]
    assert errors == []


def test_latest_skips_records_written_before_the_poller_started(
    streams_table: StreamTable,
) -> None:
    function = Function()
    errors: list[str] = []
    streams_table.put("old")
    poller = make_poller(streams_table, function, errors, starting_position="LATEST")

    assert poller.poll_once() == 0
    streams_table.put("new")
    assert poller.poll_once() == 1

    assert function.keys() == [["new"]]
    assert errors == []


def test_start_delivers_in_background_and_stop_ends_the_thread(
    streams_table: StreamTable,
) -> None:
    function = Function()
    errors: list[str] = []
    poller = make_poller(streams_table, function, errors, starting_position="LATEST")

    poller.start()
    try:
        assert poller.running
        streams_table.put("background")
        assert function.called.wait(timeout=10)
    finally:
        poller.stop()

    assert not poller.running
    assert not [t for t in threading.enumerate() if t.name.startswith("stream-poller")]
    poller.stop()  # idempotent
    streams_table.put("after-stop")
    time.sleep(0.3)  # several poll intervals: nothing may be delivered any more
    assert function.keys() == [["background"]]
    assert errors == []


def put_many(table: StreamTable, count: int) -> list[str]:
    keys = [f"k{index:04d}" for index in range(count)]
    for start in range(0, count, 25):
        table.dynamodb.batch_write_item(
            RequestItems={
                table.name: [
                    {"PutRequest": {"Item": {"pk": {"S": k}}}} for k in keys[start : start + 25]
                ]
            }
        )
    return keys


def test_stop_ends_delivery_mid_backlog_and_the_next_start_resumes_after_it(
    streams_table: StreamTable, tmp_path: Path
) -> None:
    # Given a backlog of 200 records and a function that takes a while per batch of 10
    keys = put_many(streams_table, 200)
    checkpoint = tmp_path / "checkpoint.json"
    errors: list[str] = []
    slow = Function(respond=lambda event: time.sleep(0.05))
    poller = make_poller(streams_table, slow, errors, batch_size=10, checkpoint_path=checkpoint)
    # When the poller is stopped once delivery has begun
    poller.start()
    assert slow.called.wait(timeout=10)
    assert poller.stop(timeout=5)
    stopped_after = list(itertools.chain.from_iterable(slow.keys()))
    # Then it stopped mid-backlog, and a new poller on the same checkpoint delivers the rest
    assert len(stopped_after) < len(keys)
    resumed = Function()
    make_poller(
        streams_table, resumed, errors, batch_size=10, checkpoint_path=checkpoint
    ).poll_once()
    delivered = stopped_after + list(itertools.chain.from_iterable(resumed.keys()))
    assert sorted(delivered) == keys  # each exactly once
    assert errors == []


def test_a_batch_cut_off_by_stop_is_delivered_again_not_dropped(
    streams_table: StreamTable, tmp_path: Path
) -> None:
    # Given a poller that gives up on a batch at its first failure, and a function that hangs
    streams_table.put("first")
    checkpoint = tmp_path / "checkpoint.json"
    errors: list[str] = []
    release = threading.Event()

    def hang_then_fail(event: dict[str, Any]) -> None:
        release.wait(10)
        raise RuntimeError("the function was stopped")

    hanging = Function(respond=hang_then_fail)
    poller = make_poller(streams_table, hanging, errors, max_retries=0, checkpoint_path=checkpoint)
    poller.start()
    assert hanging.called.wait(timeout=10)
    # When the stack stops it: the poller does not wait for the batch, then the function dies
    assert not poller.stop(timeout=0.2)
    release.set()
    assert poller.stop(timeout=10)
    # Then the batch was neither dropped nor checkpointed: the next start delivers it
    again = Function()
    make_poller(streams_table, again, errors, checkpoint_path=checkpoint).poll_once()
    assert again.keys() == [["first"]]
    assert errors == []
