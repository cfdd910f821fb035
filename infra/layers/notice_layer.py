"""Builds the notice-rendering Lambda layer: what WeasyPrint needs on Lambda to draw a notice.

Lambda's Python runtime (Amazon Linux 2023, glibc 2.34) has neither pango, harfbuzz and
fontconfig nor any font. The layer, mounted at /opt, brings them:

    lib/                     pango, pangoft2, harfbuzz, harfbuzz-subset, fontconfig, gobject and
                             every library they link to except glibc's own. Lambda puts
                             /opt/lib on LD_LIBRARY_PATH, where WeasyPrint's dlopen finds them.
    notice/fonts/            the Noto fonts the notice's stylesheet names (12 languages)
    notice/fonts.conf        fontconfig's configuration (FONTCONFIG_FILE)
    notice/templates/        the Jinja2 templates and compiled catalogues (NOTICE_TEMPLATES_DIR)
    notice/manifest.json     where every file came from (package and version)

The libraries are Debian bookworm's binary packages for the layer's architecture, fetched with
apt from the Debian archive this machine uses, under an apt state of the build's own (the
host's apt is left alone). Bookworm has glibc 2.36 and Lambda 2.34, so the build reads every
library it ships and stops rather than ship one that would not load on Lambda: each must be for
the layer's architecture, need no glibc symbol newer than 2.34, and find every library it
links to in the layer or in glibc. Debian's expat is the one library of the set that needs a
newer glibc (arc4random_buf, 2.36): the build compiles it from Debian's patched source with
getrandom instead.

    python -m infra.layers.notice_layer [--arch arm64|x86_64] [--out DIR]
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import cmp_to_key
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile
from elftools.elf.gnuversions import GNUVerNeedSection

from infra import REPO_ROOT

LAYER_SOURCE = REPO_ROOT / "layers" / "notice-rendering"
DEFAULT_OUTPUT = LAYER_SOURCE / "build"
WORK_ROOT = REPO_ROOT / ".cache" / "notice-layer"
TEMPLATES = REPO_ROOT / "templates"

# Where Lambda mounts a layer, and where this one's files are found there.
MOUNT_POINT = Path("/opt")
FONTCONFIG_FILE = MOUNT_POINT / "notice" / "fonts.conf"
TEMPLATES_DIR = MOUNT_POINT / "notice" / "templates"

DEBIAN_SUITE = "bookworm"
LAMBDA_GLIBC = (2, 34)  # Amazon Linux 2023, the base of Lambda's python3.12 runtime
# The libraries WeasyPrint opens (weasyprint/text/ffi.py), by soname.
WEASYPRINT_LIBRARIES = (
    "libgobject-2.0.so.0",
    "libpango-1.0.so.0",
    "libpangoft2-1.0.so.0",
    "libharfbuzz.so.0",
    "libharfbuzz-subset.so.0",
    "libfontconfig.so.1",
)
LIBRARY_PACKAGES = ("libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0", "libfontconfig1")
FONT_PACKAGES = ("fonts-noto-core", "fonts-noto-cjk")
# The faces of the families templates/notice.html.j2 asks for.
FONT_FILES = (
    "NotoSans-Regular.ttf",
    "NotoSans-Bold.ttf",
    "NotoNaskhArabic-Regular.ttf",
    "NotoNaskhArabic-Bold.ttf",
    "NotoSansArabic-Regular.ttf",
    "NotoSansArabic-Bold.ttf",
    "NotoSansCJK-Regular.ttc",
    "NotoSansCJK-Bold.ttc",
)
GLIBC_PACKAGE = "libc6"
EXPAT_SONAME = "libexpat.so.1"


class LayerError(Exception):
    """The layer cannot be built, or would not load on Lambda."""


@dataclass(frozen=True)
class Architecture:
    lambda_name: str
    debian: str
    triplet: str
    elf_machine: str
    loader: str

    @property
    def glibc_sonames(self) -> frozenset[str]:
        """Libraries Lambda's glibc provides: the layer must not bring its own."""
        return frozenset(
            {"libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0", "librt.so.1"}
            | {"libresolv.so.2", self.loader}
        )


ARCHITECTURES = {
    "arm64": Architecture(
        "arm64", "arm64", "aarch64-linux-gnu", "EM_AARCH64", "ld-linux-aarch64.so.1"
    ),
    "x86_64": Architecture(
        "x86_64", "amd64", "x86_64-linux-gnu", "EM_X86_64", "ld-linux-x86-64.so.2"
    ),
}


