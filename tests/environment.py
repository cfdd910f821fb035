"""The test environment: fake credentials and fixed resource names, set before any import of the
domain package (pynamodb models read their table names when first imported), and the test hooks
on AWS requests, installed before any client exists."""

from __future__ import annotations

import os

for variable in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
    os.environ.pop(variable, None)
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "OFFICES_TABLE": "test-OfficesTable",
        "SLOTS_TABLE": "test-SlotsTable",
        "APPOINTMENTS_TABLE": "test-AppointmentsTable",
        "APPLICANTS_TABLE": "test-ApplicantsTable",
        "LIMITS_TABLE": "test-LimitsTable",
        "SERVICE_SECRET_NAME": "test/service-secret",
        "NOTICES_BUCKET": "test-notices",
        # Challenges of the least work when calm: the tests solve one per booking (the rush's
        # work is the default's, and test_challenges checks how the work rises).
        "CHALLENGE_CALM_WORK": "1",
        "POWERTOOLS_METRICS_NAMESPACE": "Appointments",
        "POWERTOOLS_SERVICE_NAME": "appointments",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }
)


def _share_one_loader_between_sessions() -> None:
    """Every botocore session (pynamodb opens one per connection, boto3 one per mock) reads
    the service models from disk again (JSON of several MB), and tests reset both for every
    test: reading models was a third of each test's set-up. All sessions of the test run share
    one loader instead, so the models are read once per process."""
    import botocore.loaders  # noqa: PLC0415 - after the environment above
    import botocore.session  # noqa: PLC0415

    shared = botocore.loaders.create_loader()
    create_loader = botocore.loaders.create_loader

    def loader_for(search_path_string: str | None = None) -> botocore.loaders.Loader:
        return shared if search_path_string is None else create_loader(search_path_string)

    botocore.session.create_loader = loader_for  # type: ignore[attr-defined]


_share_one_loader_between_sessions()


def _hook_every_client() -> None:
    """Test hooks reach every AWS client only if botocore knows them before the first client."""
    from tests import aws_hooks  # noqa: PLC0415 - after the environment above

    aws_hooks.install()


_hook_every_client()
