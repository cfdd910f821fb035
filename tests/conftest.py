"""Every test runs in the test environment (fake credentials, fixed resource names)."""

from collections import Counter
from collections.abc import Generator

import pytest

from tests import environment  # noqa: F401 - before any import of the domain package

# The groups that take longest (stacks started and stopped, schemathesis, a layer built from
# Debian's packages, one test that drives every function): handed out first, so that no process
# is still busy with one of them at the end while the other has nothing left to do. The rest
# follow by their number of tests, as xdist orders groups itself (`make test` turns that off:
# --no-loadscope-reorder).
LONGEST_FIRST = (
    "tests/e2e/test_local_stack.py",
    "tests/e2e/test_restart.py",
    "tests/local/test_stack_lifecycle.py",
    "tests/unit/test_permissions_in_use.py",
    "tests/layers/test_notice_layer.py",
    "tests/browser/test_journeys.py",
    "tests/local/test_template_driven.py",
)


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> Generator[None, None, None]:
    """How `make test` (`--dist loadgroup`) shares the tests between its processes: a module's
    tests stay together (they share its fixtures), but the browser checks of one page in one
    language go together wherever they are written, since they all look at one visit of it.
    Then (after pytest's own reordering, which keeps the tests of a session-scoped parameter
    together: every browser test's Chromium) the groups are put in order: LONGEST_FIRST."""
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
    yield
    groups = {item: _group_of(item) for item in items}
    sizes = Counter(groups.values())  # in the order each group is first met
    rank = {
        group: (
            LONGEST_FIRST.index(group) if group in LONGEST_FIRST else len(LONGEST_FIRST),
            -size,
            met,
        )
        for met, (group, size) in enumerate(sizes.items())
    }
    items.sort(key=lambda item: rank[groups[item]])


def _group_of(item: pytest.Item) -> str:
    (mark,) = item.iter_markers("xdist_group")
    return str(mark.args[0])


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
