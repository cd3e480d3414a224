"""The house rule 'pure core, thin edges', enforced: the core never imports AWS libraries."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "functions" / "touchpoints"
CORE = ["logic", "catalog", "contract", "journey", "policy", "decide.py", "simulator.py", "service.py"]
FORBIDDEN = ("boto3", "botocore", "aws_lambda_powertools", "moto", "aws_xray_sdk")


def _core_files() -> list[Path]:
    files: list[Path] = []
    for name in CORE:
        path = PACKAGE / name
        if path.is_dir():
            files.extend(sorted(path.rglob("*.py")))
        elif path.exists():
            files.append(path)
    return files


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def test_core_modules_exist() -> None:
    # GIVEN the package layout of docs/ARCHITECTURE.md
    # WHEN we list the core's files
    files = _core_files()
    # THEN there is a core to check (this test must not pass vacuously)
    assert len(files) >= 5


@pytest.mark.parametrize("path", _core_files(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_core_module_imports_no_aws_library(path: Path) -> None:
    # GIVEN a module of the pure core
    # WHEN we read its imports (including ones inside functions)
    imported = _imported_modules(path)
    # THEN none of them is an AWS SDK, Powertools or moto
    offending = sorted(m for m in imported if m.split(".")[0] in FORBIDDEN)
    assert offending == [], f"{path.name} imports {offending}: AWS belongs in adapters/ and handlers/"
