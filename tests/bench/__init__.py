"""`make bench`. The test environment (fake credentials, fixed table names) is set here, before
any bench module imports the domain package, whose models read their table names on import."""

from tests import environment  # noqa: F401
