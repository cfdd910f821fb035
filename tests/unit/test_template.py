"""Infrastructure tests of template.yaml: lint, data protection, least privilege, API wiring."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from appointments.api import make_resolver
from appointments.config import Settings
from infra import REPO_ROOT
from infra.layers import notice_layer
from infra.local.template import (
    TEMPLATE_PATH,
    References,
    function_specs,
    load_template,
    parameter_defaults,
    resolve,
    resources_of_type,
)
from infra.tools import upload_assets
from tests.helpers import as_list, load_function, policy_statements

RUNTIME = "python3.12"
TABLES = {"OfficesTable", "SlotsTable", "AppointmentsTable", "ApplicantsTable", "LimitsTable"}
TABLES_WITH_TTL = ("SlotsTable", "AppointmentsTable", "ApplicantsTable", "LimitsTable")

_FUNCTIONS = resources_of_type(load_template(), "AWS::Serverless::Function")
# Functions run by a schedule or a table stream; every other one serves API routes.
SCHEDULED_FUNCTIONS = {
    name
    for name, function in _FUNCTIONS.items()
    if any(event["Type"] == "ScheduleV2" for event in function["Properties"]["Events"].values())
}
STREAM_FUNCTIONS = {
    name
    for name, function in _FUNCTIONS.items()
    if any(event["Type"] == "DynamoDB" for event in function["Properties"]["Events"].values())
}
# Functions SNS notifications trigger (SES's bounce and complaint feedback).
NOTIFIED_FUNCTIONS = {
    name
    for name, function in _FUNCTIONS.items()
    if any(event["Type"] == "SNS" for event in function["Properties"]["Events"].values())
}
API_FUNCTIONS = set(_FUNCTIONS) - SCHEDULED_FUNCTIONS - STREAM_FUNCTIONS - NOTIFIED_FUNCTIONS
# How a function is allowed to read the service secret (which functions need it is derived in
# test_permissions_in_use.py, from the calls they make).
SECRET_READ_POLICY = {
    "AWSSecretsManagerGetSecretValuePolicy": {"SecretArn": {"Ref": "ServiceSecret"}}
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


@pytest.fixture(scope="module")
def tables(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = resources_of_type(template, "AWS::DynamoDB::Table")
    assert set(found) == TABLES
    return found


@pytest.fixture(scope="module")
def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return resources_of_type(template, "AWS::Serverless::Function")


def _api_events(function: dict[str, Any]) -> list[dict[str, Any]]:
    events = function["Properties"].get("Events", {})
    return [event for event in events.values() if event.get("Type") == "Api"]


# Set for libraries, not read by our code: fontconfig (WeasyPrint's fonts) and Powertools.
LIBRARY_VARIABLES = {"FONTCONFIG_FILE"}
LIBRARY_PREFIXES = ("POWERTOOLS_",)
ENVIRONMENT_READ = re.compile(r'os\.environ(?:\.get\(|\[)"([A-Z0-9_]+)"')


def variables_the_code_reads() -> set[str]:
    """The settings' names, and what the domain and the functions read from os.environ."""
    names = {str(field.alias) for field in Settings.model_fields.values()}
    for path in [*(REPO_ROOT / "layers").rglob("*.py"), *(REPO_ROOT / "functions").rglob("*.py")]:
        names |= set(ENVIRONMENT_READ.findall(path.read_text(encoding="utf-8")))
    return names


# ------------------------------------------------------------------------------------ lint


