"""Every test runs in the test environment (fake credentials, fixed resource names)."""

import pytest

from tests import environment  # noqa: F401 - before any import of the domain package


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """How `make test` (`--dist loadgroup`) shares the tests between its processes: a module's
    tests stay together (they share its fixtures), but the browser checks of one page in one
    language go together wherever they are written, since they all look at one visit of it."""
    for item in items:
        if item.get_closest_marker("xdist_group"):
            continue
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "site_page" in params and "language" in params:
            group = f"{params['site_page'].name}-{params['language']}"
        else:
            group = item.nodeid.split("::")[0]
        item.add_marker(pytest.mark.xdist_group(group))


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
