"""The notice-rendering layer (infra/layers/notice_layer.py), built from Debian's packages for this
machine's architecture, draws every language's notice in a root that holds nothing but glibc,
the Python runtime and the layer at /opt: no system pango, fontconfig, fonts or templates, as
on Lambda. The deployed layer is the same build for arm64."""

from __future__ import annotations

import io
import json
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile
from elftools.elf.segments import InterpSegment
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from appointments.notices import LANGUAGES
from infra.layers.notice_layer import (
    ARCHITECTURES,
    FONTCONFIG_FILE,
    LAMBDA_GLIBC,
    MOUNT_POINT,
    TEMPLATES_DIR,
    WEASYPRINT_LIBRARIES,
    WORK_ROOT,
    LayerError,
    build,
    loads_on_lambda,
    read_library,
)
from tests.helpers import ALLOWED_EMBEDDED, REPO_ROOT, embedded_fonts, visible_text

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="building the test root needs root")

HOST = ARCHITECTURES["arm64" if platform.machine() == "aarch64" else "x86_64"]
# The runtime's own modules that Lambda's Python does not have (and that would bring the
# system's fontconfig and freetype into the test root).
NOT_ON_LAMBDA = ("_tkinter",)


@pytest.fixture(scope="module")
def layer_builds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Future[Path]]]:
    """Both architectures' layers, built side by side: the build is mostly apt downloads,
    dpkg and a compiler, in processes of their own, so the two overlap instead of adding up."""
    into = tmp_path_factory.mktemp("layers")

    def built(architecture: str) -> Path:
        build(ARCHITECTURES[architecture], into / architecture, WORK_ROOT / architecture)
        return into / architecture

    with ThreadPoolExecutor(max_workers=len(ARCHITECTURES)) as pool:
        yield {name: pool.submit(built, name) for name in ARCHITECTURES}


@pytest.fixture(scope="module")
def layer(layer_builds: dict[str, Future[Path]]) -> Path:
    """The layer for this machine, whose code the test root can run."""
    return layer_builds[HOST.lambda_name].result()


@pytest.fixture(scope="module", params=sorted(ARCHITECTURES))
def any_layer(
    request: pytest.FixtureRequest, layer_builds: dict[str, Future[Path]]
) -> tuple[str, Path]:
    """The layer for each architecture, arm64 (the deployed one) built with a cross-compiler."""
    return request.param, layer_builds[request.param].result()


def runtime_libraries() -> dict[str, Path]:
    """What the Python runtime and the domain layer's packages link to outside themselves."""
    base = Path(sys.base_prefix)
    objects = [Path(sys.executable).resolve(), *base.glob("lib/libpython*.so*")]
    objects += [
        path
        for path in base.glob("lib/python3*/lib-dynload/*.so")
        if not path.name.startswith(NOT_ON_LAMBDA)
    ]
    objects += Path(sys.prefix).glob("lib/python3*/site-packages/**/*.so")
    found: dict[str, Path] = {}
    for path in objects:
        listing = subprocess.run(
            ["ldd", str(path)], capture_output=True, text=True, check=False
        ).stdout
        for line in listing.splitlines():
            name, _, target = line.strip().partition(" => ")
            resolved = Path(target.split(" (")[0]) if target.startswith("/") else None
            if resolved and not resolved.is_relative_to(base) and REPO_ROOT not in resolved.parents:
                found[name] = resolved
    return found


def interpreter_loader() -> str:
    with Path(sys.executable).resolve().open("rb") as stream:
        for segment in ELFFile(stream).iter_segments():
            if isinstance(segment, InterpSegment):
                return str(segment.get_interp_name())
    raise AssertionError("the interpreter names no dynamic loader")


