"""Fixture catalogs for the catalog tests: the valid base, and the base plus one broken case."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "broken-rules"
VALID_BASE = FIXTURES / "valid-base"
CASES = FIXTURES / "cases"


@pytest.fixture
def make_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str | None], Path]:
    """Build `tmp_path/rules` = the valid base catalog overlaid with one case (None = base only).

    The working directory moves to `tmp_path`, so problems name files as `rules/...`.
    """

    def build(case: str | None = None) -> Path:
        rules = tmp_path / "rules"
        shutil.copytree(VALID_BASE, rules)
        if case is not None:
            shutil.copytree(CASES / case, rules, dirs_exist_ok=True)
        monkeypatch.chdir(tmp_path)
        return rules

    return build
