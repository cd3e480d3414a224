"""Root pytest configuration: paths every test tier shares."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The checkout's root, so tests find rules/, events/ and template.yaml wherever pytest runs."""
    return REPO_ROOT
