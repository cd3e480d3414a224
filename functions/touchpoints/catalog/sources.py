"""Which files make a rules folder, and the content hash of them that is the catalog's version.

Shared by the validating load (`loader`) and the compiled catalog's staleness check (`compiled`),
so both read and hash exactly the same files.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

__all__ = [
    "POLICY_FILE",
    "TEMPLATES_DIR",
    "TESTS_DIR",
    "YAML_SUFFIXES",
    "content_version",
    "discover_rules",
    "rule_files",
]

POLICY_FILE = "policy.yaml"
TEMPLATES_DIR = "templates"
TESTS_DIR = "tests"
YAML_SUFFIXES = (".yaml", ".yml")


def rule_files(root: Path) -> Iterator[Path]:
    """The rule files of a rules folder, sorted: every YAML file but policy.yaml, templates/, tests/
    and hidden ones (at any depth)."""
    yield from discover_rules(root)[0]


def discover_rules(root: Path) -> tuple[list[Path], list[Path]]:
    """The rule files of a rules folder (as `rule_files`) and its folders named like rule files.

    A folder named `x.yaml` looks like a rule to whoever made it, but holds none: validate
    reports it rather than skipping it in silence (the rule files inside it still load).
    os.walk with the skipped folders pruned, not `rglob("*")`: the same files (symlinked folders
    are not entered either way) ten times faster, which a cold start notices (~1.5 ms).
    """
    top = os.fspath(root)
    found: list[Path] = []
    misnamed: list[Path] = []
    for folder, folders, files in os.walk(top):
        at_top = folder == top
        folders[:] = [
            name
            for name in folders
            if not name.startswith(".") and not (at_top and name in (TESTS_DIR, TEMPLATES_DIR))
        ]
        misnamed.extend(Path(folder, name) for name in folders if name.endswith(YAML_SUFFIXES))
        for name in files:
            if name.startswith(".") or not name.endswith(YAML_SUFFIXES) or (at_top and name == POLICY_FILE):
                continue
            path = Path(folder, name)
            if path.is_file():
                found.append(path)
    return sorted(found), sorted(misnamed)


def content_version(contents: Mapping[str, bytes]) -> str:
    """The catalog's version: sha256 over its files' relative paths and bytes, in path order.

    The compiled catalog recomputes it from the files to prove it was built from these sources.
    """
    digest = hashlib.sha256()
    for relative in sorted(contents):
        content = contents[relative]
        digest.update(f"{relative}\0{len(content)}\0".encode())
        digest.update(content)
    return f"sha256:{digest.hexdigest()}"