def test_cfn_lint_accepts_the_template() -> None:
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run(
        [str(cfn_lint), str(TEMPLATE_PATH)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# ---------------------------------------------------------------------------- tables


def test_every_table_has_point_in_time_recovery(tables: dict[str, dict[str, Any]]) -> None:
    without = [
        name
        for name, table in tables.items()
        if table["Properties"]
        .get("PointInTimeRecoverySpecification", {})
        .get("PointInTimeRecoveryEnabled")
        is not True
    ]
    assert without == []


def test_every_table_has_deletion_protection(tables: dict[str, dict[str, Any]]) -> None:
    without = [
        name
        for name, table in tables.items()
        if table["Properties"].get("DeletionProtectionEnabled") is not True
    ]
    assert without == []


def test_every_table_is_encrypted_with_sse(tables: dict[str, dict[str, Any]]) -> None:
    without = [
        name
        for name, table in tables.items()
        if table["Properties"].get("SSESpecification", {}).get("SSEEnabled") is not True
    ]
    assert without == []


def test_every_table_is_billed_per_request(tables: dict[str, dict[str, Any]]) -> None:
    modes = {name: table["Properties"].get("BillingMode") for name, table in tables.items()}
    assert modes == dict.fromkeys(TABLES, "PAY_PER_REQUEST")


def test_every_table_is_retained_on_stack_deletion(tables: dict[str, dict[str, Any]]) -> None:
    policies = {name: table.get("DeletionPolicy") for name, table in tables.items()}
    assert policies == dict.fromkeys(TABLES, "Retain")


def test_appointments_table_streams_new_and_old_images(
    tables: dict[str, dict[str, Any]],
) -> None:
    stream = tables["AppointmentsTable"]["Properties"].get("StreamSpecification")
    assert stream == {"StreamViewType": "NEW_AND_OLD_IMAGES"}


@pytest.mark.parametrize("table", TABLES_WITH_TTL)
def test_table_expires_items_by_ttl_on_expires_at(
    tables: dict[str, dict[str, Any]], table: str
) -> None:
    ttl = tables[table]["Properties"].get("TimeToLiveSpecification")
    assert ttl == {"AttributeName": "expires_at", "Enabled": True}


# ------------------------------------------------------------------ least privilege


def test_no_statement_uses_a_wildcard_action_or_resource(
    functions: dict[str, dict[str, Any]],
) -> None:
    offending = []
    for name, function in functions.items():
        for statement in policy_statements(function):
            actions = as_list(statement.get("Action", []))
            resources = as_list(statement.get("Resource", []))
            if (
                "NotAction" in statement
                or "NotResource" in statement
                or any("*" in action for action in actions)
                or "*" in resources
            ):
                offending.append((name, statement))
    assert offending == []


def test_no_managed_policy_or_policy_template_widens_the_grants(
    functions: dict[str, dict[str, Any]],
) -> None:
    """Besides inline statements, only the secret read policy is attached (no managed policy,
    no SAM template such as DynamoDBCrudPolicy)."""
    other_policies = [
        (name, policy)
        for name, function in functions.items()
        for policy in as_list(function["Properties"].get("Policies", []))
        if policy != SECRET_READ_POLICY
        and not (isinstance(policy, dict) and set(policy) == {"Statement"})
    ]
    assert other_policies == []


def test_every_environment_variable_the_template_sets_is_read(
    template: dict[str, Any], functions: dict[str, dict[str, Any]]
) -> None:
    # Given every variable the template sets, for all functions or for one
    global_variables = template["Globals"]["Function"]["Environment"]["Variables"]
    set_by_template = set(global_variables) | {
        name
        for function in functions.values()
        for name in function["Properties"].get("Environment", {}).get("Variables", {})
    }
    # Then each is read by the code or by a library it uses: none is left over
    unread = {
        name
        for name in set_by_template - variables_the_code_reads() - LIBRARY_VARIABLES
        if not name.startswith(LIBRARY_PREFIXES)
    }
    assert unread == set()


# ----------------------------------------------------------------------------- API


def test_every_api_function_has_one_api_event_and_site_functions_their_pages_on_the_api(
    functions: dict[str, dict[str, Any]],
) -> None:
    # An API function serves one operation; a site function serves the routes of its pages.
    rest_apis = {
        name: {event["Properties"].get("RestApiId").get("Ref") for event in _api_events(function)}
        for name, function in functions.items()
        if name in API_FUNCTIONS
    }
    single = {
        name: len(_api_events(function))
        for name, function in functions.items()
        if name in API_FUNCTIONS and not name.startswith("Site")
    }
    assert rest_apis == {name: {"Api"} for name in API_FUNCTIONS}
    assert set(single.values()) == {1}


def test_scheduled_functions_run_on_business_days_in_a_set_time_zone(
    functions: dict[str, dict[str, Any]],
) -> None:
    # (the weekend's dry-run check of the release: test_operations.py)
    for name in SCHEDULED_FUNCTIONS:
        events = functions[name]["Properties"]["Events"]
        assert {event["Type"] for event in events.values()} == {"ScheduleV2"}
        releases = [
            event["Properties"]
            for event in events.values()
            if "MON-FRI" in event["Properties"]["ScheduleExpression"]["Fn::Sub"][0]
        ]
        assert len(releases) == 1
        assert "Input" not in releases[0]
        for event in events.values():
            assert event["Properties"]["ScheduleExpressionTimezone"] == {"Ref": "ReleaseTimeZone"}
            assert "Arn" in event["Properties"]["DeadLetterConfig"]


def test_release_function_knows_the_schedule_it_runs_on(
    functions: dict[str, dict[str, Any]],
) -> None:
    # The release rule depends on when the runs happen: the function is told the same
    # parameters its schedule is built from (the weekdays, Monday to Friday, are the domain's).
    release = functions["ReleaseSlotsFunction"]["Properties"]
    schedule = release["Events"]["DailyRelease"]["Properties"]
    variables = release["Environment"]["Variables"]
    assert variables["RELEASE_TIME_ZONE"] == schedule["ScheduleExpressionTimezone"]
    assert variables["RELEASE_TIME"] == {"Ref": "ReleaseTime"}
    hour_and_minute = schedule["ScheduleExpression"]["Fn::Sub"][1]
    for part in ("Hour", "Minute"):
        assert hour_and_minute[part]["Fn::Select"][1]["Fn::Split"][1] == {"Ref": "ReleaseTime"}


def test_every_function_directory_is_deployed_by_one_function(
    functions: dict[str, dict[str, Any]],
) -> None:
    code_uris = sorted(function["Properties"]["CodeUri"] for function in functions.values())
    directories = sorted(
        path.parent.relative_to(REPO_ROOT).as_posix()
        for path in (REPO_ROOT / "functions").glob("*/app.py")
    )
    assert code_uris == directories


@pytest.mark.parametrize("function_id", sorted(API_FUNCTIONS))
def test_api_event_matches_the_route_the_function_registers(
    functions: dict[str, dict[str, Any]], function_id: str
) -> None:
    function = functions[function_id]
    module = load_function(Path(function["Properties"]["CodeUri"]).name)
    # The routes as the function's own OpenAPI description lists them
    paths = make_resolver(module.router).get_openapi_schema().paths or {}
    registered = {
        (method.upper(), path)
        for path, item in paths.items()
        for method in ("get", "put", "post", "delete", "patch")
        if getattr(item, method) is not None
    }
    events = {
        (event["Properties"]["Method"].upper(), event["Properties"]["Path"])
        for event in _api_events(function)
    }
    # (a greedy catch-all route is served by the resolver's "not found" handler)
    assert {event for event in events if not event[1].endswith("{proxy+}")} == registered


# -------------------------------------------------------------------------- runtime


def test_functions_run_on_python_3_12(
    template: dict[str, Any], functions: dict[str, dict[str, Any]]
) -> None:
    default = template["Globals"]["Function"].get("Runtime")
    runtimes = {
        name: function["Properties"].get("Runtime", default) for name, function in functions.items()
    }
    assert runtimes == dict.fromkeys(functions, RUNTIME)


def test_python_layers_are_built_for_python_3_12_on_the_functions_architecture(
    template: dict[str, Any],
) -> None:
    # Given the template's layers
    layers = resources_of_type(template, "AWS::Serverless::LayerVersion")
    assert set(layers) == {
        "DomainLayer",
        "PdfRenderingLayer",
        "NoticeRenderingLayer",
        "SiteTemplatesLayer",
    }
    # When the Python ones are read
    python_layers = {name: layers[name] for name in ("DomainLayer", "PdfRenderingLayer")}
    # Then sam build makes each for the functions' runtime and architecture
    (architecture,) = template["Globals"]["Function"]["Architectures"]
    for layer in python_layers.values():
        assert layer["Metadata"] == {"BuildMethod": RUNTIME, "BuildArchitecture": architecture}
        assert layer["Properties"]["CompatibleRuntimes"] == [RUNTIME]
        assert layer["Properties"]["CompatibleArchitectures"] == [architecture]


def test_only_the_notice_renderer_carries_the_pdf_layer(
    template: dict[str, Any], functions: dict[str, dict[str, Any]]
) -> None:
    # Given the functions and the layers of the Globals
    global_layers = template["Globals"]["Function"]["Layers"]
    # When the functions that carry the PDF layer are listed
    with_pdf_layer = {
        name
        for name, function in functions.items()
        if {"Ref": "PdfRenderingLayer"}
        in [*global_layers, *function["Properties"].get("Layers", [])]
    }
    # Then it is the renderer alone, and sam build installs what make exports for it
    assert with_pdf_layer == {"RenderNoticesFunction"}
    content = template["Resources"]["PdfRenderingLayer"]["Properties"]["ContentUri"]
    assert (REPO_ROOT / content / "requirements.txt").is_file()


def test_only_site_functions_carry_the_site_templates_and_read_them_where_lambda_mounts_it(
    functions: dict[str, dict[str, Any]],
) -> None:
    with_site_layer = {
        name: function["Properties"].get("Environment", {}).get("Variables", {})
        for name, function in functions.items()
        if {"Ref": "SiteTemplatesLayer"} in function["Properties"].get("Layers", [])
    }
    assert set(with_site_layer) == {name for name in functions if name.startswith("Site")}
    assert {env.get("SITE_TEMPLATES_DIR") for env in with_site_layer.values()} == {"/opt"}


def test_only_the_notice_renderer_carries_the_notice_rendering_layer(
    template: dict[str, Any], functions: dict[str, dict[str, Any]]
) -> None:
    with_notice_layer = {
        name
        for name, function in functions.items()
        if {"Ref": "NoticeRenderingLayer"} in function["Properties"].get("Layers", [])
    }
    assert with_notice_layer == {"RenderNoticesFunction"}
    # and it finds fontconfig's configuration and the templates where Lambda mounts the layer
    specs = {spec.logical_id: spec for spec in function_specs(template, REPO_ROOT)}
    assert specs["RenderNoticesFunction"].layer_dirs == (
        REPO_ROOT / "layers" / "appointments",
        REPO_ROOT / "layers" / "pdf-rendering",
    )
    environment = specs["RenderNoticesFunction"].environment
    assert environment["FONTCONFIG_FILE"] == str(notice_layer.FONTCONFIG_FILE)
    assert environment["NOTICE_TEMPLATES_DIR"] == str(notice_layer.TEMPLATES_DIR)


def test_notice_rendering_layer_is_the_one_make_notice_layer_builds(
    template: dict[str, Any],
) -> None:
    layer = template["Resources"]["NoticeRenderingLayer"]["Properties"]
    assert REPO_ROOT / layer["ContentUri"] == notice_layer.DEFAULT_OUTPUT
    assert layer["CompatibleArchitectures"] == template["Globals"]["Function"]["Architectures"]
    assert layer["CompatibleRuntimes"] == [RUNTIME]


def test_function_logs_go_to_a_log_group_with_retention(template: dict[str, Any]) -> None:
    logging_config = template["Globals"]["Function"]["LoggingConfig"]
    log_group = template["Resources"][logging_config["LogGroup"]["Ref"]]
    assert log_group["Type"] == "AWS::Logs::LogGroup"
    assert "RetentionInDays" in log_group["Properties"]


# ------------------------------------------------ SnapStart and provisioned concurrency

# The functions a person goes through to book at the release minute: the challenge, the days
# and times, the booking; on the site, the pages up to the time and the booking's steps.
BOOKING_PATH = {
    "GetChallengeFunction",
    "ListDaysFunction",
    "ListSlotsFunction",
    "BookAppointmentFunction",
    "SitePagesFunction",
    "SiteBookingFunction",
}
ALIAS = "live"


def _deployed_with(template: dict[str, Any], **parameters: str) -> References:
    """What the template's references and conditions give in a stack deployed with
    `parameters` (the others at their defaults)."""
    references = References(conditions=dict(template["Conditions"]))
    references.refs |= parameter_defaults(template) | parameters
    references.refs |= {name: f"appointments-{name}" for name in _FUNCTIONS}
    return references


def _scalable_targets(template: dict[str, Any], references: References) -> dict[str, Any]:
    """The stack's provisioned-concurrency targets, resolved, by the function they scale."""
    targets = resources_of_type(template, "AWS::ApplicationAutoScaling::ScalableTarget")
    resolved = [resolve(t, references) for t in targets.values() if references.condition_holds(t)]
    # ResourceId: function:<function name>:<alias>
    return {
        target["Properties"]["ResourceId"].split(":")[1].removeprefix("appointments-"): target
        for target in resolved
    }


def test_by_default_every_api_function_starts_from_a_snapstart_snapshot(
    template: dict[str, Any], functions: dict[str, dict[str, Any]]
) -> None:
    # Given the stack deployed with its parameters' defaults
    references = _deployed_with(template)
    for name in API_FUNCTIONS:
        properties = functions[name]["Properties"]
        # Then every API function publishes versions behind an alias, the API calls the alias,
        # and each published version starts from its snapshot
        assert properties["AutoPublishAlias"] == ALIAS
        assert resolve(properties["SnapStart"], references) == {"ApplyOn": "PublishedVersions"}


def test_by_default_no_function_has_provisioned_concurrency(template: dict[str, Any]) -> None:
    # Given the stack deployed with its parameters' defaults
    references = _deployed_with(template)
    # Then nothing keeps execution environments provisioned
    assert _scalable_targets(template, references) == {}
    assert "ProvisionedConcurrencyConfig" not in str(template["Resources"])


def test_snapstart_functions_use_nothing_snapstart_cannot_snapshot(
    template: dict[str, Any], functions: dict[str, dict[str, Any]]
) -> None:
    # SnapStart supports neither Amazon EFS nor ephemeral storage above 512 MB
    for name in API_FUNCTIONS:
        properties = template["Globals"]["Function"] | functions[name]["Properties"]
        assert "FileSystemConfigs" not in properties
        assert properties.get("EphemeralStorage", {}).get("Size", 512) <= 512


def test_with_release_concurrency_the_booking_path_is_provisioned_around_the_release(
    template: dict[str, Any],
) -> None:
    # Given the stack deployed with 10 instances from 16:50 to 17:20 in Honolulu
    references = _deployed_with(
        template,
        ReleaseConcurrency="10",
        ReleaseConcurrencyFrom="16:50",
        ReleaseConcurrencyUntil="17:20",
        ReleaseTimeZone="Pacific/Honolulu",
    )
    # When the stack's scalable targets are read
    targets = _scalable_targets(template, references)
    # Then each function of the booking path, and only those, scales its alias to 10
    # instances at 16:50 and back to none at 17:20, Monday to Friday, Honolulu time
    assert set(targets) == BOOKING_PATH
    for function, target in targets.items():
        properties = target["Properties"]
        assert properties["ServiceNamespace"] == "lambda"
        assert properties["ScalableDimension"] == "lambda:function:ProvisionedConcurrency"
        assert properties["ResourceId"] == f"function:appointments-{function}:{ALIAS}"
        assert (properties["MinCapacity"], properties["MaxCapacity"]) == (0, "10")
        actions = [
            (
                action["Schedule"],
                action["Timezone"],
                action["ScalableTargetAction"]["MinCapacity"],
                action["ScalableTargetAction"]["MaxCapacity"],
            )
            for action in properties["ScheduledActions"]
        ]
        assert actions == [
            ("cron(50 16 ? * MON-FRI *)", "Pacific/Honolulu", "10", "10"),
            ("cron(20 17 ? * MON-FRI *)", "Pacific/Honolulu", 0, 0),
        ]


def test_each_scalable_target_waits_for_the_alias_it_scales(template: dict[str, Any]) -> None:
    # Given the stack deployed with provisioned concurrency
    references = _deployed_with(template, ReleaseConcurrency="10")
    # Then each target is created after the alias SAM makes for its function
    for function, target in _scalable_targets(template, references).items():
        assert target["DependsOn"] == f"{function}Alias{ALIAS}"


def test_with_release_concurrency_the_booking_path_publishes_versions_without_snapstart(
    template: dict[str, Any], functions: dict[str, dict[str, Any]]
) -> None:
    # Given the stack deployed without, then with provisioned concurrency
    without = _deployed_with(template)
    with_it = _deployed_with(template, ReleaseConcurrency="10")
    for name in API_FUNCTIONS:
        properties = functions[name]["Properties"]
        snapstart = resolve(properties["SnapStart"], with_it)
        description = properties.get("VersionDescription")
        if name in BOOKING_PATH:
            # Then the booking path's new versions have no snapshot (Lambda provisions a
            # version or snapshots it, not both), and the change of description makes SAM
            # publish those versions
            assert snapstart == {"ApplyOn": "None"}
            assert resolve(description, with_it) != resolve(description, without)
        else:
            # And every other API function keeps starting from its snapshot
            assert snapstart == {"ApplyOn": "PublishedVersions"}


def test_notices_are_rendered_from_the_stream_with_partial_batch_failures_and_a_dlq(
    template: dict[str, Any], functions: dict[str, dict[str, Any]]
) -> None:
    (event,) = functions["RenderNoticesFunction"]["Properties"]["Events"].values()
    properties = event["Properties"]
    assert event["Type"] == "DynamoDB"
    assert properties["Stream"] == {"Fn::GetAtt": ["AppointmentsTable", "StreamArn"]}
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue = properties["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
    assert template["Resources"][queue]["Type"] == "AWS::SQS::Queue"


def test_notices_bucket_is_private_encrypted_and_expires_notices(template: dict[str, Any]) -> None:
    bucket = template["Resources"]["NoticesBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    (rule,) = bucket["LifecycleConfiguration"]["Rules"]
    assert (rule["Status"], rule["Prefix"]) == ("Enabled", "notices/")
    assert template["Resources"]["NoticesBucket"]["DeletionPolicy"] == "Retain"


def test_api_gateways_own_errors_keep_the_error_contract(template: dict[str, Any]) -> None:
    responses = template["Resources"]["Api"]["Properties"]["GatewayResponses"]
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["StatusCode"] == 404
    for response in responses.values():
        body = json.loads(response["ResponseTemplates"]["application/json"])
        assert set(body) == {"error", "message"}


# ------------------------------------------------------------------------------- edge


def _distribution_config(template: dict[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = template["Resources"]["Distribution"]["Properties"]
    return config["DistributionConfig"]


def _behaviours(template: dict[str, Any]) -> list[dict[str, Any]]:
    config = _distribution_config(template)
    return [config["DefaultCacheBehavior"], *config.get("CacheBehaviors", [])]


def _site_references(template: dict[str, Any], domain: str, certificate: str) -> References:
    references = References(conditions=dict(template["Conditions"]))
    references.refs |= parameter_defaults(template)
    references.refs |= {"SiteDomainName": domain, "SiteCertificateArn": certificate}
    references.attributes[("Distribution", "DomainName")] = "d111111abcdef8.cloudfront.net"
    return references


CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0f3b8c52-5d4e-4b8e-9f7a-1c2d3e4f5a6b"


def test_with_a_site_domain_viewers_need_tls_1_2_on_its_certificate(
    template: dict[str, Any],
) -> None:
    # Given the stack deployed with a site domain and its certificate
    references = _site_references(template, "appointments.example.gov", CERTIFICATE)
    config = _distribution_config(template)
    # Then the distribution answers for that name, with TLS 1.2 or later only
    assert resolve(config["Aliases"], references) == ["appointments.example.gov"]
    assert resolve(config["ViewerCertificate"], references) == {
        "AcmCertificateArn": CERTIFICATE,
        "SslSupportMethod": "sni-only",
        "MinimumProtocolVersion": "TLSv1.2_2021",
    }


def test_without_a_site_domain_the_distribution_uses_its_own_name(
    template: dict[str, Any],
) -> None:
    references = _site_references(template, "", "")
    config = _distribution_config(template)
    names = {key: config[key] for key in ("Aliases", "ViewerCertificate")}
    resolved = resolve(names, references)
    assert "Aliases" not in resolved  # Ref AWS::NoValue
    assert resolved["ViewerCertificate"] == {"CloudFrontDefaultCertificate": True}


@pytest.mark.parametrize(
    ("domain", "url"),
    [
        ("appointments.example.gov", "https://appointments.example.gov"),
        ("", "https://d111111abcdef8.cloudfront.net"),
    ],
)
def test_emailed_links_start_with_the_site_url(
    template: dict[str, Any], functions: dict[str, dict[str, Any]], domain: str, url: str
) -> None:
    references = _site_references(template, domain, CERTIFICATE if domain else "")
    variables = functions["RenderNoticesFunction"]["Properties"]["Environment"]["Variables"]
    assert resolve(variables["PUBLIC_SITE_URL"], references) == url
    assert resolve(template["Outputs"]["SiteUrl"]["Value"], references) == url


def test_every_behaviour_redirects_to_https_and_adds_the_security_headers(
    template: dict[str, Any],
) -> None:
    policies = {
        (behaviour["ViewerProtocolPolicy"], behaviour["ResponseHeadersPolicyId"]["Ref"])
        for behaviour in _behaviours(template)
    }
    assert policies == {("redirect-to-https", "SiteResponseHeadersPolicy")}
    config = template["Resources"]["SiteResponseHeadersPolicy"]["Properties"]
    security = config["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert all(header["Override"] is True for header in security.values())
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 63072000
    assert security["FrameOptions"]["FrameOption"] == "DENY"
    directives = security["ContentSecurityPolicy"]["ContentSecurityPolicy"].split("; ")
    assert "default-src 'self'" in directives
    assert "frame-ancestors 'none'" in directives
    assert not any("unsafe" in directive for directive in directives)


def test_the_assets_bucket_is_private_and_read_only_by_the_distribution(
    template: dict[str, Any],
) -> None:
    bucket = template["Resources"]["AssetsBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert "WebsiteConfiguration" not in bucket
    policy = template["Resources"]["AssetsBucketPolicy"]["Properties"]["PolicyDocument"]
    allowed = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert {s["Principal"]["Service"] for s in allowed} == {"cloudfront.amazonaws.com"}
    assert {str(s["Action"]) for s in allowed} == {"s3:GetObject", "s3:ListBucket"}
    for statement in allowed:
        source = statement["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
        assert source.endswith(":distribution/${Distribution}")


def test_the_distribution_reads_the_bucket_signed_and_the_api_over_tls_1_2(
    template: dict[str, Any],
) -> None:
    origins = {origin["Id"]: origin for origin in _distribution_config(template)["Origins"]}
    control = template["Resources"]["AssetsOriginAccessControl"]["Properties"]
    assert control["OriginAccessControlConfig"]["SigningBehavior"] == "always"
    assert origins["Assets"]["OriginAccessControlId"] == {
        "Fn::GetAtt": ["AssetsOriginAccessControl", "Id"]
    }
    assert origins["Api"]["CustomOriginConfig"] == {
        "OriginProtocolPolicy": "https-only",
        "OriginSSLProtocols": ["TLSv1.2"],
    }


def test_only_the_free_times_and_days_are_kept_at_the_edge_and_for_seconds(
    template: dict[str, Any], functions: dict[str, dict[str, Any]]
) -> None:
    # Every route under a behaviour that caches the API's answers (a cache policy of the
    # template's) is a GET that lists free times or days: nothing with a PIN, a challenge or
    # a person's details is kept at the edge, and what is kept is kept for seconds.
    policies = template["Resources"]
    cached = [
        behaviour
        for behaviour in _behaviours(template)
        if behaviour["TargetOriginId"] == "Api" and "Ref" in behaviour["CachePolicyId"]
    ]
    routes = [
        (event["Properties"]["Method"].upper(), event["Properties"]["Path"], logical_id)
        for logical_id, function in functions.items()
        for event in function["Properties"].get("Events", {}).values()
        if event["Type"] == "Api"
    ]
    under_cache = set()
    for behaviour in cached:
        pattern = re.escape(behaviour["PathPattern"]).replace(r"\*", ".*")
        config = policies[behaviour["CachePolicyId"]["Ref"]]["Properties"]["CachePolicyConfig"]
        assert config["MaxTTL"] <= 2
        key = config["ParametersInCacheKeyAndForwardedToOrigin"]
        assert key["HeadersConfig"] == {"HeaderBehavior": "none"}
        assert key["CookiesConfig"] == {"CookieBehavior": "none"}
        assert key["QueryStringsConfig"] == {"QueryStringBehavior": "all"}
        assert behaviour["CachedMethods"] == ["GET", "HEAD"]
        for method, path, logical_id in routes:
            if re.fullmatch(pattern, re.sub(r"\{[^}]+\}", "x", path)):
                under_cache.add((method, path, logical_id))
    assert under_cache == {
        ("GET", "/offices/{officeId}/slots", "ListSlotsFunction"),
        ("GET", "/offices/{officeId}/days", "ListDaysFunction"),
    }


def test_the_assets_behaviour_serves_what_make_deploy_uploads(template: dict[str, Any]) -> None:
    (assets,) = [
        behaviour
        for behaviour in _distribution_config(template)["CacheBehaviors"]
        if behaviour["TargetOriginId"] == "Assets"
    ]
    assert assets["PathPattern"] == "/" + upload_assets.KEY_PREFIX + "*"
    assert assets["AllowedMethods"] == ["GET", "HEAD"]
    outputs = template["Outputs"]
    assert outputs[upload_assets.BUCKET_OUTPUT]["Value"] == {"Ref": "AssetsBucket"}
    assert outputs[upload_assets.DISTRIBUTION_OUTPUT]["Value"] == {"Ref": "Distribution"}
