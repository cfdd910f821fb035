"""Triggered by the appointments table's stream: renders the notice of every new version of
an appointment (booked, rescheduled, cancelled) to S3 and e-mails its download link to the
address on file (again when a lost notice is asked for), and deletes the notices when
DynamoDB's TTL purges the appointment.

Records are processed one by one with a partial batch response: a record that fails is
retried (and finally sent to the dead-letter queue) without blocking or losing the others.
Every step can be repeated: a retried record writes the same notice again and mails it unless
the mail was already accepted by SES, so a fault anywhere loses no mail (at worst it is sent
twice). A failure is logged by type and stack only: records, and SES's refusals, carry
names and addresses.
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
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from appointments import notice_files
from appointments.models import AppointmentModel
from appointments.observability import count, log_unexpected, logger, metrics

# A whole failed batch is reported like a partial one rather than raised: the batch
# processor's exception would quote every record's error to the log, personal data included.
processor = BatchProcessor(
    event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False
)
# A new notice is due when one of these changed; other changes (PIN failures, the notice
# bookkeeping itself) leave the notice as it is.
NOTICE_FIELDS = ("status", "slot_id", "start_utc", "office_id", "language", "name")


def _image(record: DynamoDBRecord, which: str) -> dict[str, Any] | None:
    image: dict[str, Any] | None = record.raw_event["dynamodb"].get(which)
    return image


def handle_record(record: DynamoDBRecord) -> None:
    try:
        _handle(record)
    except Exception as error:
        log_unexpected(error, "notice record failed")
        raise


def _handle(record: DynamoDBRecord) -> None:
    new_image, old_image = _image(record, "NewImage"), _image(record, "OldImage")
    if record.event_name == DynamoDBRecordEventName.REMOVE and old_image:
        deleted = notice_files.delete_notices(old_image["confirmation"]["S"])
        count("NoticesDeleted", deleted)
        return
    if not new_image:
        return
    changed = old_image is None or any(
        new_image.get(field) != old_image.get(field) for field in NOTICE_FIELDS
    )
    requested = old_image is not None and new_image.get("notice_requested_at") != old_image.get(
        "notice_requested_at"
    )
    if not (changed or requested):
        return
    appointment = AppointmentModel.from_raw_data(new_image)
    # A lost notice asked for again is the current notice, unless there is none yet.
    notice = None if changed else notice_files.current_notice(appointment)
    if notice is None:
        notice = notice_files.render_notice(appointment)
        count("NoticesRendered")
    if notice_files.mail_notice(appointment, notice, datetime.now(UTC)):
        count("NoticesMailed")


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    count("StreamRecordsSeen", len(event.get("Records", [])))
    return process_partial_response(
        event=event, record_handler=handle_record, processor=processor, context=context
    )
