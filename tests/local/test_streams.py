"""StreamPoller against the official DynamoDB Local: the records a stream-triggered function gets
locally, and what happens to those it fails on, must match what Lambda's event source mapping
does on AWS with the same event properties."""

from __future__ import annotations

import itertools
import json
import re
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
from infra.local.streams import StreamMapping, StreamPoller
from infra.local.template import References, load_template, resolve

REGION = "us-east-1"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:appointments-Notices"
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:appointments-NoticeFailuresQueue"
TO_QUEUE = {"OnFailure": {"Type": "SQS", "Destination": QUEUE_ARN}}


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
    table: StreamTable,
    function: Function,
    errors: list[str],
    *,
    sent: list[dict[str, Any]] | None = None,
    checkpoint_path: Path | None = None,
    clock: Callable[[], float] = time.time,
    **properties: Any,
) -> StreamPoller:
    """A poller for a DynamoDB event with these template properties (and a few defaults)."""
    mapping = StreamMapping.from_properties(
        {
            "Stream": table.stream_arn,
            "StartingPosition": "TRIM_HORIZON",
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "MaximumRetryAttempts": 3,
        }
        | properties
    )
    return StreamPoller(
        mapping,
        streams_client=table.streams,
        deliver=function,
        function_arn=FUNCTION_ARN,
        on_failure=None if sent is None else sent.append,
        log=errors.append,
        checkpoint_path=checkpoint_path,
        clock=clock,
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
    poller = make_poller(streams_table, function, errors, BatchSize=2)
    for pk in ["a", "b", "c", "d", "e"]:
        streams_table.put(pk)

    assert poller.poll_once() == 5

    assert function.keys() == [["a", "b"], ["c", "d"], ["e"]]
    assert errors == []


def test_raising_function_is_retried_then_skipped(streams_table: StreamTable) -> None:
    def respond(event: dict[str, Any]) -> None:
        if event["Records"][0]["dynamodb"]["NewImage"]["email"]["S"] == "jane@example.com":
            raise RuntimeError("cannot send to jane@example.com")

    function = Function(respond)

    errors: list[str] = []
    poller = make_poller(streams_table, function, errors, BatchSize=1, MaximumRetryAttempts=2)
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
    poller = make_poller(streams_table, function, errors, MaximumRetryAttempts=1)
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


def test_start_delivers_in_background_and_stop_ends_the_thread(
    streams_table: StreamTable,
) -> None:
    function = Function()
    errors: list[str] = []
    poller = make_poller(streams_table, function, errors)

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
    time.sleep(1)  # several poll intervals: nothing may be delivered any more
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
    poller = make_poller(streams_table, slow, errors, BatchSize=10, checkpoint_path=checkpoint)
    # When the poller is stopped once delivery has begun
    poller.start()
    assert slow.called.wait(timeout=10)
    assert poller.stop(timeout=5)
    stopped_after = list(itertools.chain.from_iterable(slow.keys()))
    # Then it stopped mid-backlog, and a new poller on the same checkpoint delivers the rest
    assert len(stopped_after) < len(keys)
    resumed = Function()
    make_poller(
        streams_table, resumed, errors, BatchSize=10, checkpoint_path=checkpoint
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
    poller = make_poller(
        streams_table, hanging, errors, MaximumRetryAttempts=0, checkpoint_path=checkpoint
    )
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


def raises_on(poison: str) -> Callable[[dict[str, Any]], None]:
    """A function that fails its whole invocation when the batch holds the poison record."""

    def respond(event: dict[str, Any]) -> None:
        if any(record["dynamodb"]["Keys"]["pk"]["S"] == poison for record in event["Records"]):
            raise RuntimeError("cannot render")

    return respond


def test_bisection_isolates_a_poison_record_and_sends_it_to_the_destination(
    streams_table: StreamTable,
) -> None:
    # Given a batch with one record the function always fails on, and bisection on
    function = Function(raises_on("poison"))
    errors: list[str] = []
    sent: list[dict[str, Any]] = []
    poller = make_poller(
        streams_table,
        function,
        errors,
        sent=sent,
        BisectBatchOnFunctionError=True,
        MaximumRetryAttempts=2,
        DestinationConfig=TO_QUEUE,
    )
    for pk in ["a", "b", "poison", "c"]:
        streams_table.put(pk)
    # When the poller delivers it
    delivered = poller.poll_once()
    # Then the halves are retried until the poison record stands alone; the others are
    # delivered, and the poison record, after its retries, goes to the destination
    assert delivered == 3
    assert function.keys() == [
        ["a", "b", "poison", "c"],
        ["a", "b"],
        ["poison", "c"],
        ["poison"],
        ["poison"],
        ["poison"],
        ["c"],
    ]
    poison = sequence_number(function.events[3]["Records"][0])
    (message,) = sent
    assert message["DDBStreamBatchInfo"]["startSequenceNumber"] == poison
    assert message["DDBStreamBatchInfo"]["endSequenceNumber"] == poison
    assert message["DDBStreamBatchInfo"]["batchSize"] == 1
    assert message["requestContext"]["approximateInvokeCount"] == 3  # splits are not retries
    assert len(errors) == 1
    assert poller.poll_once() == 0  # discarded, not delivered again


def test_on_failure_message_is_the_invocation_record_aws_sends(
    streams_table: StreamTable,
) -> None:
    # Given a function that fails every invocation, and an on-failure destination
    function = Function(raises_on("x"))
    errors: list[str] = []
    sent: list[dict[str, Any]] = []
    poller = make_poller(
        streams_table,
        function,
        errors,
        sent=sent,
        MaximumRetryAttempts=1,
        DestinationConfig=TO_QUEUE,
    )
    streams_table.put("x", email="jane@example.com")
    streams_table.put("y", email="joe@example.com")
    # When its retries are exhausted
    assert poller.poll_once() == 0
    # Then the destination gets the documented invocation record, which names the records
    # (to read them from the stream) but holds none of their contents
    (message,) = sent
    first, last = (sequence_number(record) for record in function.events[0]["Records"])
    iso_seconds = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
    assert set(message) == {
        "requestContext",
        "responseContext",
        "version",
        "timestamp",
        "DDBStreamBatchInfo",
    }
    context = message["requestContext"]
    assert uuid.UUID(context.pop("requestId"))
    assert context == {
        "functionArn": FUNCTION_ARN,
        "condition": "RetryAttemptsExhausted",
        "approximateInvokeCount": 2,
    }
    assert message["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert message["version"] == "1.0"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", message["timestamp"])
    info = message["DDBStreamBatchInfo"]
    assert iso_seconds.fullmatch(info.pop("approximateArrivalOfFirstRecord"))
    assert iso_seconds.fullmatch(info.pop("approximateArrivalOfLastRecord"))
    assert info == {
        "shardId": streams_table.shard_id(),
        "startSequenceNumber": first,
        "endSequenceNumber": last,
        "batchSize": 2,
        "streamArn": streams_table.stream_arn,
    }
    assert "example.com" not in json.dumps(sent)


def test_a_partial_batch_response_retries_the_rest_without_bisecting(
    streams_table: StreamTable,
) -> None:
    # Given a function that reports its second record failed, every time, and bisection on
    def second_failed(event: dict[str, Any]) -> dict[str, Any]:
        failed = sequence_number(event["Records"][1 if len(event["Records"]) == 3 else 0])
        return {"batchItemFailures": [{"itemIdentifier": failed}]}

    function = Function(second_failed)
    errors: list[str] = []
    sent: list[dict[str, Any]] = []
    poller = make_poller(
        streams_table,
        function,
        errors,
        sent=sent,
        BisectBatchOnFunctionError=True,
        MaximumRetryAttempts=1,
        DestinationConfig=TO_QUEUE,
    )
    for pk in ["r1", "r2", "r3"]:
        streams_table.put(pk)
    # When the poller delivers them
    assert poller.poll_once() == 1
    # Then the rest of the batch is retried whole from the failed record, then discarded; the
    # function did not fail, so the invocation record names no function error
    assert function.keys() == [["r1", "r2", "r3"], ["r2", "r3"]]
    (message,) = sent
    assert message["DDBStreamBatchInfo"]["batchSize"] == 2
    assert message["requestContext"]["approximateInvokeCount"] == 2
    assert "functionError" not in message["responseContext"]


def test_with_poison_records_nothing_is_lost_and_each_shard_keeps_its_order(
    streams_table: StreamTable,
) -> None:
    # Given 40 changes of 8 items, two of them changes the function always fails on
    poisons = {"k3-2", "k6-4"}

    def respond(event: dict[str, Any]) -> None:
        if any(
            record["dynamodb"]["NewImage"]["change"]["S"] in poisons for record in event["Records"]
        ):
            raise RuntimeError("cannot render")

    function = Function(respond)
    errors: list[str] = []
    sent: list[dict[str, Any]] = []
    poller = make_poller(
        streams_table,
        function,
        errors,
        sent=sent,
        BatchSize=10,
        BisectBatchOnFunctionError=True,
        MaximumRetryAttempts=1,
        DestinationConfig=TO_QUEUE,
    )
    for round_ in range(5):
        for item in range(8):
            streams_table.put(f"k{item}", change=f"k{item}-{round_}")
    # When the poller delivers them
    assert poller.poll_once() == 38
    # Then every change was processed once, or discarded to the destination, and the changes
    # processed came in stream order
    processed = [
        sequence_number(record)
        for event in function.events
        if not any(r["dynamodb"]["NewImage"]["change"]["S"] in poisons for r in event["Records"])
        for record in event["Records"]
    ]
    discarded = [m["DDBStreamBatchInfo"]["startSequenceNumber"] for m in sent]
    every = {sequence_number(r) for event in function.events for r in event["Records"]}
    assert len(every) == 40
    assert sorted(processed + discarded, key=int) == sorted(every, key=int)
    assert processed == sorted(processed, key=int)
    assert [m["DDBStreamBatchInfo"]["batchSize"] for m in sent] == [1, 1]


def test_the_templates_stream_event_is_played_with_its_properties() -> None:
    # Given the notice renderer's stream event in template.yaml, resolved as the stack does
    template = load_template()
    event = template["Resources"]["RenderNoticesFunction"]["Properties"]["Events"]
    references = References()
    references.attributes[("AppointmentsTable", "StreamArn")] = "arn:stream"
    references.attributes[("NoticeFailuresQueue", "Arn")] = QUEUE_ARN
    # When it is read
    mapping = StreamMapping.from_properties(
        resolve(event["AppointmentChanges"]["Properties"], references)
    )
    # Then every property it declares is honoured
    assert mapping == StreamMapping(
        stream_arn="arn:stream",
        batch_size=10,
        batching_window_seconds=1,
        report_batch_item_failures=True,
        bisect_on_function_error=True,
        maximum_retry_attempts=5,
        on_failure_destination=QUEUE_ARN,
        maximum_record_age_seconds=21600,
        parallelization_factor=4,
    )


@pytest.mark.parametrize(
    "unplayed",
    [
        {"FilterCriteria": {"Filters": [{"Pattern": '{"eventName": ["MODIFY"]}'}]}},
        {"StartingPosition": "LATEST"},
        {"DestinationConfig": {"OnFailure": {"Type": "SNS", "Destination": "arn:topic"}}},
    ],
)
def test_a_property_the_stand_in_does_not_play_is_refused(unplayed: dict[str, Any]) -> None:
    properties = {"Stream": "arn:stream", "StartingPosition": "TRIM_HORIZON"} | unplayed
    with pytest.raises(ValueError, match=r"locally|SQS"):
        StreamMapping.from_properties(properties)


def test_a_failed_send_to_the_destination_loses_nothing(streams_table: StreamTable) -> None:
    # Given a destination that is unreachable once, and a record the function fails on after
    # one it processes
    sent: list[dict[str, Any]] = []
    unreachable_once = [ConnectionError("queue unreachable")]

    def send(message: dict[str, Any]) -> None:
        if unreachable_once:
            raise unreachable_once.pop()
        sent.append(message)

    function = Function(raises_on("b"))
    errors: list[str] = []
    mapping = StreamMapping.from_properties(
        {
            "Stream": streams_table.stream_arn,
            "StartingPosition": "TRIM_HORIZON",
            "BatchSize": 1,
            "MaximumRetryAttempts": 0,
            "DestinationConfig": TO_QUEUE,
        }
    )
    poller = StreamPoller(
        mapping,
        streams_client=streams_table.streams,
        deliver=function,
        function_arn=FUNCTION_ARN,
        on_failure=send,
        log=errors.append,
    )
    assert poller.poll_once() == 0  # read to the end of the (empty) stream
    streams_table.put("a")
    streams_table.put("b")
    # When the send fails, and the stream is polled again
    with pytest.raises(ConnectionError):
        poller.poll_once()
    poller.poll_once()
    # Then the failed batch was tried again from the checkpoint and sent; nothing before it was
    # delivered twice
    assert function.keys() == [["a"], ["b"], ["b"]]
    (message,) = sent
    assert message["DDBStreamBatchInfo"]["startSequenceNumber"] == sequence_number(
        function.events[1]["Records"][0]
    )


def test_records_older_than_the_maximum_age_go_to_the_destination_undelivered(
    streams_table: StreamTable,
) -> None:
    # Given two records, and a poller whose clock reads ten minutes after they were written
    streams_table.put("a", email="jane@example.com")
    streams_table.put("b")
    function = Function()
    errors: list[str] = []
    sent: list[dict[str, Any]] = []
    poller = make_poller(
        streams_table,
        function,
        errors,
        sent=sent,
        MaximumRecordAgeInSeconds=60,
        DestinationConfig=TO_QUEUE,
        clock=lambda: time.time() + 600,
    )
    # When it polls the stream
    delivered = poller.poll_once()
    # Then the function never gets them: the destination gets their invocation record, as too
    # old before any attempt, and they are not read again
    assert delivered == 0
    assert function.events == []
    (message,) = sent
    assert message["requestContext"]["condition"] == "RecordAgeExceeded"
    assert message["requestContext"]["approximateInvokeCount"] == 0
    assert "responseContext" not in message
    assert message["DDBStreamBatchInfo"]["batchSize"] == 2
    (logged,) = errors
    assert "RecordAgeExceeded" in logged
    assert "example.com" not in json.dumps(sent) + logged
    assert poller.poll_once() == 0
    assert len(sent) == 1


def test_records_younger_than_the_maximum_age_are_delivered(streams_table: StreamTable) -> None:
    # Given a record just written, and a maximum age of an hour
    streams_table.put("a")
    function = Function()
    errors: list[str] = []
    sent: list[dict[str, Any]] = []
    poller = make_poller(
        streams_table,
        function,
        errors,
        sent=sent,
        MaximumRecordAgeInSeconds=3600,
        DestinationConfig=TO_QUEUE,
    )
    # When the poller reads it
    delivered = poller.poll_once()
    # Then the function gets it, and the destination nothing
    assert delivered == 1
    assert function.keys() == [["a"]]
    assert sent == []
    assert errors == []


def test_a_failing_batch_is_retried_until_its_records_are_too_old(
    streams_table: StreamTable,
) -> None:
    # Given unlimited retries, a function that fails every attempt, and a clock that moves a
    # minute on at each attempt (the function gives in after ten, should age not end them)
    now = [time.time()]
    attempts: list[float] = []

    def fail_a_minute_later(event: dict[str, Any]) -> None:
        attempts.append(now[0])
        now[0] += 60
        if len(attempts) <= 10:
            raise RuntimeError("cannot render")

    function = Function(fail_a_minute_later)
    errors: list[str] = []
    sent: list[dict[str, Any]] = []
    poller = make_poller(
        streams_table,
        function,
        errors,
        sent=sent,
        MaximumRetryAttempts=-1,
        MaximumRecordAgeInSeconds=60,
        DestinationConfig=TO_QUEUE,
        clock=lambda: now[0],
    )
    streams_table.put("a")
    # When the poller delivers it
    delivered = poller.poll_once()
    # Then once older than the maximum age the record is discarded to the destination, with
    # the attempts made and the function's error
    assert delivered == 0
    assert 1 <= len(function.events) <= 3
    (message,) = sent
    assert message["requestContext"]["condition"] == "RecordAgeExceeded"
    assert message["requestContext"]["approximateInvokeCount"] == len(function.events)
    assert message["responseContext"]["functionError"] == "Unhandled"
    assert message["DDBStreamBatchInfo"]["startSequenceNumber"] == sequence_number(
        function.events[0]["Records"][0]
    )


def test_with_a_parallelization_factor_items_go_in_parallel_each_in_order(
    streams_table: StreamTable,
) -> None:
    # Given three changes to each of eight items, and a function that takes a while per batch
    invocations: list[tuple[float, float, set[str]]] = []

    def slow(event: dict[str, Any]) -> None:
        started = time.monotonic()
        time.sleep(0.2)
        items = {record["dynamodb"]["Keys"]["pk"]["S"] for record in event["Records"]}
        invocations.append((started, time.monotonic(), items))

    function = Function(slow)
    errors: list[str] = []
    poller = make_poller(streams_table, function, errors, BatchSize=2, ParallelizationFactor=4)
    for change in range(3):
        for item in range(8):
            streams_table.put(f"item{item}", change=str(change))
    # When the poller delivers them
    delivered = poller.poll_once()
    # Then invocations overlapped in time, never two holding the same item, and each item's
    # changes arrived once, in order
    assert delivered == 24
    overlapping = [
        (a_items, b_items)
        for (a_start, a_end, a_items), (b_start, b_end, b_items) in itertools.combinations(
            invocations, 2
        )
        if a_start < b_end and b_start < a_end
    ]
    assert overlapping
    assert all(not a_items & b_items for a_items, b_items in overlapping)
    arrivals: dict[str, list[str]] = {}
    for event in function.events:
        for record in event["Records"]:
            pk = record["dynamodb"]["Keys"]["pk"]["S"]
            arrivals.setdefault(pk, []).append(record["dynamodb"]["NewImage"]["change"]["S"])
    assert arrivals == {f"item{item}": ["0", "1", "2"] for item in range(8)}
    assert errors == []


def test_a_restart_delivers_what_one_lane_held_back_and_nothing_other_lanes_settled(
    streams_table: StreamTable, tmp_path: Path
) -> None:
    # Given a change the function fails on until the stack stops, written before changes to
    # eight other items, and four lanes
    streams_table.put("stuck")
    items = [f"item{item}" for item in range(8)]
    for item in items:
        streams_table.put(item)
    processed: list[str] = []
    others_processed = threading.Event()

    def fail_on_stuck(event: dict[str, Any]) -> None:
        keys = [record["dynamodb"]["Keys"]["pk"]["S"] for record in event["Records"]]
        if "stuck" in keys:
            time.sleep(0.05)
            raise RuntimeError("cannot render")
        processed.extend(keys)
        others_processed.set()

    checkpoint = tmp_path / "checkpoint.json"
    errors: list[str] = []
    function = Function(fail_on_stuck)
    poller = make_poller(
        streams_table,
        function,
        errors,
        checkpoint_path=checkpoint,
        BatchSize=1,
        ParallelizationFactor=4,
        MaximumRetryAttempts=-1,
    )
    # When the stack stops once other lanes processed changes written after the stuck one,
    # and starts again
    poller.start()
    try:
        assert others_processed.wait(timeout=10)
    finally:
        assert poller.stop(timeout=10)
    restarted = Function()
    make_poller(
        streams_table,
        restarted,
        errors,
        checkpoint_path=checkpoint,
        BatchSize=1,
        ParallelizationFactor=4,
    ).poll_once()
    # Then the restart delivers the stuck change and what waited behind it, and none of the
    # changes already processed
    redelivered = list(itertools.chain.from_iterable(restarted.keys()))
    assert processed
    assert "stuck" in redelivered
    assert sorted(processed + redelivered) == sorted(["stuck", *items])
    assert errors == []


@pytest.mark.parametrize(
    "out_of_range",
    [
        {"MaximumRecordAgeInSeconds": 59},
        {"MaximumRecordAgeInSeconds": 604_801},
        {"ParallelizationFactor": 0},
        {"ParallelizationFactor": 11},
    ],
)
def test_a_value_aws_would_reject_is_refused(out_of_range: dict[str, int]) -> None:
    properties = {"Stream": "arn:stream", "StartingPosition": "TRIM_HORIZON"} | out_of_range
    with pytest.raises(ValueError, match=next(iter(out_of_range))):
        StreamMapping.from_properties(properties)
