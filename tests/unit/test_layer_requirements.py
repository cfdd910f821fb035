"""The layers that `sam build` packages pin what uv.lock holds, each only what it is for: the
domain layer (every function) the project's dependencies, the PDF layer (the notice renderer
alone) the `rendering` group."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from typing import Any

import pytest

from tests.helpers import REPO_ROOT

PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)")
DOMAIN_REQUIREMENTS = REPO_ROOT / "layers/appointments/requirements.txt"
PDF_REQUIREMENTS = REPO_ROOT / "layers/pdf-rendering/requirements.txt"


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pinned(path: Any) -> dict[str, str]:
    lines = path.read_text().splitlines()
    return {_normalise(m[1]): m[2] for line in lines if (m := PIN.match(line))}


@pytest.fixture(scope="module")
def lock() -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in tomllib.loads((REPO_ROOT / "uv.lock").read_text())["package"]}


def _needed(lock: dict[str, dict[str, Any]], wanted: Iterable[dict[str, Any]]) -> set[str]:
    """Every locked package the wanted ones need, with their extras, on any platform."""
    seen: set[tuple[str, str | None]] = set()
    todo = list(wanted)
    while todo:
        dependency = todo.pop()
        name = dependency["name"]
        for extra in [None, *dependency.get("extra", [])]:
            if (name, extra) in seen:
                continue
            seen.add((name, extra))
            package = lock[name]
            todo.extend(
                package.get("dependencies", [])
                if extra is None
                else package.get("optional-dependencies", {}).get(extra, [])
            )
    return {_normalise(name) for name, extra in seen if extra is None}


def _project(lock: dict[str, dict[str, Any]]) -> dict[str, Any]:
    name = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["name"]
    return lock[name]


def _versions(lock: dict[str, dict[str, Any]]) -> dict[str, str]:
    return {_normalise(name): package.get("version", "") for name, package in lock.items()}


def test_domain_layer_pins_the_project_dependencies_as_locked(
    lock: dict[str, dict[str, Any]],
) -> None:
    # Given what the project's dependencies need, by the lock file
    needed = _needed(lock, _project(lock)["dependencies"])
    # When the domain layer's requirements are read
    pinned = _pinned(DOMAIN_REQUIREMENTS)
    # Then they are exactly those packages, at the locked versions
    assert set(pinned) == needed
    assert {name: v for name, v in pinned.items() if _versions(lock)[name] != v} == {}


def test_pdf_layer_pins_the_rendering_group_as_locked(lock: dict[str, dict[str, Any]]) -> None:
    # Given what the rendering group needs, by the lock file
    needed = _needed(lock, _project(lock)["dev-dependencies"]["rendering"])
    # When the PDF layer's requirements are read
    pinned = _pinned(PDF_REQUIREMENTS)
    # Then they are exactly those packages, at the locked versions
    assert set(pinned) == needed
    assert {name: v for name, v in pinned.items() if _versions(lock)[name] != v} == {}


def test_the_domain_layer_carries_no_pdf_renderer_and_no_phone_geocoding_data() -> None:
    # Given the domain layer's requirements, which every function carries
    pinned = _pinned(DOMAIN_REQUIREMENTS)
    # When the renderer's packages and the full phone library are looked for
    heavy = {"weasyprint", "pillow", "fonttools", "pyphen", "brotli", "zopfli", "phonenumbers"}
    # Then none is there: phone numbers come without geocoding, carrier and time zone data
    assert heavy & set(pinned) == set()
    assert "phonenumberslite" in pinned
