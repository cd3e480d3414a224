"""Which modules a package's modules import, read from their source (AST): no module is executed.

The architecture test checks the direction of every arrow between the package's layers with it,
and the Lambda package test follows the handlers' import closure with it. Every import counts:
module-level and inside functions (the CLI and the handlers import lazily), `import x` and
`from x import y` (where `y` is itself a module when the package has one by that name), relative
imports resolved against the importing module's package.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Import", "import_closure", "module_files", "module_imports", "package_imports"]


@dataclass(frozen=True)
class Import:
    """One import statement's target, resolved to an absolute module name, and where it was written."""

    module: str  # the importing module ("touchpoints.adapters.dynamodb")
    target: str  # the imported module ("touchpoints.ports"), resolved; absolute
    line: int


def module_files(root: Path) -> dict[str, Path]:
    """Every module of the package at `root` (a folder with `__init__.py`) by dotted name.

    `root.name` is the package's name; `pkg/sub/__init__.py` is the module `pkg.sub`.
    """
    files: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        if "__pycache__" not in parts:
            files[".".join(parts)] = path
    return files


def _resolve(module: str, is_package: bool, level: int, name: str | None) -> str:
    """The absolute name of `from <level dots><name> import ...` written in `module`."""
    if level == 0:
        return name or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    if level > 1:
        if level - 1 > len(base):
            raise ValueError(f"{module}: relative import beyond the top-level package")
        base = base[: len(base) - (level - 1)]
    return ".".join([*base, name] if name else base)


def module_imports(
    source: str, module: str, *, is_package: bool, known: Iterable[str] = ()
) -> Iterator[Import]:
    """The imports written anywhere in `source` (the text of `module`), relative ones resolved.

    `from x import y` yields `x.y` when `x.y` is in `known` (a module, not a name defined in `x`),
    and `x` otherwise: importing a submodule runs its parent package too, but the arrow that
    matters is the one to the submodule.
    """
    modules = set(known)
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, is_package, node.level, node.module)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                yield Import(module, candidate if candidate in modules else base, node.lineno)


def package_imports(root: Path) -> list[Import]:
    """Every import of every module of the package at `root`."""
    files = module_files(root)
    found: list[Import] = []
    for module, path in files.items():
        source = path.read_text(encoding="utf-8")
        found.extend(module_imports(source, module, is_package=path.name == "__init__.py", known=files))
    return found


def import_closure(root: Path, start: Iterable[str]) -> set[str]:
    """The package's modules that importing `start` can reach (any import, however deep or lazy).

    Importing `a.b.c` also runs `a` and `a.b`, so parents are part of the closure.
    """
    files = module_files(root)
    edges: dict[str, set[str]] = {}
    for item in package_imports(root):
        edges.setdefault(item.module, set()).add(item.target)
    seen: set[str] = set()
    todo = list(start)
    while todo:
        name = todo.pop()
        parts = name.split(".")
        for depth in range(1, len(parts) + 1):
            prefix = ".".join(parts[:depth])
            if prefix in files and prefix not in seen:
                seen.add(prefix)
                todo.extend(edges.get(prefix, ()))
    return seen
