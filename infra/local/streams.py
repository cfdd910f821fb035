"""Lambda's DynamoDB event source mapping, for the stream-triggered functions of template.yaml.

Why: `make run` has no Lambda service, so nothing would read the tables' streams. A
``StreamPoller`` reads one stream from DynamoDB Local (or moto) and invokes the function as the
event source mapping does on AWS, honouring the properties of the function's ``DynamoDB`` event
(``StreamMapping``) and refusing any it does not play:

- ``StartingPosition: TRIM_HORIZON``: each shard is read from its oldest record, parents before
  children, so each item's changes arrive in order. The mapping's position (a checkpoint per
  shard) is kept in a file, so a restarted stack resumes where it stopped, as a mapping does.
- ``BatchSize``, ``MaximumBatchingWindowInSeconds``: up to BatchSize records per invocation;
  the stream is read once per window, so the records of a window are delivered together.
- ``FunctionResponseTypes: [ReportBatchItemFailures]``: a partial batch response retries the
  batch from its first failed record.
- ``BisectBatchOnFunctionError``: a batch whose invocation fails (the function raised or timed
  out) is split in two and each half retried; splitting does not consume retries.
- ``MaximumRetryAttempts`` (-1: until the record leaves the stream): then the batch is
  discarded, and ``DestinationConfig.OnFailure`` receives the invocation record AWS sends.

Delivery is at least once, as on AWS: ``stop`` ends delivery after the batch in flight, and a
batch cut off by it is delivered again at the next start.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, NamedTuple

from botocore.exceptions import ClientError

__all__ = ["Deliver", "OnFailure", "StreamMapping", "StreamPoller"]

Deliver = Callable[[dict[str, Any]], dict[str, Any] | None]
"""Invokes the function with ``{"Records": [...]}``; returns its result, raises if it failed."""
OnFailure = Callable[[dict[str, Any]], None]
"""Sends the invocation record of a discarded batch to the on-failure destination."""

# Without a batching window, Lambda polls each shard four times a second.
_BASE_POLL_SECONDS: Final = 0.25
_GET_RECORDS_LIMIT: Final = 1000
# Pause after an error in the background loop, so a dead endpoint is not hammered.
_ERROR_BACKOFF_SECONDS: Final = 1.0


@dataclass(frozen=True)
class StreamMapping:
    """The properties of a ``DynamoDB`` event that the poller honours, with AWS's defaults."""

    stream_arn: str
    batch_size: int = 100
    batching_window_seconds: float = 0.0
    report_batch_item_failures: bool = False
    bisect_on_function_error: bool = False
    maximum_retry_attempts: int = -1  # -1: retried until the record leaves the stream
    on_failure_destination: str | None = None  # an SQS queue ARN

    @classmethod
    def from_properties(cls, properties: Mapping[str, Any]) -> StreamMapping:
        """Read the event's resolved properties; refuse any the poller would silently ignore."""
        unread = dict(properties)
        if unread.pop("StartingPosition", None) != "TRIM_HORIZON":
            raise ValueError(
                "DynamoDB events are played locally from StartingPosition TRIM_HORIZON"
            )
        on_failure = unread.pop("DestinationConfig", {}).get("OnFailure")
        if on_failure is not None and on_failure.get("Type", "SQS") != "SQS":
            raise ValueError("the local on-failure destination of a DynamoDB event is an SQS queue")
        mapping = cls(
            stream_arn=str(unread.pop("Stream")),
            batch_size=int(unread.pop("BatchSize", cls.batch_size)),
            batching_window_seconds=float(unread.pop("MaximumBatchingWindowInSeconds", 0)),
            report_batch_item_failures="ReportBatchItemFailures"
            in unread.pop("FunctionResponseTypes", []),
            bisect_on_function_error=bool(unread.pop("BisectBatchOnFunctionError", False)),
            maximum_retry_attempts=int(unread.pop("MaximumRetryAttempts", -1)),
            on_failure_destination=None if on_failure is None else str(on_failure["Destination"]),
        )
        if unread:
            raise ValueError(f"DynamoDB event properties not played locally: {sorted(unread)}")
        return mapping


class _Outcome(NamedTuple):
    """One invocation: the index of the first record to retry (None: all done), and why."""

    failed_at: int | None
    reason: str = ""
    function_error: bool = False


@dataclass
class _Shard:
    shard_id: str
    parent_id: str | None
    iterator: str | None = None
    finished: bool = False  # closed and read to the end: its children may be read


