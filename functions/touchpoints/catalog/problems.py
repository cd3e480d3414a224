"""Problems found in a rule catalog, each tied to a file and line, and the error that carries them."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from touchpoints.errors import TouchpointsError

__all__ = ["CatalogError", "Problem", "did_you_mean", "display_path"]


@dataclass(frozen=True, order=True)
class Problem:
    """One mistake in a catalog file; `str()` is `path:line: message`, the form editors and CI link to."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        """The problem as JSON-ready data (for `touchpoints validate --json`)."""
        return {"path": self.path, "line": self.line, "message": self.message}


class CatalogError(TouchpointsError):
    """Raised by `load_catalog` when rule files, the policy or templates have problems.

    Carries every problem found (not only the first), so one run shows the whole list.
    """

    def __init__(self, problems: Sequence[Problem], *, summary: str | None = None) -> None:
        self.problems: list[Problem] = sorted(problems)
        count = len(self.problems)
        head = summary or f"the rule catalog has {count} problem{'s' if count != 1 else ''}"
        super().__init__("\n".join([f"{head}:", *(str(p) for p in self.problems)]))


def display_path(path: Path) -> str:
    """The path relative to the working directory when it lies under it, else absolute (for messages)."""
    absolute = os.path.abspath(path)  # no symlink resolution: cheap, and the user's own spelling
    relative = os.path.relpath(absolute)
    if relative.startswith(os.pardir + os.sep + os.pardir + os.sep + os.pardir):
        return Path(absolute).as_posix()
    return Path(relative).as_posix()


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A ` (did you mean 'x'?)` suffix naming the closest choice, or '' when nothing is close."""
    close = difflib.get_close_matches(word, sorted(set(choices)), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
