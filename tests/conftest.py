"""Root pytest configuration: paths every test tier shares, and the order workers take modules in."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The checkout's root, so tests find rules/, events/ and template.yaml wherever pytest runs."""
    return REPO_ROOT


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On a pytest-xdist worker, the modules marked `slow` go first in the work queue.

    `make test` hands whole files to workers (`--dist loadfile`, pyproject.toml), so a module's
    module- and session-scoped world (a moto stack, a replayed 1,000-order stream) is built once.
    The suite's wall time is then bounded by its longest file (the reliability stream, about three
    minutes of fixture setup): handed out last, it would run alone after everything else. The sort
    is stable, so tests keep their order within a module; a serial run keeps pytest's own order.
    """
    if hasattr(config, "workerinput"):
        items.sort(key=lambda item: item.get_closest_marker("slow") is None)
