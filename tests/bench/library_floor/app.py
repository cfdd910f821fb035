"""What every API function imports before any code of its own: DynamoDB through pynamodb,
Powertools' logger and metrics, and its REST resolver with request validation (which brings
pydantic's model building). The cold-start bench times it beside the functions: the distance
between a function and this line is the product's own."""

import pynamodb.models  # noqa: F401 - imported for its cost
from aws_lambda_powertools import Logger, Metrics  # noqa: F401 - imported for its cost
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

APIGatewayRestResolver(enable_validation=True)
