"""The API's OpenAPI document, generated from the functions' own routes.

Every function registers its one route on a Powertools `Router`; this module includes all of
them in a single validating resolver and writes the resolver's OpenAPI schema to openapi.json,
so the document cannot describe an API other than the one the code serves.

    python -m infra.tools.openapi            write openapi.json
    python -m infra.tools.openapi --check    exit 1 if openapi.json is not what the code generates
"""

from __future__ import annotations

import argparse
import difflib
import importlib.util
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.api_gateway import Router

from infra import REPO_ROOT

FUNCTIONS_DIR = REPO_ROOT / "functions"
LAYER_DIR = REPO_ROOT / "layers" / "appointments"
OPENAPI_PATH = REPO_ROOT / "openapi.json"

TITLE = "Appointment service API"
VERSION = "1.0.0"
DESCRIPTION = (
    "Public appointment service for government service offices: find an office and its free "
    "slots, then book, view, reschedule and cancel an appointment. Viewing or changing an "
    "appointment needs its confirmation number and the PIN given at booking, sent in the "
    'X-Appointment-Pin header. Errors have the body {"error": code, "message": text}.'
)

# The function modules are imported under names of their own, so generating the document never
# re-executes, or rewires the routers of, modules that tests or other tools loaded as
# "function_<dir>".
MODULE_PREFIX = "openapi_function_"


# The web site's functions (functions/site_*) answer with HTML pages, not the JSON API.
SITE_FUNCTION_PREFIX = "site_"


def function_dirs() -> list[Path]:
    """functions/<dir> of every Lambda function of the JSON API, sorted by name."""
    return sorted(
        path.parent
        for path in FUNCTIONS_DIR.glob("*/app.py")
        if not path.parent.name.startswith(SITE_FUNCTION_PREFIX)
    )


def load_function_module(directory: Path) -> ModuleType:
    """Import functions/<dir>/app.py (every function's module is called app)."""
    name = f"{MODULE_PREFIX}{directory.name}"
    loaded = sys.modules.get(name)
    if loaded is not None:
        return loaded
    if importlib.util.find_spec("appointments") is None:
        sys.path.insert(
            0, str(LAYER_DIR)
        )  # as in the Lambda runtime, where the layer is on the path
    spec = importlib.util.spec_from_file_location(name, directory / "app.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {directory / 'app.py'}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def function_router(module: ModuleType) -> Router:
    router = getattr(module, "router", None)
    if not isinstance(router, Router):
        raise TypeError(f"{module.__file__} defines no module-level `router = Router()`")
    return router


def build_resolver() -> APIGatewayRestResolver:
    """One resolver serving every function's routes, as the functions' own resolvers do."""
    app = APIGatewayRestResolver(enable_validation=True)
    for directory in function_dirs():
        module = load_function_module(directory)
        if hasattr(module, "router"):  # functions run by a schedule serve no route
            app.include_router(function_router(module))
    return app


def render() -> str:
    """The OpenAPI document as committed: 2-space indented JSON with a trailing newline."""
    schema = build_resolver().get_openapi_json_schema(
        title=TITLE, version=VERSION, description=DESCRIPTION
    )
    return json.dumps(json.loads(schema), indent=2, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.tools.openapi", description="Generate the API's OpenAPI document."
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="do not write; exit 1 if the file differs from what the code generates",
    )
    parser.add_argument("--output", type=Path, default=OPENAPI_PATH, help="default: %(default)s")
    arguments = parser.parse_args(argv)
    output: Path = arguments.output
    expected = render()
    if not arguments.check:
        output.write_text(expected, encoding="utf-8")
        print(f"wrote {output}")
        return 0
    if not output.exists():
        print(
            f"{output} is missing; run `python -m infra.tools.openapi` to write it.",
            file=sys.stderr,
        )
        return 1
    current = output.read_text(encoding="utf-8")
    if current == expected:
        print(f"{output} is up to date")
        return 0
    diff = difflib.unified_diff(
        current.splitlines(keepends=True),
        expected.splitlines(keepends=True),
        fromfile=f"{output} (committed)",
        tofile=f"{output} (generated)",
    )
    sys.stderr.writelines(diff)
    print(
        f"{output} is out of date with the functions' routes; "
        "run `python -m infra.tools.openapi` and commit the result.",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
