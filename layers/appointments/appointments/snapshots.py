"""Lambda SnapStart: what an execution environment restored from a snapshot must not share.

With SnapStart, Lambda initialises a function once, when a version is published, and starts
later execution environments from a snapshot of that memory. Whatever initialisation left in
memory is then the same in every copy, and as old as the snapshot: Python's `random` state
(retry jitter, log sampling), a cached service secret, the office catalogue. The module that
keeps such state registers here how to refresh it (`after_restore`), and Lambda's runtime runs
every refresher in each restored copy before its first request.

Confirmation numbers, PINs, challenges and ids are drawn from the operating system (`secrets`,
`uuid4`) at the moment they are needed, never from state kept in memory, so copies of one
snapshot cannot hand out the same ones.

Lambda's Python runtime provides `snapshot_restore_py`. Elsewhere (the tests, and `make run`,
whose function processes each initialise from scratch and are never restored) the refreshers
are kept all the same, and `run_after_restore_hooks` runs them as the runtime would.

This module imports nothing but the standard library: every API function loads it.
"""

from __future__ import annotations

import random
from collections.abc import Callable

Refresher = Callable[[], None]

_refreshers: list[Refresher] = []


def after_restore(refresh: Refresher) -> Refresher:
    """Have `refresh` run in every copy restored from a snapshot (a decorator)."""
    _refreshers.append(refresh)
    return refresh


def run_after_restore_hooks() -> None:
    """Refresh everything registered, in the order registered: what the runtime calls."""
    for refresh in tuple(_refreshers):
        refresh()


@after_restore
def reseed_random() -> None:
    """Fresh entropy from the operating system for Python's `random`: otherwise every copy of
    one snapshot would draw the same retry jitter, and copies that met one conflict would
    retry in step."""
    random.seed()


try:
    from snapshot_restore_py import register_after_restore  # type: ignore[import-not-found]
except ImportError:  # not Lambda's runtime
    pass
else:
    register_after_restore(run_after_restore_hooks)