@dataclass(frozen=True)
class SharedLibrary:
    path: Path
    soname: str
    machine: str
    needed: tuple[str, ...]
    glibc: tuple[int, int]  # the newest GLIBC_x.y symbol version it needs
    origin: str = ""  # the package (and version) it comes from


def read_library(path: Path) -> SharedLibrary:
    with path.open("rb") as stream:
        elf = ELFFile(stream)
        needed: list[str] = []
        soname = path.name
        newest = (2, 0)
        for section in elf.iter_sections():
            if isinstance(section, DynamicSection):
                for tag in section.iter_tags():
                    named: Any = tag  # pyelftools adds .needed and .soname per tag kind
                    if tag.entry.d_tag == "DT_NEEDED":
                        needed.append(named.needed)
                    elif tag.entry.d_tag == "DT_SONAME":
                        soname = named.soname
            elif isinstance(section, GNUVerNeedSection):
                for _, auxiliaries in section.iter_versions():
                    for auxiliary in auxiliaries:
                        name = auxiliary.name
                        if name.startswith("GLIBC_2."):
                            major, minor = name.removeprefix("GLIBC_").split(".")[:2]
                            newest = max(newest, (int(major), int(minor)))
        return SharedLibrary(path, soname, elf["e_machine"], tuple(needed), newest)


def loads_on_lambda(library: SharedLibrary, architecture: Architecture) -> None:
    if library.machine != architecture.elf_machine:
        raise LayerError(
            f"{library.soname} is for {library.machine}, not {architecture.elf_machine}"
        )
    if library.glibc > LAMBDA_GLIBC:
        raise LayerError(
            f"{library.soname} needs glibc {_dotted(library.glibc)}; "
            f"Lambda has {_dotted(LAMBDA_GLIBC)}"
        )


def closure(
    roots: Iterable[str], available: dict[str, SharedLibrary], architecture: Architecture
) -> dict[str, SharedLibrary]:
    """The libraries to ship: the roots and all they link to, glibc's own left to Lambda."""
    shipped: dict[str, SharedLibrary] = {}
    pending = list(roots)
    while pending:
        soname = pending.pop()
        if soname in shipped or soname in architecture.glibc_sonames:
            continue
        library = available.get(soname)
        if library is None:
            raise LayerError(f"{soname} is needed but neither in the packages nor in glibc")
        loads_on_lambda(library, architecture)
        shipped[soname] = library
        pending.extend(library.needed)
    return shipped


def _run(command: list[str], cwd: Path | None = None) -> str:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise LayerError(f"{' '.join(command[:3])} … failed:\n{result.stderr.strip()[-2000:]}")
    return result.stdout


class DebianArchive:
    """apt-get with a state of its own: the host's bookworm sources, the layer's architecture."""

    def __init__(self, root: Path, architecture: Architecture) -> None:
        self.root = root
        self._options = [
            f"-oDir={root}",
            f"-oDir::State::status={root / 'status'}",
            "-oDir::Bin::Methods=/usr/lib/apt/methods",
            f"-oAPT::Architecture={architecture.debian}",
            f"-oAPT::Architectures::={architecture.debian}",
            "-oAPT::Sandbox::User=root",
            "-oDebug::NoLocking=1",
        ]

    def update(self) -> None:
        sources = self.root / "etc" / "apt" / "sources.list.d"
        for directory in (sources, self.root / "var/lib/apt/lists/partial"):
            directory.mkdir(parents=True, exist_ok=True)
        (self.root / "var/cache/apt/archives/partial").mkdir(parents=True, exist_ok=True)
        (self.root / "status").touch()
        (sources / "debian.sources").write_text(host_sources())
        _run(["apt-get", "-q", *self._options, "update"])

    def download(self, packages: Iterable[str]) -> list[Path]:
        """The packages and everything they depend on (an empty system: glibc included)."""
        install = ["install", "--download-only", "--no-install-recommends", *packages]
        _run(["apt-get", "-q", "-y", *self._options, *install])
        _run(["apt-get", "-q", *self._options, "autoclean"])  # versions superseded since
        return sorted((self.root / "var/cache/apt/archives").glob("*.deb"))

    def source(self, package: str, into: Path) -> Path:
        """The newest version of the source package that the archive serves, unpacked."""
        into.mkdir(parents=True, exist_ok=True)
        listing = _run(["apt-cache", *self._options, "showsrc", "--only-source", package])
        versions = [
            line.split(": ", 1)[1] for line in listing.splitlines() if line.startswith("Version: ")
        ]
        newest_first = sorted(set(versions), key=cmp_to_key(_compare_versions), reverse=True)
        for version in newest_first:
            unpacked = into / f"{package}-{version}"
            if unpacked.exists():
                return unpacked
            try:
                _run(
                    [
                        "apt-get",
                        "-q",
                        *self._options,
                        "source",
                        "--download-only",
                        f"{package}={version}",
                    ],
                    cwd=into,
                )
            except LayerError:
                continue  # not served any more: an older one then
            dsc = next(into.glob(f"{package}_{version.split(':')[-1]}.dsc"))
            partial = into / f"{unpacked.name}.partial"
            shutil.rmtree(partial, ignore_errors=True)
            _run(["dpkg-source", "-x", dsc.name, partial.name], cwd=into)
            partial.rename(unpacked)
            return unpacked
        raise LayerError(f"no source of {package} could be downloaded")


