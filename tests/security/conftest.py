"""Security tier: shared fixtures (the parsed SAM template, the moto stack with captured logs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def template(repo_root: Path) -> dict[str, Any]:
    """template.yaml with its short-form intrinsics in long form (`!Ref X` -> `{"Ref": "X"}`)."""
    from touchpoints.local import load_template

    return load_template(repo_root / "template.yaml")
