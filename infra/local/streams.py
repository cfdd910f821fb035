"""Deliver DynamoDB stream records to stream-triggered functions, as Lambda's event source mapping.

Why: the local stack runs SAM functions without Docker and without the Lambda service, so nothing
reads the tables' streams. ``StreamPoller`` plays the part of the event source mapping against
DynamoDB Local (or any DynamoDB Streams endpoint): it discovers shards, reads records in order,
converts them to the Lambda event shape, applies FilterCriteria, and implements retries, partial
batch responses and checkpoints, so handlers see locally what they would see on AWS.

Usage::

    poller = StreamPoller(
        streams_client=boto3.client("dynamodbstreams", endpoint_url=url),
        stream_arn=arn,
        deliver=lambda event: handler(event, context),
    )
    poller.start()  # background daemon thread
    ...
    poller.stop()

Delivery is at-least-once, as on AWS: after a crash, records since the last checkpoint are
delivered again. ``stop`` ends delivery after the batch in flight, whatever the backlog; the
checkpoint then names the last record processed, and the next start resumes after it.
"""

from __future__ import annotations

import contextlib
import copy
import json
import operator
import os
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final, Literal

from botocore.exceptions import ClientError

__all__ = [
    "Deliver",
    "StreamPoller",
    "matches_pattern",
    "parse_filters",
    "to_lambda_record",
]

Deliver = Callable[[dict[str, Any]], dict[str, Any] | None]
"""Invoked with ``{"Records": [...]}``; returns the function's result or raises."""

StartingPosition = Literal["LATEST", "TRIM_HORIZON"]

# GetRecords returns at most 1000 records per call.
_GET_RECORDS_LIMIT: Final = 1000
# Pause after an error in the background loop, so a dead endpoint is not hammered.
_ERROR_BACKOFF_S: Final = 1.0
_EXPIRED: Final = "ExpiredIteratorException"
_TRIMMED: Final = "TrimmedDataAccessException"


# --------------------------------------------------------------------------- record conversion


def to_lambda_record(raw: Mapping[str, Any], *, stream_arn: str, region: str) -> dict[str, Any]:
    """Turn a GetRecords record into the record Lambda passes to the function.

    Why: boto3 parses ``ApproximateCreationDateTime`` into a datetime, but Lambda events carry
    epoch seconds (a JSON number), and Lambda adds ``eventSourceARN``.
    """
    dynamodb = dict(raw.get("dynamodb", {}))
    created = dynamodb.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        dynamodb["ApproximateCreationDateTime"] = created.timestamp()
    record: dict[str, Any] = {
        "eventID": raw.get("eventID"),
        "eventName": raw.get("eventName"),
        "eventVersion": raw.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    }
    if "userIdentity" in raw:  # present on TTL deletions
        record["userIdentity"] = dict(raw["userIdentity"])
    return record


# --------------------------------------------------------------------------- event filtering


class _Missing:
    """Marker for 'this path does not exist in the record' (distinct from JSON null)."""


_MISSING: Final = _Missing()