class StreamPoller:
    """Polls one stream and invokes ``deliver`` as the event source mapping ``mapping`` does.

    ``poll_once`` can be driven directly (tests) or by ``start``/``stop`` (a background daemon
    thread); a lock serialises them. Use one checkpoint file per poller.
    """

    def __init__(
        self,
        mapping: StreamMapping,
        *,
        streams_client: Any,
        deliver: Deliver,
        function_arn: str,
        on_failure: OnFailure | None = None,
        log: Callable[[str], None] = print,
        checkpoint_path: Path | None = None,
    ) -> None:
        if mapping.on_failure_destination is not None and on_failure is None:
            raise ValueError(f"no sender for the on-failure {mapping.on_failure_destination}")
        self._mapping = mapping
        self._client = streams_client
        self._deliver = deliver
        self._function_arn = function_arn
        self._on_failure = on_failure
        self._log = log
        self._checkpoint_path = checkpoint_path
        # AWS puts the table's region in each record; DynamoDB Local says "ddblocal" there.
        self._region = str(streams_client.meta.region_name)
        self._shards: dict[str, _Shard] = {}
        self._checkpoints: dict[str, str] = self._load_checkpoints()
        self._poll_lock = threading.Lock()
        self._lifecycle_lock = threading.Lock()
        self._stop_event = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def poll_once(self) -> int:
        """Read what every shard has and deliver it; return how many records the function
        processed. Raises on stream errors (e.g. the table was deleted)."""
        with self._poll_lock:
            self._refresh_shards()
            delivered = 0
            for shard in sorted(self._shards.values(), key=self._depth):
                if self._stop_event.is_set():
                    break
                parent = self._shards.get(shard.parent_id or "")
                if not shard.finished and (parent is None or parent.finished):
                    delivered += self._poll_shard(shard)
            return delivered

    def start(self) -> None:
        with self._lifecycle_lock:
            if self._thread is not None and self._thread.is_alive():
                if not self._stop_event.is_set():
                    return
                self._thread.join()  # a stop that timed out: let its batch in flight end
            self._stop_event.clear()
            self._thread = threading.Thread(
                target=self._run, name=f"stream-poller:{self._mapping.stream_arn}", daemon=True
            )
            self._thread.start()

    def stop(self, timeout: float | None = None) -> bool:
        """Stop delivering after the batch in flight; wait up to ``timeout`` seconds for it.

        Returns False when the batch still runs after ``timeout``: the poller delivers nothing
        more, and the batch, not checkpointed, comes again at the next start.
        """
        with self._lifecycle_lock:
            self._stop_event.set()
            if self._thread is not None:
                self._thread.join(timeout)
                if self._thread.is_alive():
                    return False  # start() waits for it to wind down
            self._thread = None
            self._stop_event.clear()
            return True

    def _run(self) -> None:
        """Poll until stopped; errors are reported and retried, never fatal to the thread."""
        interval = self._mapping.batching_window_seconds or _BASE_POLL_SECONDS
        while not self._stop_event.is_set():
            try:
                self.poll_once()
            except Exception as exc:
                self._report(f"{self._mapping.stream_arn}: poll failed ({_describe(exc)})")
                self._stop_event.wait(max(interval, _ERROR_BACKOFF_SECONDS))
            else:
                self._stop_event.wait(interval)

    def _report(self, message: str) -> None:
        with contextlib.suppress(Exception):  # a failing log must not kill the poller
            self._log(message)

    # ------------------------------------------------------------------ shards

    def _refresh_shards(self) -> None:
        """Track the stream's shards (DescribeStream is paginated)."""
        described: list[dict[str, Any]] = []
        request: dict[str, Any] = {"StreamArn": self._mapping.stream_arn}
        while True:
            description = self._client.describe_stream(**request)["StreamDescription"]
            described += description.get("Shards", [])
            if not description.get("LastEvaluatedShardId"):
                break
            request["ExclusiveStartShardId"] = description["LastEvaluatedShardId"]
        ids = {info["ShardId"] for info in described}
        for info in described:
            parent = info.get("ParentShardId")
            shard = _Shard(info["ShardId"], parent if parent in ids else None)
            self._shards.setdefault(shard.shard_id, shard)
        for gone in set(self._shards) - ids:  # trimmed: its children need not wait for it
            del self._shards[gone]

    def _depth(self, shard: _Shard) -> int:
        """How many known ancestors: sorting by it puts parents before children."""
        depth = 0
        while (parent := self._shards.get(shard.parent_id or "")) is not None:
            depth, shard = depth + 1, parent
        return depth

    def _acquire(self, shard: _Shard) -> str:
        """After the checkpoint, else at TRIM_HORIZON; so too when the records after the
        checkpoint were trimmed unprocessed (24 h retention), as AWS continues then."""
        request = {"StreamArn": self._mapping.stream_arn, "ShardId": shard.shard_id}
        checkpoint = self._checkpoints.get(shard.shard_id)
        try:
            if checkpoint is not None:
                after = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": checkpoint}
                return str(self._client.get_shard_iterator(**request, **after)["ShardIterator"])
        except ClientError as exc:
            if _error_code(exc) != "TrimmedDataAccessException":
                raise
            self._report(
                f"WARNING {self._mapping.stream_arn} {shard.shard_id}: records after "
                f"checkpoint {checkpoint} were trimmed unprocessed; continuing at TRIM_HORIZON"
            )
        iterator = self._client.get_shard_iterator(**request, ShardIteratorType="TRIM_HORIZON")
        return str(iterator["ShardIterator"])

    def _poll_shard(self, shard: _Shard) -> int:
        """Read pages until the shard is drained (an empty page) or closed.

        After an error (an expired iterator, a failed send to the destination) or a stop, the
        next poll reads again from the checkpoint, so nothing is lost.
        """
        delivered = 0
        try:
            while not self._stop_event.is_set():
                page = self._client.get_records(
                    ShardIterator=shard.iterator or self._acquire(shard), Limit=_GET_RECORDS_LIMIT
                )
                records = [self._lambda_record(raw) for raw in page.get("Records", [])]
                size = self._mapping.batch_size
                for start in range(0, len(records), size):
                    delivered += self._settle(shard, records[start : start + size])
                if self._stop_event.is_set():
                    break
                shard.iterator = page.get("NextShardIterator")
                if shard.iterator is None:  # closed and read to the end: children may start
                    shard.finished = True
                if shard.finished or not records:
                    return delivered
        except Exception:
            shard.iterator = None
            raise
        shard.iterator = None
        return delivered

    def _lambda_record(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """A GetRecords record as Lambda passes it: with the table's region and the stream's ARN,
        and the creation time in epoch seconds (boto3 parses it into a datetime)."""
        dynamodb = dict(raw["dynamodb"])
        created = dynamodb.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            dynamodb["ApproximateCreationDateTime"] = created.timestamp()
        stream = self._mapping.stream_arn
        return {**raw, "awsRegion": self._region, "dynamodb": dynamodb, "eventSourceARN": stream}

    # ------------------------------------------------------------------ delivering

    def _settle(self, shard: _Shard, batch: list[dict[str, Any]]) -> int:
        """Deliver one batch until each record is processed or discarded, moving the checkpoint
        along; return how many the function processed. Stopped midway, the rest waits."""
        pending = [batch]  # in stream order; bisection replaces the first by its halves
        delivered = attempts = 0
        while pending and not self._stop_event.is_set():
            records = pending[0]
            outcome = self._invoke(records)
            if outcome.failed_at is None:
                delivered += len(records)
                self._checkpoint(shard, records[-1])
                pending.pop(0)
                attempts = 0
                continue
            if self._stop_event.is_set():  # failed as the stack stopped it: not an attempt
                return delivered
            bisect = self._mapping.bisect_on_function_error and outcome.function_error
            if bisect and len(records) > 1:  # splitting does not consume retries
                middle = len(records) // 2
                pending[0:1] = [records[:middle], records[middle:]]
                attempts = 0
                continue
            if outcome.failed_at > 0:  # partial success: retry from the first failed record
                delivered += outcome.failed_at
                self._checkpoint(shard, records[outcome.failed_at - 1])
                records = pending[0] = records[outcome.failed_at :]
                attempts = 0
            attempts += 1
            if 0 <= self._mapping.maximum_retry_attempts < attempts:
                self._discard(shard, records, attempts, outcome)
                self._checkpoint(shard, records[-1])
                pending.pop(0)
                attempts = 0
        return delivered

    def _invoke(self, batch: list[dict[str, Any]]) -> _Outcome:
        """Call the function once. A raise fails the whole batch; so does a malformed
        batchItemFailures response, as on AWS."""
        event = {"Records": copy.deepcopy(batch)}  # like JSON: the function cannot alter ours
        try:
            result = self._deliver(event)
        except Exception as exc:
            return _Outcome(0, type(exc).__name__, function_error=True)
        if not self._mapping.report_batch_item_failures or not isinstance(result, dict):
            return _Outcome(None)
        failures = result.get("batchItemFailures")
        if not failures:  # missing, None or []: all succeeded
            return _Outcome(None)
        positions = {_sequence_number(record): index for index, record in enumerate(batch)}
        identifiers = [
            failure.get("itemIdentifier") if isinstance(failure, dict) else None
            for failure in (failures if isinstance(failures, list) else [None])
        ]
        if not all(identifier in positions for identifier in identifiers):
            return _Outcome(0, "InvalidBatchItemFailuresResponse")
        return _Outcome(min(positions[str(i)] for i in identifiers), "BatchItemFailures")

    def _discard(
        self, shard: _Shard, records: list[dict[str, Any]], attempts: int, outcome: _Outcome
    ) -> None:
        """Send the invocation record to the on-failure destination (a failure to send raises:
        the batch is then read again, not lost), and log identifiers only, never contents."""
        first, last = _sequence_number(records[0]), _sequence_number(records[-1])
        if self._on_failure is not None:
            response = {"statusCode": 200, "executedVersion": "$LATEST"}
            response |= {"functionError": "Unhandled"} if outcome.function_error else {}
            self._on_failure(
                {
                    "requestContext": {
                        "requestId": str(uuid.uuid4()),
                        "functionArn": self._function_arn,
                        "condition": "RetryAttemptsExhausted",
                        "approximateInvokeCount": attempts,
                    },
                    "responseContext": response,
                    "version": "1.0",
                    "timestamp": _iso(datetime.now(UTC), "milliseconds"),
                    "DDBStreamBatchInfo": {
                        "shardId": shard.shard_id,
                        "startSequenceNumber": first,
                        "endSequenceNumber": last,
                        "approximateArrivalOfFirstRecord": _arrival(records[0]),
                        "approximateArrivalOfLastRecord": _arrival(records[-1]),
                        "batchSize": len(records),
                        "streamArn": self._mapping.stream_arn,
                    },
                }
            )
        self._report(
            f"ERROR {self._mapping.stream_arn} {shard.shard_id}: discarded {len(records)} "
            f"record(s) after {attempts} attempt(s) ({outcome.reason}); "
            f"startSequenceNumber={first} endSequenceNumber={last}"
        )

    # ------------------------------------------------------------------ checkpoints

    def _checkpoint(self, shard: _Shard, record: dict[str, Any]) -> None:
        self._checkpoints[shard.shard_id] = _sequence_number(record)
        self._save_checkpoints()

    def _load_checkpoints(self) -> dict[str, str]:
        """{shard_id: sequence_number}; a missing or unreadable file means a new mapping."""
        path = self._checkpoint_path
        if path is None or not path.exists():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return {str(shard): str(number) for shard, number in dict(data).items()}
        except (OSError, ValueError, TypeError) as exc:
            self._report(f"WARNING checkpoint file {path} unreadable ({_describe(exc)}); ignored")
            return {}

    def _save_checkpoints(self) -> None:
        """Write a temporary file and rename it, so a crash never leaves a torn file."""
        path = self._checkpoint_path
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(f".{path.name}.tmp")
            temporary.write_text(json.dumps(self._checkpoints, indent=2, sort_keys=True))
            os.replace(temporary, path)
        except OSError as exc:  # keep delivering; the checkpoint in memory is still right
            self._report(f"WARNING could not write checkpoint file {path} ({_describe(exc)})")


def _sequence_number(record: Mapping[str, Any]) -> str:
    return str(record["dynamodb"]["SequenceNumber"])


def _arrival(record: Mapping[str, Any]) -> str | None:
    created = record["dynamodb"].get("ApproximateCreationDateTime")
    if not isinstance(created, int | float):
        return None
    return _iso(datetime.fromtimestamp(created, UTC), "seconds")


def _iso(moment: datetime, timespec: str) -> str:
    """UTC as the invocation record writes it: 2019-11-14T00:13:49.717Z."""
    return moment.isoformat(timespec=timespec).replace("+00:00", "Z")


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _describe(exc: BaseException) -> str:
    """Type and AWS error code only: messages may quote request data."""
    if isinstance(exc, ClientError):
        return f"{type(exc).__name__}: {_error_code(exc)}"
    return type(exc).__name__