def _compare_versions(left: str, right: str) -> int:
    if left == right:
        return 0
    newer = subprocess.run(["dpkg", "--compare-versions", left, "gt", right], check=False)
    return 1 if newer.returncode == 0 else -1


def host_sources() -> str:
    """The host's Debian bookworm sources (deb822), with source packages enabled."""
    stanzas = []
    for path in sorted(Path("/etc/apt/sources.list.d").glob("*.sources")):
        for stanza in path.read_text().split("\n\n"):
            fields = dict(
                line.split(":", 1)
                for line in stanza.splitlines()
                if ":" in line and not line.startswith("#")
            )
            suites = fields.get("Suites", "").split()
            if suites and all(suite.startswith(DEBIAN_SUITE) for suite in suites):
                fields["Types"] = " deb deb-src"
                stanzas.append("\n".join(f"{key}:{value}" for key, value in fields.items()))
    if not stanzas:
        raise LayerError(
            f"the layer is built from Debian {DEBIAN_SUITE} packages: build it on Debian 12 "
            "(or in a debian:bookworm container), whose apt sources name that suite"
        )
    return "\n\n".join(stanzas) + "\n"


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    files: Path  # where its contents were unpacked

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"


def unpack(debs: Iterable[Path], into: Path) -> list[Package]:
    packages = []
    for deb in debs:
        name, version = _run(
            ["dpkg-deb", "--showformat=${Package} ${Version}", "-W", str(deb)]
        ).split()
        files = into / f"{name}_{version}"
        if not files.exists():  # unpacked by an earlier build otherwise
            partial = into / f"{files.name}.partial"
            shutil.rmtree(partial, ignore_errors=True)
            partial.mkdir(parents=True)
            _run(["dpkg-deb", "-x", str(deb), str(partial)])
            partial.rename(files)
        packages.append(Package(name, version, files))
    return packages


def package_libraries(
    packages: Iterable[Package], architecture: Architecture
) -> dict[str, SharedLibrary]:
    """Every shared library of the packages (glibc's apart), by soname."""
    found = {}
    for package in packages:
        if package.name == GLIBC_PACKAGE:
            continue
        for directory in ("lib", "usr/lib"):
            for path in sorted((package.files / directory / architecture.triplet).glob("*.so.*")):
                if path.is_file() and not path.is_symlink():
                    library = read_library(path)
                    found[library.soname] = replace(library, origin=package.label)
    return found


def build_expat(source: Path, architecture: Architecture, build_dir: Path) -> SharedLibrary:
    """Debian's expat, compiled to draw its randomness from getrandom (glibc 2.25), not from
    arc4random_buf (glibc 2.36, newer than Lambda's)."""
    project = source / "expat"
    header = project / "expat_config.h.cmake"
    # Debian's security patches test `XML_DTD == 1`, as its autotools build defines it.
    header.write_text(
        header.read_text().replace("#cmakedefine XML_DTD\n", "#cmakedefine01 XML_DTD\n")
    )
    compiler = (
        "cc" if architecture.elf_machine == _host_machine() else f"{architecture.triplet}-gcc"
    )
    if shutil.which(compiler) is None:
        raise LayerError(f"{compiler} is needed to compile expat for {architecture.lambda_name}")
    shutil.rmtree(build_dir, ignore_errors=True)
    _run(
        [
            "cmake",
            "-S",
            str(project),
            "-B",
            str(build_dir),
            "-DCMAKE_BUILD_TYPE=Release",
            "-DCMAKE_SYSTEM_NAME=Linux",
            f"-DCMAKE_SYSTEM_PROCESSOR={architecture.triplet.split('-')[0]}",
            f"-DCMAKE_C_COMPILER={compiler}",
            "-DEXPAT_BUILD_TOOLS=OFF",
            "-DEXPAT_BUILD_EXAMPLES=OFF",
            "-DEXPAT_BUILD_TESTS=OFF",
            "-DEXPAT_BUILD_DOCS=OFF",
            "-DEXPAT_BUILD_PKGCONFIG=OFF",
            "-DHAVE_ARC4RANDOM_BUF=0",
            "-DHAVE_ARC4RANDOM=0",
        ]
    )
    _run(["cmake", "--build", str(build_dir), f"-j{os.cpu_count() or 1}"])
    built = next(path for path in build_dir.glob(f"{EXPAT_SONAME}.*") if not path.is_symlink())
    version = source.name.removeprefix("expat-")
    return replace(read_library(built), origin=f"expat {version} (source; without arc4random)")