def parse_filters(filters: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Parse FilterCriteria ``Filters`` into pattern dicts, rejecting malformed ones up front.

    Why: AWS rejects an invalid pattern when the mapping is created; failing at construction
    keeps a typo from silently dropping every record.
    """
    patterns: list[dict[str, Any]] = []
    for index, item in enumerate(filters or []):
        raw = item.get("Pattern") if isinstance(item, dict) else None
        try:
            pattern = json.loads(raw) if isinstance(raw, str) else raw
        except json.JSONDecodeError as exc:
            raise ValueError(f"filters[{index}].Pattern is not valid JSON: {exc}") from exc
        if not isinstance(pattern, dict):
            raise ValueError(f"filters[{index}].Pattern must be a JSON object")
        _validate_pattern(pattern, f"filters[{index}].Pattern")
        patterns.append(pattern)
    return patterns


_RULE_KEYS: Final = frozenset(
    {"exists", "prefix", "suffix", "equals-ignore-case", "anything-but", "numeric"}
)
_NUMERIC_OPS: Final[dict[str, Callable[[float, float], bool]]] = {
    "<": operator.lt,
    "<=": operator.le,
    "=": operator.eq,
    ">": operator.gt,
    ">=": operator.ge,
}


def _validate_pattern(pattern: Mapping[str, Any], where: str) -> None:
    """Reject what the matcher cannot evaluate, so matching never raises mid-stream."""
    for key, rule in pattern.items():
        if isinstance(rule, dict):
            _validate_pattern(rule, f"{where}.{key}")
            continue
        if not isinstance(rule, list) or not rule:
            raise ValueError(f"{where}.{key} must be an object or a non-empty list of rules")
        for item in rule:
            if isinstance(item, dict) and not _valid_rule(item):
                raise ValueError(f"{where}.{key}: unsupported filter rule {json.dumps(item)}")
            if isinstance(item, list):
                raise ValueError(f"{where}.{key}: nested lists are not valid rules")


def _valid_rule(rule: Mapping[str, Any]) -> bool:
    if len(rule) != 1 or not set(rule) <= _RULE_KEYS:
        return False
    name, arg = next(iter(rule.items()))
    if name == "exists":
        return isinstance(arg, bool)
    if name in ("prefix", "suffix", "equals-ignore-case"):
        return isinstance(arg, str)
    if name == "anything-but":
        if isinstance(arg, dict):
            return set(arg) == {"prefix"} and isinstance(arg["prefix"], str)
        items = arg if isinstance(arg, list) else [arg]
        return bool(items) and all(isinstance(x, str) or _is_number(x) for x in items)
    # numeric: operator/number pairs
    return (
        isinstance(arg, list)
        and len(arg) in (2, 4)
        and all(op in _NUMERIC_OPS for op in arg[::2])
        and all(_is_number(bound) for bound in arg[1::2])
    )


def matches_pattern(pattern: Mapping[str, Any], record: Any) -> bool:
    """EventBridge-style match of one Lambda record against one pattern (all keys must match).

    Supported rules: exact values (string, number, bool, null), ``prefix``, ``suffix``,
    ``equals-ignore-case``, ``anything-but`` (value, list or ``{"prefix": ...}``), ``exists``
    and ``numeric``. As in EventBridge, ``exists`` refers to leaf values, so a DynamoDB attribute
    is tested as ``{"NewImage": {"status": {"S": [{"exists": true}]}}}``; and a DynamoDB
    number is a string (``{"N": "5"}``), so ``numeric`` does not apply to it (as on AWS).
    """
    for key, rule in pattern.items():
        value = record[key] if isinstance(record, dict) and key in record else _MISSING
        if isinstance(rule, dict):
            if not matches_pattern(rule, value if isinstance(value, dict) else _MISSING):
                return False
        elif not _matches_leaf(rule, value):
            return False
    return True


def _matches_leaf(rules: list[Any], value: Any) -> bool:
    """Any rule in the list matching is enough; an array value matches if any element does."""
    if isinstance(value, list):
        values: list[Any] = value
    elif isinstance(value, dict):
        values = [_MISSING]  # an object is not a leaf: only "exists": false can match it
    else:
        values = [value]
    return any(_matches_rule(rule, v) for rule in rules for v in values)


def _same(a: Any, b: Any) -> bool:
    """JSON equality: True is not 1, but 1 == 1.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if _is_number(a) and _is_number(b):
        return bool(a == b)
    return type(a) is type(b) and bool(a == b)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _matches_rule(rule: Any, value: Any) -> bool:
    if not isinstance(rule, dict):
        return value is not _MISSING and _same(rule, value)
    ((name, arg),) = rule.items()  # parse_filters guarantees one known key
    if name == "exists":
        return (value is not _MISSING) is arg
    return value is not _MISSING and _CONTENT_RULES[name](arg, value)


def _anything_but(excluded: Any, value: Any) -> bool:
    if isinstance(excluded, dict):  # {"anything-but": {"prefix": "x"}}
        return isinstance(value, str) and not value.startswith(excluded["prefix"])
    candidates = excluded if isinstance(excluded, list) else [excluded]
    return not any(_same(candidate, value) for candidate in candidates)


def _numeric(conditions: list[Any], value: Any) -> bool:
    if not _is_number(value):
        return False
    pairs = zip(conditions[::2], conditions[1::2], strict=True)
    return all(_NUMERIC_OPS[op](float(value), float(bound)) for op, bound in pairs)


_CONTENT_RULES: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "prefix": lambda arg, value: isinstance(value, str) and value.startswith(arg),
    "suffix": lambda arg, value: isinstance(value, str) and value.endswith(arg),
    "equals-ignore-case": lambda arg, value: (
        isinstance(value, str) and value.casefold() == arg.casefold()
    ),
    "anything-but": _anything_but,
    "numeric": _numeric,
}


