"""The layer that `sam build` packages pins the same versions the tests ran with."""

from __future__ import annotations

import re
import tomllib

from tests.helpers import REPO_ROOT

PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)")


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_layer_requirements_match_the_lock_file() -> None:
    lock = tomllib.loads((REPO_ROOT / "uv.lock").read_text())
    locked = {_normalise(p["name"]): p.get("version") for p in lock["package"]}
    lines = (REPO_ROOT / "layers/appointments/requirements.txt").read_text().splitlines()
    pinned = {_normalise(m[1]): m[2] for line in lines if (m := PIN.match(line))}
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    runtime = {_normalise(re.split(r"[\[=<>~ ]", dep)[0]) for dep in project["dependencies"]}
    assert runtime <= pinned.keys()
    assert {name: version for name, version in pinned.items() if locked.get(name) != version} == {}
