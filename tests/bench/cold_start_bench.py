"""`make bench` (cold starts): each function's import next to `import boto3`, and its size.

Import: each function's module (`app`) in a fresh interpreter, with its code and its Python
layers on the path as Lambda puts them, and, right after it, `import boto3` in another fresh
interpreter, round after round, so that what else the machine does hits both alike; the
median of each, and their ratio. The goal: every API function imports in at most 1.5 times
`import boto3`. Times are the CPU time of the import statement: on a machine shared with
other work, wall time also counts the waits for a core, which Lambda does not have. A first
round, not counted, leaves the bytecode caches that `sam build`'s pip installs with the
layers.

Size: what Lambda unpacks for each function (its code and its layers, against the 250 MiB
limit), with each Python layer's requirements installed here for Lambda's platform (arm64,
Python 3.12, glibc 2.34) by uv, into .cache/lambda-layers/.
"""

from __future__ import annotations

import hashlib
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.local.template import function_specs, load_template, resources_of_type

REPO_ROOT = Path(__file__).resolve().parents[2]
ROUNDS = int(os.environ.get("BENCH_IMPORT_ROUNDS", "5"))
GOAL_RATIO = 1.5
LAMBDA_UNPACKED_LIMIT_MIB = 250
MIB = 1024 * 1024
LAYER_INSTALLS = REPO_ROOT / ".cache" / "lambda-layers"
UV = REPO_ROOT / ".cache" / "uv" / "bin" / "uv"
# Lambda's python3.12 runtime on arm64: Amazon Linux 2023, glibc 2.34.
LAMBDA_PLATFORM = ("--python-platform", "aarch64-manylinux_2_34", "--python-version", "3.12")

TIMED_IMPORT = (
    "import sys, time; sys.path[:0] = {path!r}; "
    "started = time.process_time(); import {module}; "
    "print((time.process_time() - started) * 1000)"
)


@dataclass(frozen=True)
class Function:
    logical_id: str
    code_dir: Path
    python_path: tuple[str, ...]  # the function's code, then its Python layers', as on Lambda
    environment: dict[str, str]
    serves_api: bool
    layers: tuple[str, ...]  # logical ids of every layer it carries

    @property
    def name(self) -> str:
        return self.code_dir.name


def template_functions(template: dict[str, Any]) -> list[Function]:
    functions = []
    for spec in function_specs(template, REPO_ROOT):
        # The template's plain settings (Powertools' among them); the site's templates are
        # read from the repository, where `make catalogues` compiles their translations.
        environment = {
            name: value for name, value in spec.environment.items() if isinstance(value, str)
        }
        if "SITE_TEMPLATES_DIR" in environment:
            environment["SITE_TEMPLATES_DIR"] = str(REPO_ROOT / "templates")
        resource = template["Resources"][spec.logical_id]
        own_layers = resource["Properties"].get("Layers", [])
        global_layers = template.get("Globals", {}).get("Function", {}).get("Layers", [])
        functions.append(
            Function(
                logical_id=spec.logical_id,
                code_dir=spec.code_dir,
                python_path=(str(spec.code_dir), *(str(path) for path in spec.layer_dirs)),
                environment=environment,
                serves_api=any(event.get("Type") == "Api" for event in spec.events.values()),
                layers=tuple(layer["Ref"] for layer in [*global_layers, *own_layers]),
            )
        )
    return sorted(functions, key=lambda function: function.name)


def _child_environment(extra: dict[str, str]) -> dict[str, str]:
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"PYTHONPATH", "PYTHONDONTWRITEBYTECODE"}
    }
    environment.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    return environment | extra


def import_ms(module: str, path: tuple[str, ...], environment: dict[str, str]) -> float:
    """CPU time of one import in a fresh interpreter, in ms."""
    finished = subprocess.run(
        [sys.executable, "-c", TIMED_IMPORT.format(path=list(path), module=module)],
        cwd=REPO_ROOT,
        env=_child_environment(environment),
        capture_output=True,
        text=True,
        check=True,
    )
    return float(finished.stdout.strip().splitlines()[-1])


def measure_imports(functions: list[Function]) -> dict[str, tuple[list[float], list[float]]]:
    """Each function's import times and those of the `import boto3` run right after each."""
    samples: dict[str, tuple[list[float], list[float]]] = {
        function.name: ([], []) for function in functions
    }
    for counted in [False] + [True] * ROUNDS:
        for function in functions:
            own = import_ms("app", function.python_path, function.environment)
            boto3 = import_ms("boto3", (), {})
            if counted:
                samples[function.name][0].append(own)
                samples[function.name][1].append(boto3)
    return samples


