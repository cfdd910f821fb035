"""What the notice-rendering layer ships: the libraries WeasyPrint opens and all they link to,
glibc's own left to Lambda; the build stops on anything that would not load there."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.layers.notice_layer import ARCHITECTURES, LayerError, SharedLibrary, closure

ARM64 = ARCHITECTURES["arm64"]


def library(soname: str, *needed: str, glibc: tuple[int, int] = (2, 17)) -> SharedLibrary:
    return SharedLibrary(Path(soname), soname, "EM_AARCH64", needed, glibc)


def test_ships_what_the_roots_link_to_but_not_glibc() -> None:
    available = {
        "libpango-1.0.so.0": library("libpango-1.0.so.0", "libglib-2.0.so.0", "libc.so.6"),
        "libglib-2.0.so.0": library("libglib-2.0.so.0", "libm.so.6", "ld-linux-aarch64.so.1"),
        "libunused.so.1": library("libunused.so.1"),
    }
    shipped = closure(["libpango-1.0.so.0"], available, ARM64)
    assert set(shipped) == {"libpango-1.0.so.0", "libglib-2.0.so.0"}


def test_a_library_needed_but_nowhere_stops_the_build() -> None:
    available = {"libpango-1.0.so.0": library("libpango-1.0.so.0", "libthai.so.0")}
    with pytest.raises(LayerError, match=r"libthai\.so\.0 is needed"):
        closure(["libpango-1.0.so.0"], available, ARM64)


def test_a_library_for_a_newer_glibc_than_lambdas_stops_the_build() -> None:
    available = {"libexpat.so.1": library("libexpat.so.1", glibc=(2, 36))}
    with pytest.raises(LayerError, match=r"needs glibc 2\.36; Lambda has 2\.34"):
        closure(["libexpat.so.1"], available, ARM64)


def test_a_library_of_another_architecture_stops_the_build() -> None:
    amd64 = SharedLibrary(Path("libz.so.1"), "libz.so.1", "EM_X86_64", (), (2, 14))
    with pytest.raises(LayerError, match="is for EM_X86_64"):
        closure(["libz.so.1"], {"libz.so.1": amd64}, ARM64)
