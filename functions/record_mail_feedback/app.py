"""SES bounce and complaint feedback (through the SNS topic the mail's configuration set
publishes to): an address whose mail bounced for good, or whose owner complained, gets no more
notice mail (mail_limits.py). Addresses are never logged.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.data_classes import SNSEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from appointments import mail_limits
from appointments.observability import count, logger, metrics


@logger.inject_lambda_context
@metrics.log_metrics
@event_source(data_class=SNSEvent)
def lambda_handler(event: SNSEvent, context: LambdaContext) -> dict[str, Any]:
    now = datetime.now(UTC)
    suppressed = 0
    for record in event.records:
        try:
            notification = json.loads(record.sns.message)
        except ValueError:
            logger.warning("mail feedback that is not JSON")
            continue
        reason, addresses = mail_limits.recipients_to_suppress(notification)
        for address in addresses:
            mail_limits.suppress(address, reason, now)
        suppressed += len(addresses)
        count(f"MailFeedback{reason.title()}")
    count("AddressesSuppressed", suppressed)
    return {"suppressed": suppressed}
