"""YAML loading that remembers where everything came from, so every problem names a file and a line."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from touchpoints.catalog.problems import Problem, display_path
from touchpoints.timestamps import format_timestamp

if TYPE_CHECKING:
    from ruamel.yaml.comments import CommentedMap

# ruamel.yaml is imported by the functions that parse or walk YAML, not here: a Lambda that loads
# the compiled catalog (catalog/compiled.py) never parses YAML, and the import costs ~12 ms.

__all__ = [
    "YamlDocument",
    "line_of",
    "line_of_pointer",
    "load_yaml",
    "pointer_segments",
    "text_start_line",
    "to_plain",
]


@dataclass(frozen=True)
class YamlDocument:
    """A parsed YAML file: the round-trip tree (with line info), its plain-data twin and raw bytes."""

    path: Path
    display: str
    tree: Any
    data: Any
    raw: bytes

    def line(self, location: Sequence[str | int] = ()) -> int:
        """The 1-based line of the node at `location` (keys, indexes) or its deepest existing parent."""
        return line_of(self.tree, location)

    def problem(self, location: Sequence[str | int], message: str) -> Problem:
        """A problem at the node found by `location` in this file."""
        return Problem(self.display, self.line(location), message)


def load_yaml(path: Path, *, track_lines: bool = True) -> tuple[YamlDocument | None, list[Problem]]:
    """Read and parse one YAML file; a syntax error becomes a problem at its line, not an exception.

    `track_lines=False` uses the safe loader (libyaml-backed when ruamel.yaml.clib is installed,
    several times faster) for cold starts; the tree then has no line info, so a caller that finds
    problems parses again with lines to report them.
    """
    display = display_path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [Problem(display, 1, f"cannot read the file: {exc.strerror or exc}")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [Problem(display, line, "the file is not UTF-8 text")]
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    yaml = YAML(typ="rt") if track_lines else YAML(typ="safe", pure=False)
    try:
        tree = yaml.load(text)
    except MarkedYAMLError as exc:
        return None, [Problem(display, *_syntax_error(exc))]
    except YAMLError as exc:
        return None, [Problem(display, 1, f"YAML syntax error: {_tidy(str(exc))}")]
    return YamlDocument(path, display, tree, to_plain(tree), raw), []


def _syntax_error(exc: Any) -> tuple[int, str]:
    """(line, message) of a YAML syntax error, at the line the author has to fix.

    For an unfinished key (`on ShipmentDelayed` without its colon) or an unclosed `{`/`[`, the
    scanner notices only on a later line; the mistake is where the key or the bracket started
    (the error's context mark), so that line is named, and the later one is mentioned.
    """
    problem, context = exc.problem_mark, exc.context_mark
    what = _tidy(" ".join(part for part in (exc.context, exc.problem) if part) or "invalid YAML")
    starts_earlier = context is not None and problem is not None and context.line < problem.line
    if starts_earlier and any(word in (exc.context or "") for word in ("simple key", "flow")):
        return context.line + 1, f"YAML syntax error: {what} (noticed on line {problem.line + 1})"
    mark = problem or context
    return (mark.line + 1 if mark is not None else 1), f"YAML syntax error: {what}"


def _tidy(text: str) -> str:
    return " ".join(text.split())


def to_plain(node: Any) -> Any:
    """Turn ruamel's round-trip objects into plain JSON-like data (dict, list, str, int, float, bool, None).

    Unquoted timestamps become RFC 3339 strings (`Z` for UTC), because rules and facts carry
    times as strings; keys become strings.
    """
    from ruamel.yaml.scalarbool import ScalarBoolean

    return _plain(node, ScalarBoolean)


def _plain(node: Any, scalar_boolean: type) -> Any:
    if isinstance(node, dict):
        return {str(key): _plain(value, scalar_boolean) for key, value in node.items()}
    if isinstance(node, list):
        return [_plain(item, scalar_boolean) for item in node]
    if isinstance(node, scalar_boolean):
        return bool(node)
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    if isinstance(node, datetime):
        moment = node if node.tzinfo else node.replace(tzinfo=UTC)
        return format_timestamp(moment)
    if isinstance(node, date):
        return node.isoformat()
    return node


def line_of(tree: Any, location: Sequence[str | int]) -> int:
    """The 1-based line of the node at `location`, stopping at the deepest part that exists.

    For a mapping key the key's line is used (that is where an editor should point); a missing
    key resolves to its parent mapping's line.
    """
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    line = _start_line(tree)
    node = tree
    for part in location:
        if isinstance(node, CommentedMap):
            key = _find_key(node, part)
            if key is None:
                break
            line = node.lc.key(key)[0] + 1
            node = node[key]
        elif isinstance(node, CommentedSeq):
            index = _as_index(part)
            if index is None or not 0 <= index < len(node):
                break
            line = node.lc.item(index)[0] + 1
            node = node[index]
        else:
            break
    return line


def _start_line(node: Any) -> int:
    lc = getattr(node, "lc", None)
    line = getattr(lc, "line", None)
    return line + 1 if isinstance(line, int) else 1


def _find_key(node: CommentedMap, part: str | int) -> Any:
    if part in node:
        return part
    text = str(part)
    for key in node:
        if str(key) == text:
            return key
    return None


def _as_index(part: str | int) -> int | None:
    if isinstance(part, int):
        return part
    return int(part) if part.isdigit() else None


def pointer_segments(pointer: str) -> list[str]:
    """Split a JSON pointer (`/and/1/==/0`) into unescaped segments (RFC 6901: ~1 is '/', ~0 is '~')."""
    if not pointer or pointer == "/":
        return [] if not pointer else [""]
    return [part.replace("~1", "/").replace("~0", "~") for part in pointer.lstrip("/").split("/")]


def line_of_pointer(tree: Any, base: Sequence[str | int], pointer: str) -> int:
    """The line of a JSON-pointer location inside the node at `base` (e.g. a LogicError inside `when`)."""
    return line_of(tree, [*base, *pointer_segments(pointer)])


def text_start_line(document: YamlDocument, key: str) -> int:
    """The line where the text of `key` begins (the line after `key: |` for a block scalar)."""
    tree = document.tree
    try:
        value_line = int(tree.lc.value(key)[0]) + 1
    except (AttributeError, KeyError, TypeError):
        return document.line((key,))
    value = tree.get(key)
    style = getattr(value, "style", None) if not isinstance(value, str) else None
    is_block = type(value).__name__ in ("LiteralScalarString", "FoldedScalarString") or style in ("|", ">")
    return value_line + 1 if is_block else value_line
