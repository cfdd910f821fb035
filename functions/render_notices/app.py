"""Triggered by the appointments table's stream: keeps each appointment's notice in step with
it (notice_files.follow_change): renders every new version to S3 and e-mails its download
link, again when a lost notice is asked for, and deletes the notices when DynamoDB's TTL
purges the appointment.

Records are processed one by one with a partial batch response: a record that fails is
retried (and finally sent to the dead-letter queue) without blocking or losing the others.
A failure is logged by type and stack only: records, and SES's refusals, carry names and
addresses.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from appointments import notice_files
from appointments.observability import count, log_unexpected, logger, metrics

# A whole failed batch is reported like a partial one rather than raised: the batch
# processor's exception would quote every record's error to the log, personal data included.
processor = BatchProcessor(
    event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False
)


def handle_record(record: DynamoDBRecord) -> None:
    images = record.raw_event["dynamodb"]
    try:
        work = notice_files.follow_change(
            images.get("OldImage"), images.get("NewImage"), datetime.now(UTC)
        )
    except Exception as error:
        log_unexpected(error, "notice record failed")
        raise
    for metric, value in work.metrics().items():
        count(metric, value)


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    count("StreamRecordsSeen", len(event.get("Records", [])))
    return process_partial_response(
        event=event, record_handler=handle_record, processor=processor, context=context
    )
