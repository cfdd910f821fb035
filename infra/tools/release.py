"""Run the daily slot release by hand against the local stack (`make run`), as of a date.

    python -m infra.tools.release --date 2026-11-25            # as the scheduled run of that day
    python -m infra.tools.release --date 2026-12-24 --dry-run  # only list what would open
    python -m infra.tools.release --date 2026-11-25 --horizon 5

The release uses the environment the template gives its function (table names), with the
local stack's endpoint; the stack must be running (LOCAL_* settings as for `make run`).
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date, datetime, time

from infra import REPO_ROOT
from infra.local.resources import REGION
from infra.local.stack import Settings
from infra.local.template import (
    References,
    function_specs,
    load_template,
    parameter_defaults,
    resolve,
    table_names,
)

FUNCTION = "ReleaseSlotsFunction"


def function_environment(settings: Settings, endpoint: str) -> dict[str, str]:
    template = load_template(settings.template)
    references = References()
    references.refs.update(parameter_defaults(template))
    references.refs.update(table_names(template, settings.stack_name))
    for logical_id in template.get("Resources", {}):
        references.refs.setdefault(logical_id, f"{settings.stack_name}-{logical_id}")
    (spec,) = [s for s in function_specs(template, REPO_ROOT) if s.logical_id == FUNCTION]
    environment = {key: str(value) for key, value in resolve(spec.environment, references).items()}
    return environment | {
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.tools.release", description=__doc__)
    parser.add_argument("--date", type=date.fromisoformat, required=True)
    parser.add_argument(
        "--time", type=time.fromisoformat, default=None, help="default: the schedule's time"
    )
    parser.add_argument("--horizon", type=int, default=None, help="release days ahead")
    parser.add_argument("--dry-run", action="store_true", help="list, do not open")
    parser.add_argument("--endpoint", default=None, help="DynamoDB endpoint of the local stack")
    arguments = parser.parse_args(argv)

    settings = Settings.from_environment()
    endpoint = arguments.endpoint or f"http://{settings.host}:{settings.dynamodb_port}"
    os.environ.update(function_environment(settings, endpoint))
    sys.path.insert(0, str(REPO_ROOT / "layers" / "appointments"))
    from appointments.config import settings as service_settings  # noqa: PLC0415 - after env
    from appointments.release import ReleaseSchedule, release  # noqa: PLC0415

    schedule = ReleaseSchedule.configured()
    moment = datetime.combine(arguments.date, arguments.time or schedule.at, schedule.time_zone)
    horizon = arguments.horizon or service_settings().release_horizon_days
    summary = release(moment, horizon=horizon, dry_run=arguments.dry_run, schedule=schedule)
    verb = "would open" if summary.dry_run else "opened"
    print(f"Release as of {moment.isoformat()} (horizon {horizon} release day(s)):")
    for day in summary.days:
        print(
            f"  {day.office_id:18} {day.day.isoformat()} {day.day:%a}  {verb} "
            f"{day.created:3}, already present {day.already_present:3}"
        )
    print(
        f"{summary.offices} offices, {len(summary.days)} office-days: {verb} "
        f"{summary.slots_opened} slots, {summary.slots_present} already present."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
