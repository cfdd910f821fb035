"""Every test runs in the test environment (fake credentials, fixed resource names)."""

import pytest

from tests import environment  # noqa: F401 - before any import of the domain package


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
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
        if getattr(config.option, "loadgroup", False):  # in an xdist worker, under loadgroup
            _name_with_its_group(item, group)


def _name_with_its_group(item: pytest.Item, group: str) -> None:
    """The test's id with "@group" after it, which is how xdist's scheduler reads the group.
    pytest-xdist 3.8 writes it to `item._nodeid`, which pytest 9 no longer reads (the id is
    `item._id`): without this, every test was scheduled on its own, a module's tests went to
    both processes, and both set up its fixtures (a local stack, a page's visit) again."""
    named = f"{item.nodeid}@{group}"
    item._id = type(item._id).parse(named)  # noqa: SLF001 - as xdist's own hook means to


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
