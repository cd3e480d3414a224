"""Which fact paths a JsonLogic rule can read, found from its literal `var` and `missing` operands.

Used to build only the facts a trigger's rules read (most of the facts are never asked for).
Unlike `variables` (compiler.py), which lists the literal `var` paths for validation, this answer
must never miss a read: when it cannot be sure, it says "anything" (None).
"""

from __future__ import annotations

from typing import Any

__all__ = ["read_paths"]

_DATA_OPERATORS = frozenset({"var", "missing", "missing_some"})


def read_paths(logic: Any) -> set[str] | None:
    """Every fact path a JsonLogic rule can read; None when it may read anything.

    Conservative on purpose: a path computed at run time (`{"var": {"cat": ...}}`), a `var` of the
    whole data, or keys `missing` computes make the rule read everything, and paths inside
    map/filter/reduce (relative to the element) are counted as if they were top-level.
    """
    paths: set[str] = set()
    if _collect_paths(logic, paths):
        return paths
    return None


def _collect_paths(node: Any, paths: set[str]) -> bool:
    if isinstance(node, list):
        return all(_collect_paths(item, paths) for item in node)
    if not isinstance(node, dict):
        return True
    if len(node) != 1:
        return all(_collect_paths(value, paths) for value in node.values())
    ((op, args),) = node.items()
    if op not in _DATA_OPERATORS:
        return _collect_paths(args, paths)
    if op == "var":
        items = args if isinstance(args, list) else [args]
        if not items or not _literal_path(items[0], paths):
            return False
        return all(_collect_paths(item, paths) for item in items[1:])
    items = args if isinstance(args, list) else [args]
    if op == "missing_some":
        if len(items) != 2 or not _collect_paths(items[0], paths):
            return False
        items = items[1] if isinstance(items[1], list) else [items[1]]
    elif len(items) == 1 and isinstance(items[0], list):
        items = items[0]  # `missing` of one array: the array holds the keys
    return all(_literal_keys(item, paths) for item in items)


def _literal_path(value: Any, paths: set[str]) -> bool:
    """Add a literal `var` path (a string or an integer, not empty); False for anything else."""
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        return False
    paths.add(str(value))
    return True


def _literal_keys(value: Any, paths: set[str]) -> bool:
    """`missing` keys: literal paths, or arrays of them (an array key is var's argument list: all counted)."""
    if isinstance(value, list):
        return bool(value) and all(_literal_path(item, paths) for item in value)
    return _literal_path(value, paths)