@pytest.fixture(scope="module")
def lambda_like_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """glibc and the runtime's libraries in /lib64 (first on Lambda's LD_LIBRARY_PATH)."""
    root = tmp_path_factory.mktemp("root")
    lib64 = root / "lib64"
    lib64.mkdir()
    for name, path in runtime_libraries().items():
        shutil.copyfile(path, lib64 / name)
    loader = interpreter_loader()
    (root / loader.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(loader, root / loader.lstrip("/"))
    os.chmod(root / loader.lstrip("/"), 0o755)
    (root / "tmp").mkdir(mode=0o1777)
    return root


@pytest.fixture(scope="module")
def rendered(layer: Path, lambda_like_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The probe's PDFs and report, from inside the root (the layer read-only at /opt)."""
    out = tmp_path_factory.mktemp("out")
    root = lambda_like_root
    binds = [
        (layer, MOUNT_POINT, "ro"),
        (Path(sys.base_prefix), Path(sys.base_prefix), "ro"),
        (REPO_ROOT, REPO_ROOT, "ro"),
        (Path("/usr/share/zoneinfo"), Path("/usr/share/zoneinfo"), "ro"),  # tzdata, as on Lambda
        (out, Path("/out"), "rw"),
    ]
    script = ["set -e"]
    for source, target, mode in binds:
        inside = root / str(target).lstrip("/")
        script += [f"mkdir -p '{inside}'", f"mount --bind '{source}' '{inside}'"]
        if mode == "ro":
            script.append(f"mount -o remount,bind,ro '{inside}'")
    script += [f"mkdir -p '{root}/proc'", f"mount -t proc proc '{root}/proc'"]
    environment = {
        "LANG": "C.UTF-8",
        "HOME": "/tmp",
        "LD_LIBRARY_PATH": f"/lib64:{MOUNT_POINT}/lib",
        "FONTCONFIG_FILE": str(FONTCONFIG_FILE),
        "NOTICE_TEMPLATES_DIR": str(TEMPLATES_DIR),
        "PYTHONPATH": f"{REPO_ROOT / 'layers' / 'appointments'}:{REPO_ROOT}",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    python = REPO_ROOT / ".venv" / "bin" / "python"
    variables = " ".join(f"'{key}={value}'" for key, value in environment.items())
    script.append(
        f"exec env -i {variables} {shutil.which('chroot')} '{root}' '{python}' "
        "-m tests.layers.notice_layer_probe /out"
    )
    result = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", "\n".join(script)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return out


def report(rendered: Path) -> dict[str, object]:
    loaded: dict[str, object] = json.loads((rendered / "report.json").read_text())
    return loaded


def test_layer_holds_every_library_weasyprint_opens(any_layer: tuple[str, Path]) -> None:
    _, layer = any_layer
    assert {name for name in WEASYPRINT_LIBRARIES if not (layer / "lib" / name).is_file()} == set()


def test_every_library_of_the_layer_loads_with_lambdas_glibc(any_layer: tuple[str, Path]) -> None:
    architecture, layer = any_layer
    libraries = [read_library(path) for path in sorted((layer / "lib").iterdir())]
    shipped = {library.soname for library in libraries}
    glibc = ARCHITECTURES[architecture].glibc_sonames
    for library in libraries:
        assert library.machine == ARCHITECTURES[architecture].elf_machine, library.soname
        assert library.glibc <= LAMBDA_GLIBC, library.soname
        assert set(library.needed) <= shipped | glibc, library.soname


def test_debians_own_expat_is_refused_for_needing_a_newer_glibc(layer: Path) -> None:
    # Given Debian bookworm's binary expat, which the build had to compile again
    debian_expat = next(
        (WORK_ROOT / HOST.lambda_name / "unpacked").glob("libexpat1_*/**/libexpat.so.1.*")
    )
    # Then the check that guards every library of the layer refuses it
    with pytest.raises(LayerError, match=r"needs glibc 2\.36; Lambda has 2\.34"):
        loads_on_lambda(read_library(debian_expat), HOST)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_character_has_a_glyph_in_the_layers_fonts(
    layer: Path, rendered: Path, language: str
) -> None:
    covered: set[int] = set()
    for font in (layer / "notice" / "fonts").iterdir():
        covered |= set(TTFont(font, fontNumber=0).getBestCmap())
    text = visible_text((rendered / f"{language}.html").read_text())
    missing = {f"U+{ord(c):04X}" for c in text if not c.isspace() and ord(c) not in covered}
    assert missing == set()


@pytest.mark.parametrize("language", LANGUAGES)
def test_notice_renders_with_only_the_layers_fonts(rendered: Path, language: str) -> None:
    reader = PdfReader(io.BytesIO((rendered / f"{language}.pdf").read_bytes()))
    fonts = embedded_fonts(reader)
    assert fonts
    assert {font for font in fonts if not ALLOWED_EMBEDDED.match(font)} == set()
    assert "7K2M9QX4TR8" in "".join(page.extract_text() for page in reader.pages)


def test_native_libraries_are_loaded_from_the_layer(rendered: Path) -> None:
    loaded = report(rendered)["loaded"]
    assert isinstance(loaded, list)
    for soname in (*WEASYPRINT_LIBRARIES, "libexpat.so.1", "libfreetype.so.6"):
        assert f"{MOUNT_POINT}/lib/{soname}" in loaded, soname


def test_templates_and_catalogues_are_read_from_the_layer(rendered: Path) -> None:
    assert report(rendered)["templates"] == str(TEMPLATES_DIR)
    spanish = PdfReader(io.BytesIO((rendered / "es.pdf").read_bytes()))
    assert "noviembre" in "".join(page.extract_text() for page in spanish.pages)
