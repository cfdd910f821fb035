"""Benchmarks (`make bench`). Each runs in the test environment, set here: a package runs before
its modules, so before any import of the domain package (which reads table names once)."""

from tests import environment  # noqa: F401
