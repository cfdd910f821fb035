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
  discarded, and ``DestinationConfig.OnFailure`` receives the invocation record AWS sends
  (condition ``RetryAttemptsExhausted``).
- ``MaximumRecordAgeInSeconds`` (-1: until the record leaves the stream): records older than
  this (by their ApproximateCreationDateTime) are discarded instead of delivered, before the
  first attempt or between retries, and the destination gets their invocation record (condition
  ``RecordAgeExceeded``). DynamoDB Local truncates that time to the minute, so locally a record
  may look up to a minute older than it is.
- ``ParallelizationFactor``: a shard's records are split into that many lanes by a hash of the
  item's keys, and the lanes' batches are delivered concurrently (each lane in its own thread),
  so one item's changes stay in order while different items go in parallel. Retries,
  bisection and partial batch responses work per lane. The checkpoint only moves past a record
  once every record before it is settled (processed or discarded). The records other lanes
  settled beyond it are kept in the checkpoint file too, so a restart delivers exactly the
  unsettled ones (AWS may deliver those settled ones again; at least once allows both). The
  lanes of one page read from the shard all end before the next page is read.

Delivery is at least once, as on AWS: ``stop`` ends delivery after the batches in flight, and a
batch cut off by it is delivered again at the next start.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
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
# The ranges CloudFormation accepts for the event's properties.
_RECORD_AGE_RANGE: Final = range(60, 604_800 + 1)
_PARALLELIZATION_RANGE: Final = range(1, 10 + 1)


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
    maximum_record_age_seconds: int = -1  # -1: delivered until the record leaves the stream
    parallelization_factor: int = 1  # concurrent batches per shard

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
            maximum_record_age_seconds=int(unread.pop("MaximumRecordAgeInSeconds", -1)),
            parallelization_factor=int(unread.pop("ParallelizationFactor", 1)),
        )
        age = mapping.maximum_record_age_seconds
        if age != -1 and age not in _RECORD_AGE_RANGE:
            raise ValueError(f"MaximumRecordAgeInSeconds is -1 or 60 to 604800, not {age}")
        if mapping.parallelization_factor not in _PARALLELIZATION_RANGE:
            raise ValueError(
                f"ParallelizationFactor is 1 to 10, not {mapping.parallelization_factor}"
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


@dataclass
class _Progress:
    """Where the mapping stands in one shard: ``position``, the last record before which every
    record is settled (None: none yet), and the records other lanes settled beyond it."""

    position: str | None = None
    settled_beyond: set[str] = field(default_factory=set)

    def settle(self, numbers: Iterable[str], page: list[str]) -> None:
        """Mark records settled, then move the position along ``page`` (the sequence numbers
        read, in stream order) past every record settled without a gap."""
        self.settled_beyond.update(numbers)
        for number in page:
            if self.position is not None and int(number) <= int(self.position):
                continue
            if number not in self.settled_beyond:
                break
            self.position = number
        if self.position is not None:
            last = int(self.position)
            self.settled_beyond = {n for n in self.settled_beyond if int(n) > last}

    def saved(self) -> str | dict[str, Any] | None:
        """As the checkpoint file holds it: the position alone while no lane is ahead."""
        if not self.settled_beyond:
            return self.position
        return {"position": self.position, "settledAfter": sorted(self.settled_beyond, key=int)}

    @classmethod
    def loaded(cls, saved: Any) -> _Progress:
        """From the file: a position alone, or with the records settled beyond it."""
        if isinstance(saved, str):
            return cls(saved)
        position = saved["position"]
        return cls(
            None if position is None else str(position), {str(n) for n in saved["settledAfter"]}
        )


class StreamPoller:
    """Polls one stream and invokes ``deliver`` as the event source mapping ``mapping`` does.

    ``poll_once`` can be driven directly (tests) or by ``start``/``stop`` (a background daemon
    thread); a lock serialises them. Use one checkpoint file per poller. With a
    ParallelizationFactor above 1, ``deliver`` is called from several threads at once, as the
    local stack's runtime allows up to the function's concurrency (more wait their turn).
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
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``clock`` gives the time (epoch seconds) that records' ages are measured against."""
        if mapping.on_failure_destination is not None and on_failure is None:
            raise ValueError(f"no sender for the on-failure {mapping.on_failure_destination}")
        self._mapping = mapping
        self._client = streams_client
        self._deliver = deliver
        self._function_arn = function_arn
        self._on_failure = on_failure
        self._log = log
        self._checkpoint_path = checkpoint_path
        self._clock = clock
        # AWS puts the table's region in each record; DynamoDB Local says "ddblocal" there.
        self._region = str(streams_client.meta.region_name)
        self._shards: dict[str, _Shard] = {}
        self._progress: dict[str, _Progress] = self._load_checkpoints()
        self._progress_lock = threading.Lock()  # lanes settle records concurrently
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
        """Stop delivering after the batches in flight; wait up to ``timeout`` seconds for them.

        Returns False when a batch still runs after ``timeout``: the poller delivers nothing
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
        checkpoint = self._progress_of(shard).position
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
                delivered += self._settle_page(shard, records)
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

    def _settle_page(self, shard: _Shard, records: list[dict[str, Any]]) -> int:
        """Deliver a page read from the shard, its lanes concurrently; return how many records
        the function processed. Records other lanes settled before a restart are skipped.

        A lane that failed (e.g. its send to the destination) raises once every lane is done.
        """
        page = [_sequence_number(record) for record in records]
        with self._progress_lock:
            progress = self._progress_of(shard)
            if progress.settled_beyond.intersection(page):  # settled before a restart
                records = [r for r in records if _sequence_number(r) not in progress.settled_beyond]
                progress.settle((), page)
                self._save_checkpoints()
        lanes = self._lanes(records)
        if len(lanes) <= 1:
            return sum(self._settle_lane(shard, page, lane) for lane in lanes)
        outcomes: list[int | Exception] = [0] * len(lanes)

        def settle(index: int, lane: list[dict[str, Any]]) -> None:
            try:
                outcomes[index] = self._settle_lane(shard, page, lane)
            except Exception as exc:
                outcomes[index] = exc

        threads = [
            threading.Thread(
                target=settle, args=(index, lane), name=f"stream-lane:{index}", daemon=True
            )
            for index, lane in enumerate(lanes)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for outcome in outcomes:
            if isinstance(outcome, Exception):
                raise outcome
        return sum(outcome for outcome in outcomes if isinstance(outcome, int))

    def _lanes(self, records: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
        """Split by a stable hash of the item's keys: one item's changes share a lane, in
        stream order. Empty lanes are left out."""
        factor = self._mapping.parallelization_factor
        lanes: list[list[dict[str, Any]]] = [[] for _ in range(factor)]
        for record in records:
            keys = json.dumps(record["dynamodb"].get("Keys", {}), sort_keys=True)
            digest = hashlib.sha256(keys.encode("utf-8")).digest()
            lanes[int.from_bytes(digest[:8], "big") % factor].append(record)
        return [lane for lane in lanes if lane]

    def _settle_lane(self, shard: _Shard, page: list[str], records: list[dict[str, Any]]) -> int:
        """A lane's records, BatchSize at a time, one batch after the other."""
        size = self._mapping.batch_size
        return sum(
            self._settle(shard, page, records[start : start + size])
            for start in range(0, len(records), size)
        )

    def _settle(self, shard: _Shard, page: list[str], batch: list[dict[str, Any]]) -> int:
        """Deliver one batch until each record is processed or discarded, moving the checkpoint
        along; return how many the function processed. Stopped midway, the rest waits."""
        pending = [batch]  # in stream order; bisection replaces the first by its halves
        delivered = attempts = 0
        outcome: _Outcome | None = None  # of the last failed attempt, while attempts > 0
        while pending and not self._stop_event.is_set():
            records = pending[0]
            aged = self._aged(records)
            if aged:  # checked before each attempt, so also between retries
                last = outcome if attempts else None
                self._discard(shard, records[:aged], "RecordAgeExceeded", attempts, last)
                self._settled(shard, page, records[:aged])
                records = pending[0] = records[aged:]
                if not records:
                    pending.pop(0)
                    attempts = 0
                    continue
            outcome = self._invoke(records)
            if outcome.failed_at is None:
                delivered += len(records)
                self._settled(shard, page, records)
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
                self._settled(shard, page, records[: outcome.failed_at])
                records = pending[0] = records[outcome.failed_at :]
                attempts = 0
            attempts += 1
            if 0 <= self._mapping.maximum_retry_attempts < attempts:
                self._discard(shard, records, "RetryAttemptsExhausted", attempts, outcome)
                self._settled(shard, page, records)
                pending.pop(0)
                attempts = 0
        return delivered

    def _aged(self, records: list[dict[str, Any]]) -> int:
        """How many records, from the first, are older than MaximumRecordAgeInSeconds."""
        maximum = self._mapping.maximum_record_age_seconds
        if maximum < 0:
            return 0
        oldest_allowed = self._clock() - maximum
        aged = 0
        for record in records:
            created = record["dynamodb"].get("ApproximateCreationDateTime")
            if not isinstance(created, int | float) or created >= oldest_allowed:
                break
            aged += 1
        return aged

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
        self,
        shard: _Shard,
        records: list[dict[str, Any]],
        condition: str,
        attempts: int,
        outcome: _Outcome | None,
    ) -> None:
        """Send the invocation record to the on-failure destination (a failure to send raises:
        the batch is then read again, not lost), and log identifiers only, never contents.

        ``outcome`` is the last failed invocation; None when the records were never delivered
        (too old at the first attempt), and then the record has no ``responseContext``.
        """
        first, last = _sequence_number(records[0]), _sequence_number(records[-1])
        if self._on_failure is not None:
            message: dict[str, Any] = {
                "requestContext": {
                    "requestId": str(uuid.uuid4()),
                    "functionArn": self._function_arn,
                    "condition": condition,
                    "approximateInvokeCount": attempts,
                },
            }
            if outcome is not None:
                response = {"statusCode": 200, "executedVersion": "$LATEST"}
                response |= {"functionError": "Unhandled"} if outcome.function_error else {}
                message["responseContext"] = response
            self._on_failure(
                message
                | {
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
        why = condition if outcome is None else f"{condition}: {outcome.reason}"
        self._report(
            f"ERROR {self._mapping.stream_arn} {shard.shard_id}: discarded {len(records)} "
            f"record(s) after {attempts} attempt(s) ({why}); "
            f"startSequenceNumber={first} endSequenceNumber={last}"
        )

    # ------------------------------------------------------------------ checkpoints

    def _progress_of(self, shard: _Shard) -> _Progress:
        return self._progress.setdefault(shard.shard_id, _Progress())

    def _settled(self, shard: _Shard, page: list[str], records: list[dict[str, Any]]) -> None:
        """Records processed or discarded: move the checkpoint and keep it in the file."""
        with self._progress_lock:
            self._progress_of(shard).settle(map(_sequence_number, records), page)
            self._save_checkpoints()

    def _load_checkpoints(self) -> dict[str, _Progress]:
        """{shard_id: progress}; a missing or unreadable file means a new mapping."""
        path = self._checkpoint_path
        if path is None or not path.exists():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return {str(shard): _Progress.loaded(saved) for shard, saved in dict(data).items()}
        except (OSError, ValueError, TypeError, KeyError) as exc:
            self._report(f"WARNING checkpoint file {path} unreadable ({_describe(exc)}); ignored")
            return {}

    def _save_checkpoints(self) -> None:
        """Write a temporary file and rename it, so a crash never leaves a torn file."""
        path = self._checkpoint_path
        if path is None:
            return
        saved = {shard: progress.saved() for shard, progress in self._progress.items()}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(f".{path.name}.tmp")
            temporary.write_text(
                json.dumps(
                    {shard: at for shard, at in saved.items() if at is not None},
                    indent=2,
                    sort_keys=True,
                )
            )
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