def _host_machine() -> str:
    with open(sys.executable, "rb") as stream:
        return str(ELFFile(stream)["e_machine"])


def compile_catalogues(into: Path) -> list[str]:
    """The notice's templates, and its .po catalogues compiled to .mo."""
    languages = []
    for template in sorted(TEMPLATES.glob("*.j2")):
        shutil.copy2(template, into / template.name)
    for po_path in sorted(TEMPLATES.glob("locale/*/LC_MESSAGES/messages.po")):
        language = po_path.parts[-3]
        target = into / "locale" / language / "LC_MESSAGES" / "messages.mo"
        target.parent.mkdir(parents=True, exist_ok=True)
        with po_path.open("rb") as po_file:
            catalogue = read_po(po_file, locale=language)
        with target.open("wb") as mo_file:
            write_mo(mo_file, catalogue)
        languages.append(language)
    return languages


def copy_fonts(packages: Iterable[Package], into: Path) -> dict[str, str]:
    origin = {}
    font_packages = [package for package in packages if package.name in FONT_PACKAGES]
    for font in FONT_FILES:
        found = [(path, package) for package in font_packages for path in package.files.rglob(font)]
        if not found:
            raise LayerError(f"{font} is not in {', '.join(FONT_PACKAGES)}")
        path, package = found[0]
        shutil.copyfile(path, into / font)
        origin[font] = package.label
    return origin


def build(architecture: Architecture, output: Path, work: Path) -> dict[str, object]:
    """Build the layer into output (replaced only once the build is whole); returns its
    manifest. Builds that share a work directory (its apt state, its expat build) take turns."""
    work.mkdir(parents=True, exist_ok=True)
    with (work / "build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _build(architecture, output, work)


def _build(architecture: Architecture, output: Path, work: Path) -> dict[str, object]:
    archive = DebianArchive(work / "apt", architecture)
    archive.update()
    packages = unpack(archive.download(LIBRARY_PACKAGES + FONT_PACKAGES), work / "unpacked")
    available = package_libraries(packages, architecture)
    expat_source = archive.source("expat", work / "source")
    available[EXPAT_SONAME] = build_expat(expat_source, architecture, work / "expat-build")
    shipped = closure(WEASYPRINT_LIBRARIES, available, architecture)

    staging = output.with_name(f"{output.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    lib, notice = staging / "lib", staging / "notice"
    for directory in (lib, notice / "fonts", notice / "templates"):
        directory.mkdir(parents=True)
    for soname, library in shipped.items():
        shutil.copyfile(library.path, lib / soname)
    fonts = copy_fonts(packages, notice / "fonts")
    shutil.copyfile(LAYER_SOURCE / "fonts.conf", notice / "fonts.conf")
    languages = compile_catalogues(notice / "templates")
    manifest: dict[str, object] = {
        "architecture": architecture.lambda_name,
        "debian_suite": DEBIAN_SUITE,
        "lambda_glibc": _dotted(LAMBDA_GLIBC),
        "libraries": {
            soname: {"from": library.origin, "needs_glibc": _dotted(library.glibc)}
            for soname, library in sorted(shipped.items())
        },
        "fonts": fonts,
        "languages": languages,
    }
    (notice / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    shutil.rmtree(output, ignore_errors=True)
    staging.rename(output)
    return manifest


def _dotted(version: tuple[int, int]) -> str:
    return ".".join(map(str, version))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--arch", choices=sorted(ARCHITECTURES), default="arm64")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUTPUT)
    arguments = parser.parse_args(argv)
    architecture = ARCHITECTURES[arguments.arch]
    try:
        manifest = build(architecture, arguments.out, WORK_ROOT / architecture.lambda_name)
    except LayerError as error:
        sys.exit(f"notice layer: {error}")
    size = sum(path.stat().st_size for path in arguments.out.rglob("*") if path.is_file())
    libraries = manifest["libraries"]
    assert isinstance(libraries, dict)
    print(
        f"notice layer ({architecture.lambda_name}): {len(libraries)} libraries, "
        f"{len(FONT_FILES)} fonts, {size / 1e6:.1f} MB in {arguments.out}"
    )


if __name__ == "__main__":
    main()