# --------------------------------------------------------------------------- polling


@dataclass
class _Shard:
    """What the poller knows about one shard."""

    shard_id: str
    parent_id: str | None
    initial_position: str  # LATEST | TRIM_HORIZON, used when there is no checkpoint
    iterator: str | None = None
    finished: bool = False  # closed and read to the end


@dataclass
class _Entry:
    """One record read from a shard; ``record`` is None when the filters dropped it."""

    sequence_number: str
    record: dict[str, Any] | None


class StreamPoller:
    """Polls one DynamoDB stream and invokes ``deliver`` like Lambda's event source mapping.

    ``poll_once`` can be driven directly (tests) or by ``start``/``stop`` (background daemon
    thread). Both are serialised by a lock, so mixing them is safe. ``LATEST`` is resolved when
    shards are first seen: by ``start()`` before it returns, or by the first ``poll_once()``.
    Use one checkpoint file per poller.
    """

    def __init__(
        self,
        *,
        streams_client: Any,
        stream_arn: str,
        deliver: Deliver,
        batch_size: int = 100,
        starting_position: StartingPosition = "LATEST",
        max_retries: int = 3,
        report_batch_item_failures: bool = True,
        poll_interval: float = 0.5,
        filters: list[dict[str, Any]] | None = None,
        on_error: Callable[[str], None] = print,
        checkpoint_path: Path | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        if starting_position not in ("LATEST", "TRIM_HORIZON"):
            raise ValueError("starting_position must be 'LATEST' or 'TRIM_HORIZON'")
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if poll_interval < 0:
            raise ValueError("poll_interval must be >= 0")
        self._client = streams_client
        self._stream_arn = stream_arn
        self._deliver = deliver
        self._batch_size = batch_size
        self._starting_position: str = starting_position
        self._max_retries = max_retries
        self._report_failures = report_batch_item_failures
        self._poll_interval = poll_interval
        self._patterns = parse_filters(filters)
        self._on_error = on_error
        self._checkpoint_path = checkpoint_path
        # AWS puts the table's region in each record; DynamoDB Local says "ddblocal" there.
        region = getattr(getattr(streams_client, "meta", None), "region_name", None)
        self._region: str | None = region if isinstance(region, str) else None

        self._shards: dict[str, _Shard] = {}
        self._checkpoints: dict[str, str] = self._load_checkpoints()
        self._initialised = False
        self._poll_lock = threading.Lock()
        self._lifecycle_lock = threading.Lock()
        self._stop_event = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ public API

    @property
    def running(self) -> bool:
        """True while the background thread is alive."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def poll_once(self) -> int:
        """Read what is available on every shard once and deliver it.

        Returns the number of records the function accepted (filtered-out and dropped records
        are not counted). Raises on stream errors (e.g. the table was deleted).
        """
        with self._poll_lock:
            self._refresh_shards()
            delivered = 0
            for shard in self._ordered_shards():
                if self._stop_event.is_set():
                    break
                if shard.finished or not self._parent_done(shard):
                    continue
                delivered += self._poll_shard(shard)
            return delivered

    def start(self) -> None:
        """Start the background thread; shards are discovered (LATEST fixed) before returning."""
        if threading.current_thread() is self._thread:  # called from deliver: already running
            return
        with self._lifecycle_lock:
            previous = self._thread
            if previous is not None and previous.is_alive():
                if not self._stop_event.is_set():
                    return
                previous.join()  # stop() was called from inside deliver: let it wind down
            self._stop_event.clear()
            try:
                with self._poll_lock:
                    self._refresh_shards()
            except Exception as exc:  # the loop retries; e.g. the endpoint is still starting
                self._report(f"{self._stream_arn}: shard discovery failed ({_describe(exc)})")
            self._thread = threading.Thread(
                target=self._run, name=f"stream-poller:{self._stream_arn}", daemon=True
            )
            self._thread.start()

    def stop(self, timeout: float | None = None) -> bool:
        """Stop delivering after the batch in flight; wait up to ``timeout`` seconds for it.

        Returns False when the batch is still running after ``timeout``: the poller stays
        stopping, and delivers nothing more (a failed or cut-off batch is not checkpointed, so
        it is delivered again at the next start). Called from inside ``deliver`` (the poller's
        own thread) it only asks the loop to end, since a thread cannot join itself.
        """
        if threading.current_thread() is self._thread:
            self._stop_event.set()
            return False
        with self._lifecycle_lock:
            self._stop_event.set()
            thread = self._thread
            if thread is not None:
                thread.join(timeout)
                if thread.is_alive():
                    return False  # start() waits for it to wind down
            self._thread = None
            self._stop_event.clear()
            return True

    # ------------------------------------------------------------------ loop

    def _run(self) -> None:
        """Poll until stopped; errors are reported and retried, never fatal to the thread."""
        while not self._stop_event.is_set():
            try:
                self.poll_once()
            except Exception as exc:
                self._report(f"{self._stream_arn}: poll failed ({_describe(exc)}); retrying")
                self._stop_event.wait(max(self._poll_interval, _ERROR_BACKOFF_S))
            else:
                self._stop_event.wait(self._poll_interval)

    def _report(self, message: str) -> None:
        """on_error must not kill the poller, whatever it does."""
        with contextlib.suppress(Exception):
            self._on_error(message)

    # ------------------------------------------------------------------ shards

    def _describe_shards(self) -> Iterator[dict[str, Any]]:
        """All shards of the stream (DescribeStream is paginated by ExclusiveStartShardId)."""
        kwargs: dict[str, Any] = {"StreamArn": self._stream_arn}
        while True:
            description = self._client.describe_stream(**kwargs)["StreamDescription"]
            yield from description.get("Shards", [])
            last = description.get("LastEvaluatedShardId")
            if not last:
                return
            kwargs["ExclusiveStartShardId"] = last

    def _refresh_shards(self) -> None:
        """Track new shards, forget trimmed ones, and acquire iterators for readable shards."""
        described = list(self._describe_shards())
        ids = {shard["ShardId"] for shard in described}
        resuming = any(shard_id in self._checkpoints for shard_id in ids)
        for info in described:
            shard_id: str = info["ShardId"]
            if shard_id in self._shards:
                continue
            parent = info.get("ParentShardId")
            closed = "EndingSequenceNumber" in info.get("SequenceNumberRange", {})
            if self._initialised or (resuming and parent in self._checkpoints):
                # Created after the poller started (or while it was down): read all of it, or
                # records between the parent's end and our first read would be lost.
                position = "TRIM_HORIZON"
            else:
                position = self._starting_position
            shard = _Shard(shard_id, parent if parent in ids else None, position)
            if position == "LATEST" and closed and shard_id not in self._checkpoints:
                shard.finished = True  # nothing will ever come after LATEST on a closed shard
            self._shards[shard_id] = shard
        for gone in set(self._shards) - ids:  # trimmed away (24 h) or a recreated stream
            del self._shards[gone]
        stale = set(self._checkpoints) - ids
        for shard_id in stale:
            del self._checkpoints[shard_id]
        if stale:
            self._save_checkpoints()
        for shard in self._ordered_shards():
            if not shard.finished and shard.iterator is None and self._parent_done(shard):
                shard.iterator = self._acquire(shard)
        self._initialised = True

    def _ordered_shards(self) -> list[_Shard]:
        """Parents before children, so a key's changes are delivered in order."""
        ordered: list[_Shard] = []
        seen: set[str] = set()

        def visit(shard: _Shard) -> None:
            if shard.shard_id in seen:
                return
            seen.add(shard.shard_id)
            parent = self._shards.get(shard.parent_id or "")
            if parent is not None:
                visit(parent)
            ordered.append(shard)

        for shard in list(self._shards.values()):
            visit(shard)
        return ordered

    def _parent_done(self, shard: _Shard) -> bool:
        parent = self._shards.get(shard.parent_id or "")
        return parent is None or parent.finished

    def _acquire(self, shard: _Shard, position: str | None = None) -> str:
        """GetShardIterator after the checkpoint, else at the shard's starting position.

        Why: a checkpointed sequence number may have been trimmed (24 h retention); AWS then
        continues at TRIM_HORIZON, and so do we, with a warning.
        """
        checkpoint = self._checkpoints.get(shard.shard_id)
        kwargs: dict[str, Any] = {"StreamArn": self._stream_arn, "ShardId": shard.shard_id}
        if position is None and checkpoint is not None:
            kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=checkpoint)
        else:
            kwargs["ShardIteratorType"] = position or shard.initial_position
        try:
            iterator: str = self._client.get_shard_iterator(**kwargs)["ShardIterator"]
        except ClientError as exc:
            if _error_code(exc) != _TRIMMED or kwargs["ShardIteratorType"] == "TRIM_HORIZON":
                raise
            self._warn_trimmed(shard)
            return self._acquire(shard, "TRIM_HORIZON")
        return iterator

    def _warn_trimmed(self, shard: _Shard) -> None:
        checkpoint = self._checkpoints.get(shard.shard_id, "none")
        self._report(
            f"WARNING {self._stream_arn} {shard.shard_id}: records were trimmed before they "
            f"were processed (checkpoint {checkpoint}); continuing at TRIM_HORIZON"
        )

    # ------------------------------------------------------------------ reading

    def _poll_shard(self, shard: _Shard) -> int:
        """Read pages until the shard is drained (empty page) or closed.

        The stored iterator only moves past a page once the page is processed, so an error
        mid-way re-reads the page instead of losing it (iterators are reusable until expiry).
        """
        delivered = 0
        reacquired = trimmed = False  # each recovery at most once per pass: no spinning
        while not self._stop_event.is_set():
            if shard.iterator is None:
                shard.iterator = self._acquire(shard)
            try:
                page = self._client.get_records(
                    ShardIterator=shard.iterator, Limit=_GET_RECORDS_LIMIT
                )
            except ClientError as exc:
                code = _error_code(exc)
                if code == _EXPIRED and not reacquired:
                    reacquired = True
                    shard.iterator = self._acquire(shard)
                    continue
                if code == _TRIMMED and not trimmed:
                    trimmed = True
                    self._warn_trimmed(shard)
                    shard.iterator = self._acquire(shard, "TRIM_HORIZON")
                    continue
                raise
            records: list[dict[str, Any]] = page.get("Records", [])
            if records:
                delivered += self._process(shard, [self._entry(raw) for raw in records])
                if self._stop_event.is_set():  # stopped mid-page: resume from the checkpoint
                    shard.iterator = None
                    break
            next_iterator = page.get("NextShardIterator")
            if next_iterator is None:  # closed shard, read to the end: children may start
                shard.iterator = None
                shard.finished = True
                break
            shard.iterator = next_iterator
            if not records:
                break
        return delivered

    def _entry(self, raw: Mapping[str, Any]) -> _Entry:
        region = self._region or str(raw.get("awsRegion", ""))
        record = to_lambda_record(raw, stream_arn=self._stream_arn, region=region)
        wanted = not self._patterns or any(matches_pattern(p, record) for p in self._patterns)
        return _Entry(str(record["dynamodb"]["SequenceNumber"]), record if wanted else None)

    # ------------------------------------------------------------------ delivering

    def _process(self, shard: _Shard, entries: list[_Entry]) -> int:
        """Deliver the matching entries in batches, with retries and partial batch responses.

        Why the bookkeeping: the checkpoint may only pass a record once it and everything before
        it were delivered, filtered out, or given up on, exactly like the mapping's position.
        """
        matched = [i for i, entry in enumerate(entries) if entry.record is not None]
        delivered = 0
        pos = 0  # index into `matched` of the first record not yet delivered
        attempts = 0  # failed deliveries starting at matched[pos]
        while pos < len(matched):
            if self._stop_event.is_set():  # the rest waits for the next start
                return delivered
            batch_end = min(pos + self._batch_size, len(matched))
            indexes = matched[pos:batch_end]
            # The batch also covers the filtered-out records up to the next match, so the
            # checkpoint can move over them.
            end = matched[batch_end] if batch_end < len(matched) else len(entries)
            batch = [record for record in (entries[i].record for i in indexes) if record]
            failed_at, reason = self._invoke(batch)
            if failed_at is None:
                delivered += len(batch)
                self._checkpoint(shard, entries[end - 1].sequence_number)
                pos, attempts = batch_end, 0
                continue
            if failed_at > 0:  # partial success: checkpoint just before the first failure
                delivered += failed_at
                pos += failed_at
                self._checkpoint(shard, entries[matched[pos] - 1].sequence_number)
                attempts = 0
            if self._stop_event.is_set():  # failed as the stack stopped it: not an attempt
                return delivered
            attempts += 1
            if attempts > self._max_retries:  # give up on the rest of this batch
                self._drop(shard, [entries[i] for i in matched[pos:batch_end]], attempts, reason)
                self._checkpoint(shard, entries[end - 1].sequence_number)
                pos, attempts = batch_end, 0
        if not matched:  # only filtered-out records: processed as a whole
            self._checkpoint(shard, entries[-1].sequence_number)
        return delivered

    def _invoke(self, batch: list[dict[str, Any]]) -> tuple[int | None, str]:
        """Call the function once; return (index of the first failed record or None, reason).

        A raise or a malformed batchItemFailures response fails the whole batch (index 0).
        """
        event = {"Records": copy.deepcopy(batch)}  # like JSON: the function cannot alter ours
        try:
            result = self._deliver(event)
        except Exception as exc:
            return 0, type(exc).__name__
        if not self._report_failures or not isinstance(result, dict):
            return None, ""
        failures = result.get("batchItemFailures")
        if not failures:  # missing, None or []: all succeeded
            return None, ""
        positions = {
            record["dynamodb"]["SequenceNumber"]: index for index, record in enumerate(batch)
        }
        if not isinstance(failures, list):
            return 0, "InvalidBatchItemFailuresResponse"
        found: list[int] = []
        for failure in failures:
            identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
            if not isinstance(identifier, str) or identifier not in positions:
                return 0, "InvalidBatchItemFailuresResponse"
            found.append(positions[identifier])
        return min(found), "BatchItemFailures"

    def _drop(self, shard: _Shard, entries: list[_Entry], attempts: int, reason: str) -> None:
        """Report a batch given up on; only identifiers, never record contents (personal data)."""
        sequence_numbers = [entry.sequence_number for entry in entries]
        self._report(
            f"ERROR {self._stream_arn} {shard.shard_id}: dropped {len(sequence_numbers)} "
            f"record(s) after {attempts} attempt(s) ({reason}); "
            f"startSequenceNumber={sequence_numbers[0]} "
            f"endSequenceNumber={sequence_numbers[-1]}"
        )

    # ------------------------------------------------------------------ checkpoints

    def _checkpoint(self, shard: _Shard, sequence_number: str) -> None:
        if self._checkpoints.get(shard.shard_id) == sequence_number:
            return
        self._checkpoints[shard.shard_id] = sequence_number
        self._save_checkpoints()

    def _load_checkpoints(self) -> dict[str, str]:
        """Read {shard_id: sequence_number}; a missing or unreadable file means a fresh start."""
        path = self._checkpoint_path
        if path is None or not path.exists():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            self._report(f"WARNING checkpoint file {path} unreadable ({_describe(exc)}); ignored")
            return {}
        if not isinstance(data, dict):
            self._report(f"WARNING checkpoint file {path} is not a JSON object; ignored")
            return {}
        return {str(k): v for k, v in data.items() if isinstance(v, str)}

    def _save_checkpoints(self) -> None:
        """Write atomically (temp file + rename) so a crash never leaves a torn file."""
        path = self._checkpoint_path
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    json.dump(self._checkpoints, handle, indent=2, sort_keys=True)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp_name, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp_name)
                raise
        except OSError as exc:  # keep delivering; the in-memory checkpoint is still right
            self._report(f"WARNING could not write checkpoint file {path} ({_describe(exc)})")


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _describe(exc: BaseException) -> str:
    """Type and AWS error code only: messages may quote request data."""
    if isinstance(exc, ClientError):
        return f"{type(exc).__name__}: {_error_code(exc)}"
    return type(exc).__name__