# The libraries alone, imported as a function would import them (tests/bench/library_floor).
LIBRARY_FLOOR = Function(
    logical_id="LibraryFloor",
    code_dir=REPO_ROOT / "tests" / "bench" / "library_floor",
    python_path=(str(REPO_ROOT / "tests" / "bench" / "library_floor"),),
    environment={"POWERTOOLS_SERVICE_NAME": "appointments"},
    serves_api=False,
    layers=(),
)


def print_imports(functions: list[Function]) -> None:
    functions = [*functions, LIBRARY_FLOOR]
    samples = measure_imports(functions)
    print(
        f"| function | import, CPU ms | `import boto3`, CPU ms | ratio | goal (API functions: "
        f"<= {GOAL_RATIO}x boto3) |"
    )
    print("|---|---:|---:|---:|---|")
    for function in functions:
        own, boto3 = (statistics.median(runs) for runs in samples[function.name])
        ratio = own / boto3
        verdict = ("met" if ratio <= GOAL_RATIO else "NOT met") if function.serves_api else "-"
        print(f"| {function.name} | {own:.0f} | {boto3:.0f} | {ratio:.2f} | {verdict} |")
    print(
        f"\nMedians of {ROUNDS} fresh interpreters each, taking turns: each function's module "
        "with its code and Python layers on the path, then `import boto3`. library_floor: "
        "pynamodb, Powertools' logger, metrics and REST resolver with validation, and nothing "
        "of the product's."
    )


def tree_bytes(root: Path, *, leave_out: frozenset[str] = frozenset()) -> int:
    """Bytes of the files under root, as a deployment package holds them (no bytecode caches
    of this machine's Python, nothing in leave_out)."""
    total = 0
    for path in root.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts and path.name not in leave_out:
            total += path.stat().st_size
    return total


def installed_requirements(logical_id: str, requirements: Path) -> Path:
    """The layer's requirements installed for Lambda's platform (again only when they change)."""
    target = LAYER_INSTALLS / logical_id
    stamp = target / ".requirements-sha256"
    wanted = hashlib.sha256(requirements.read_bytes()).hexdigest()
    if not stamp.exists() or stamp.read_text() != wanted:
        subprocess.run(["rm", "-rf", str(target)], check=True)
        subprocess.run(
            [
                str(UV),
                "pip",
                "install",
                "--quiet",
                "--only-binary",
                ":all:",
                *LAMBDA_PLATFORM,
                "--target",
                str(target / "python"),
                "-r",
                str(requirements),
            ],
            cwd=REPO_ROOT,
            check=True,
        )
        stamp.write_text(wanted)
    return target / "python"


def layer_sizes(template: dict[str, Any]) -> dict[str, int | None]:
    """Unpacked bytes of each layer; None for a layer whose content is not built here."""
    sizes: dict[str, int | None] = {}
    for logical_id, layer in resources_of_type(template, "AWS::Serverless::LayerVersion").items():
        content = REPO_ROOT / layer["Properties"]["ContentUri"]
        if not content.is_dir():
            sizes[logical_id] = None
            continue
        size = tree_bytes(content, leave_out=frozenset({"requirements.txt"}))
        requirements = content / "requirements.txt"
        if str(layer.get("Metadata", {}).get("BuildMethod", "")).startswith("python"):
            size += tree_bytes(installed_requirements(logical_id, requirements))
        sizes[logical_id] = size
    return sizes


def print_sizes(template: dict[str, Any], functions: list[Function]) -> None:
    layers = layer_sizes(template)
    print("| layer | unpacked, MiB |")
    print("|---|---:|")
    for logical_id, size in sorted(layers.items()):
        shown = "not built here" if size is None else f"{size / MIB:.1f}"
        print(f"| {logical_id} | {shown} |")
    print()
    print("| function | layers | code + layers, MiB | Lambda's limit, MiB |")
    print("|---|---|---:|---:|")
    for function in functions:
        missing = [layer for layer in function.layers if layers.get(layer) is None]
        total = tree_bytes(function.code_dir) + sum(
            layers.get(layer) or 0 for layer in function.layers
        )
        note = f" (without {', '.join(missing)})" if missing else ""
        print(
            f"| {function.name} | {', '.join(function.layers)} | {total / MIB:.1f}{note} "
            f"| {LAMBDA_UNPACKED_LIMIT_MIB} |"
        )


def main() -> None:
    template = load_template()
    functions = template_functions(template)
    print_imports(functions)
    print()
    print_sizes(template, functions)


if __name__ == "__main__":
    main()
