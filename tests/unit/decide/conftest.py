"""Fixtures for decide tests: the small fixture catalog (independent of the shipped playbook)."""

from __future__ import annotations

import pytest
from decide_helpers import FIXTURE_RULES

from touchpoints.catalog import Catalog, load_catalog


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    """The fixture catalog in tests/fixtures/decide/rules, loaded once."""
    return load_catalog(FIXTURE_RULES)
