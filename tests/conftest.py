"""Every test runs in the test environment (fake credentials, fixed resource names)."""

import pytest

from tests import environment  # noqa: F401 - before any import of the domain package


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The figures tests measured (record_property("figure", ...)), after the results."""
    figures = [
        str(value)
        for outcome in ("passed", "failed")
        for report in terminalreporter.stats.get(outcome, [])
        for name, value in getattr(report, "user_properties", [])
        if name == "figure"
    ]
    if figures:
        terminalreporter.section("figures")
        for figure in sorted(figures):
            terminalreporter.write_line(figure)
