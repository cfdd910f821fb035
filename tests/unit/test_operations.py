"""The operations part of template.yaml: alarms to one topic, the dashboard, the API's access
log, reserved concurrency and tracing, read as CloudFormation gets them (the
AWS::LanguageExtensions loops expanded)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from infra import REPO_ROOT
from infra.local.template import load_template, resources_of_type

WEEKDAYS = {"MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"}
TOPIC = [{"Ref": "AlarmTopic"}]


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


@pytest.fixture(scope="module")
def alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: alarm["Properties"]
        for name, alarm in resources_of_type(template, "AWS::CloudWatch::Alarm").items()
    }


def _watching(alarms: dict[str, dict[str, Any]], metric: str, dimension: Any) -> list[str]:
    """The alarms on `metric` whose dimensions hold `dimension`'s value."""
    return [
        name
        for name, alarm in alarms.items()
        if alarm.get("MetricName") == metric
        and dimension in [entry["Value"] for entry in alarm.get("Dimensions", [])]
    ]


def test_every_function_has_an_errors_and_a_throttles_alarm(
    template: dict[str, Any], alarms: dict[str, dict[str, Any]]
) -> None:
    for function in resources_of_type(template, "AWS::Serverless::Function"):
        for metric in ("Errors", "Throttles"):
            (alarm,) = _watching(alarms, metric, {"Ref": function})
            assert alarms[alarm]["Namespace"] == "AWS/Lambda"
            assert alarms[alarm]["Threshold"] == 1


def test_every_queue_alarms_as_soon_as_a_message_waits(
    template: dict[str, Any], alarms: dict[str, dict[str, Any]]
) -> None:
    queues = resources_of_type(template, "AWS::SQS::Queue")
    assert set(queues) == {"NoticeFailuresQueue", "ReleaseFailuresQueue"}
    for queue in queues:
        name = {"Fn::GetAtt": [queue, "QueueName"]}
        (alarm,) = _watching(alarms, "ApproximateNumberOfMessagesVisible", name)
        assert (alarms[alarm]["Threshold"], alarms[alarm]["ComparisonOperator"]) == (
            1,
            "GreaterThanOrEqualToThreshold",
        )


def test_the_release_schedules_dead_letters_go_to_the_watched_queue(
    template: dict[str, Any],
) -> None:
    events = template["Resources"]["ReleaseSlotsFunction"]["Properties"]["Events"]
    for event in events.values():
        assert event["Properties"]["DeadLetterConfig"] == {
            "Arn": {"Fn::GetAtt": ["ReleaseFailuresQueue", "Arn"]}
        }


def test_every_alarm_mails_the_topic_when_it_fires_and_when_it_is_over(
    alarms: dict[str, dict[str, Any]],
) -> None:
    assert len(alarms) > 40
    for name, alarm in alarms.items():
        assert (alarm["AlarmActions"], alarm["OKActions"]) == (TOPIC, TOPIC), name
        assert alarm["AlarmDescription"], name


def test_the_alarm_address_is_subscribed_only_when_given(template: dict[str, Any]) -> None:
    (subscription,) = resources_of_type(template, "AWS::SNS::Subscription").values()
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}
    assert template["Parameters"]["AlarmEmail"]["Default"] == ""


def test_a_day_without_a_completed_release_run_alarms(
    alarms: dict[str, dict[str, Any]],
) -> None:
    alarm = alarms["ReleaseMissedAlarm"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("Appointments", "ReleaseHeartbeat")
    assert (alarm["Period"], alarm["EvaluationPeriods"]) == (86_400, 1)
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("LessThanThreshold", 1)
    assert alarm["TreatMissingData"] == "breaching"


def test_the_release_function_runs_every_day_of_the_week_at_the_release_time(
    template: dict[str, Any],
) -> None:
    # Weekdays release, weekends check with a dry run: every day has a heartbeat to miss.
    events = template["Resources"]["ReleaseSlotsFunction"]["Properties"]["Events"]
    days: set[str] = set()
    for event in events.values():
        expression, times = event["Properties"]["ScheduleExpression"]["Fn::Sub"]
        weekday_field = expression.removeprefix("cron(").split()[4]
        start, _, end = weekday_field.partition("-")
        if end:
            order = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]
            days |= set(order[order.index(start) : order.index(end) + 1])
        else:
            days |= set(weekday_field.split(","))
        assert times == events["DailyRelease"]["Properties"]["ScheduleExpression"]["Fn::Sub"][1]
    assert days == WEEKDAYS
    assert json.loads(events["WeekendCheck"]["Properties"]["Input"]) == {"dryRun": True}


