"""Every test runs in the test environment (fake credentials, fixed resource names)."""

from tests import environment  # noqa: F401 - before any import of the domain package