def test_a_release_that_opened_nothing_due_alarms(alarms: dict[str, dict[str, Any]]) -> None:
    alarm = alarms["ReleaseShortfallAlarm"]
    assert (alarm["MetricName"], alarm["Threshold"]) == ("ReleaseShortfall", 1)
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


def test_notices_falling_behind_the_stream_alarm(alarms: dict[str, dict[str, Any]]) -> None:
    (alarm,) = _watching(alarms, "IteratorAge", {"Ref": "RenderNoticesFunction"})
    assert alarms[alarm]["Statistic"] == "Maximum"
    assert alarms[alarm]["Threshold"] * alarms[alarm]["EvaluationPeriods"] > 0


@pytest.mark.parametrize(
    ("alarm", "metric"),
    [("ApiServerErrorsAlarm", "5XXError"), ("ApiClientErrorsAlarm", "4XXError")],
)
def test_the_apis_error_shares_alarm(
    alarms: dict[str, dict[str, Any]], alarm: str, metric: str
) -> None:
    queries = {query["Id"]: query for query in alarms[alarm]["Metrics"]}
    for part, name in (("errors", metric), ("requests", "Count")):
        stat = queries[part]["MetricStat"]["Metric"]
        assert (stat["Namespace"], stat["MetricName"]) == ("AWS/ApiGateway", name)
        assert stat["Dimensions"] == [
            {"Name": "ApiName", "Value": {"Ref": "AWS::StackName"}},
            {"Name": "Stage", "Value": {"Ref": "StageName"}},
        ]
    assert "errors / requests" in queries["share"]["Expression"]


def test_the_api_is_named_as_its_alarms_read_it(template: dict[str, Any]) -> None:
    assert template["Resources"]["Api"]["Properties"]["Name"] == {"Ref": "AWS::StackName"}


@pytest.mark.parametrize("metric", ["Reputation.BounceRate", "Reputation.ComplaintRate"])
def test_the_mail_reputation_alarms_before_ses_reviews_the_account(
    alarms: dict[str, dict[str, Any]], metric: str
) -> None:
    (alarm,) = [a for a in alarms.values() if a.get("MetricName") == metric]
    review_at = {"Reputation.BounceRate": 0.05, "Reputation.ComplaintRate": 0.001}[metric]
    assert alarm["Namespace"] == "AWS/SES"
    assert 0 < alarm["Threshold"] < review_at


# ------------------------------------------------------------ what the code must publish

CODE_TEXT = "\n".join(
    path.read_text(encoding="utf-8")
    for path in [*(REPO_ROOT / "layers").rglob("*.py"), *(REPO_ROOT / "functions").rglob("*.py")]
)


def _service_metrics_read(template: dict[str, Any]) -> set[str]:
    """The names of the service's own metrics (namespace Appointments) the alarms and the
    dashboard read."""
    names = {
        alarm["Properties"]["MetricName"]
        for alarm in resources_of_type(template, "AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("Namespace") == "Appointments"
    }
    return names | {row[1] for row in _dashboard_metric_rows(template) if row[0] == "Appointments"}


def _dashboard(template: dict[str, Any]) -> dict[str, Any]:
    (dashboard,) = resources_of_type(template, "AWS::CloudWatch::Dashboard").values()
    body, _ = dashboard["Properties"]["DashboardBody"]["Fn::Sub"]
    # ${Name} and ${Name.Attr} are what CloudFormation substitutes; ${!…} stays literal.
    return dict(json.loads(re.sub(r"\$\{(?!!)[^}]+\}", "x", body)))


def _dashboard_metric_rows(template: dict[str, Any]) -> list[list[Any]]:
    """Each graphed metric as [namespace, name, dimension, value, …], with the dashboard's "."
    (the previous row's entry) filled in; expressions and "..." rows left out."""
    rows = []
    for widget in _dashboard(template)["widgets"]:
        previous: list[Any] = []
        for row in widget["properties"].get("metrics", []):
            if not isinstance(row[0], str) or row[0] == "...":
                continue
            entries = [entry for entry in row if not isinstance(entry, dict)]
            previous = [
                previous[index] if entry == "." else entry for index, entry in enumerate(entries)
            ]
            rows.append(previous)
    return rows


def test_every_service_metric_the_alarms_and_the_dashboard_read_is_published(
    template: dict[str, Any],
) -> None:
    read = _service_metrics_read(template)
    assert {"ReleaseHeartbeat", "UnexpectedErrors", "AppointmentsBooked"} <= read
    unpublished = sorted(name for name in read if f'"{name}"' not in CODE_TEXT)
    assert unpublished == []


def test_the_dashboard_shows_the_release_minute_and_the_day(template: dict[str, Any]) -> None:
    titles = " | ".join(
        widget["properties"]["title"] for widget in _dashboard(template)["widgets"]
    ).lower()
    for shown in (
        "bookings",
        "refusals",
        "latency per route",
        "seats taken per minute",
        "notices drawn and mailed",
        "dead-letter queues",
    ):
        assert shown in titles


def test_the_latency_widget_reads_p50_and_p99_per_route_from_the_access_log(
    template: dict[str, Any],
) -> None:
    (latency,) = [w for w in _dashboard(template)["widgets"] if w["type"] == "log"]
    dashboard = next(iter(resources_of_type(template, "AWS::CloudWatch::Dashboard").values()))
    assert "SOURCE '${ApiAccessLogGroup}'" in dashboard["Properties"]["DashboardBody"]["Fn::Sub"][0]
    query = latency["properties"]["query"]
    assert "pct(latencyMs, 50)" in query
    assert "pct(latencyMs, 99)" in query
    assert "by method, route" in query


# ------------------------------------------------------------------------- the access log


def test_the_access_log_holds_context_fields_only(template: dict[str, Any]) -> None:
    setting = template["Resources"]["Api"]["Properties"]["AccessLogSetting"]
    fields = re.findall(r"\$context\.[A-Za-z.]+", setting["Format"])
    record = json.loads(re.sub(r"\$context\.[A-Za-z.]+", "0", setting["Format"]))
    # Every value is one $context field, and none carries what a person sent
    assert len(record) == len(fields)
    assert all(str(value) == "0" for value in record.values())
    for sent in ("$context.path", "$context.identity", "header", "body", "requestOverride"):
        assert not any(field.startswith(sent) or sent in field for field in fields), sent
    assert setting["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}


def test_the_access_log_is_kept_as_long_as_the_functions_logs(template: dict[str, Any]) -> None:
    group = template["Resources"]["ApiAccessLogGroup"]["Properties"]
    assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_the_stage_writes_no_execution_log_and_no_data_trace(template: dict[str, Any]) -> None:
    for setting in template["Resources"]["Api"]["Properties"]["MethodSettings"]:
        assert setting["LoggingLevel"] == "OFF"
        assert setting["DataTraceEnabled"] is False


def test_the_stage_waits_for_the_accounts_log_role_when_the_stack_sets_it(
    template: dict[str, Any],
) -> None:
    resources = template["Resources"]
    ready = resources[resources["Api"]["DependsOn"]]
    assert ready["Metadata"]["AccountSettings"]["Fn::If"][1] == {"Ref": "ApiGatewayAccountSettings"}
    settings = resources["ApiGatewayAccountSettings"]
    assert settings["Properties"]["CloudWatchRoleArn"] == {
        "Fn::GetAtt": ["ApiGatewayLogRole", "Arn"]
    }
    # kept with the stack deleted: every API of the account and region logs with it
    assert (
        settings["DeletionPolicy"] == resources["ApiGatewayLogRole"]["DeletionPolicy"] == "Retain"
    )


# ------------------------------------------------------------- concurrency and tracing


@pytest.mark.parametrize("function", ["ReleaseSlotsFunction", "RenderNoticesFunction"])
def test_the_release_and_the_renderer_have_reserved_concurrency(
    template: dict[str, Any], function: str
) -> None:
    reserved = template["Resources"][function]["Properties"]["ReservedConcurrentExecutions"]
    assert reserved >= 1


def test_functions_are_traced_by_lambda_without_the_xray_sdk(template: dict[str, Any]) -> None:
    assert template["Globals"]["Function"]["Tracing"] == "Active"
    assert template["Resources"]["Api"]["Properties"]["TracingEnabled"] is True
    assert "aws_xray_sdk" not in CODE_TEXT
    assert "Tracer(" not in CODE_TEXT


def test_the_service_metrics_alarms_read_are_this_stacks_own(
    template: dict[str, Any], alarms: dict[str, dict[str, Any]]
) -> None:
    # The functions publish with their service name as dimension: the stack's name, so two
    # stacks in one account and region never add into each other's alarms
    service = template["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
    assert service == {"Ref": "AWS::StackName"}
    own = [alarm for alarm in alarms.values() if alarm.get("Namespace") == "Appointments"]
    assert own
    for alarm in own:
        assert alarm["Dimensions"] == [{"Name": "service", "Value": service}]
    for row in _dashboard_metric_rows(template):
        if row[0] == "Appointments":
            assert row[2:4] == ["service", "x"]  # ${AWS::StackName}, substituted
