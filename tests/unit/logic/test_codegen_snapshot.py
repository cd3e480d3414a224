"""The generated Python for a fixed set of rules, held byte for byte against a snapshot.

The compiler's speed lives in the source it writes, so moving the generator's code between modules
must not change one character of it. The snapshot covers every vector rule, the benchmark workload,
the catalog's `when` conditions, hand-picked fast-path shapes and rules with a custom operator.
Regenerate it only when a change to the generated code is meant (and measured):
`.venv/bin/python tests/unit/logic/test_codegen_snapshot.py --write`.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import pytest

import touchpoints.logic as logic
from touchpoints.logic.codegen import generate_source
from touchpoints.logic.nodes import parse, to_json

HERE = Path(__file__).parent
SNAPSHOT = HERE / "codegen_snapshots.json"
REPO = HERE.parents[2]


def double(value: Any) -> Any:
    """A custom operator: rules using one get no fast body and call it through bind_custom."""
    return value * 2


REGISTRIES = {
    "default": logic.default_operators(),
    "custom": logic.default_operators().with_operator("double", double, min_args=1, max_args=1),
}

# Shapes the vectors cover thinly: the generator's inlined fast paths and their fallbacks.
HAND_PICKED: list[dict[str, Any]] = [
    {"missing": ["a", "b.c", 1, ""]},
    {"missing": [["a", "b"]]},
    {"missing": "a"},
    {"missing": [{"var": "k"}]},
    {"missing": [True, "a"]},
    {"missing": [[]]},
    {"missing_some": [1, [["a"], "b"]]},
    {"missing_some": [1, [True, "a"]]},
    {"missing_some": [1, ["a", "b"]]},
    {"missing_some": [2, ["a", "b", "c", "d", "e"]]},
    {"missing_some": [{"var": "n"}, ["a"]]},
    {"var": ["a.b", 0]},
    {"var": ["a.b", {"var": "c"}]},
    {"var": [{"cat": ["a", "b"]}]},
    {"reduce": [{"var": "xs"}, {"+": [{"var": "current.n"}, {"var": "accumulator"}]}, 0]},
    {"reduce": [{"var": "xs"}, {"+": [{"var": "current"}, {"var": "x"}]}, 0]},
    {"reduce": [{"var": "xs"}, {"map": [{"var": "current"}, {"var": ""}]}]},
    {"map": [{"var": "xs"}, {"filter": [{"var": "ys"}, {"some": [{"var": "z"}, {"var": ""}]}]}]},
    {"all": [{"var": "xs"}, {">": [{"var": ""}, 1]}]},
    {"none": [{"var": "xs"}, {"==": [{"var": ""}, "x"]}]},
    {"some": [{"var": "xs"}, {"log": {"var": ""}}]},
    {"in": [{"var": "a"}, ["x", "y"]]},
    {"in": [{"var": "a"}, [1, 2.5]]},
    {"in": [{"var": "a"}, [1, "x", None]]},
    {"in": [{"var": "a"}, [{"x": 1}]]},
    {"in": ["x", {"var": "list"}]},
    {"in": [{"var": "a"}, {"var": "b"}]},
    {"<": [1, {"var": "a"}, 3]},
    {"<=": [{"var": "a"}, {"var": "b"}, 3]},
    {">": [5, {"var": "a"}]},
    {">=": [{"var": "a"}, {"var": "b"}]},
    {"===": [{"var": "a"}, True]},
    {"===": [1, {"var": "a"}]},
    {"!==": [{"var": "a"}, "x"]},
    {"==": [{"var": "a"}, None]},
    {"==": [{"var": "a"}, [1]]},
    {"!=": [{"var": "a"}, {"var": "b"}]},
    {"+": [{"var": "a"}, {"var": "b"}]},
    {"+": [{"var": "a"}, 1, 2]},
    {"if": [{"var": "a"}, True, {"var": "b"}, False, True]},
    {"?:": [{"var": "a"}, "x", "y"]},
    {"or": [{"var": "a"}, {"!!": {"var": "b"}}, 0]},
    {"and": [{"!": {"var": "a"}}, {"!!": {"var": "b"}}]},
    {"hours_between": [{"var": "a"}, {"var": "b"}]},
    {"add_hours": [{"var": "a"}, 2]},
    {"log": "x"},
]
CUSTOM: list[dict[str, Any]] = [
    {"double": {"var": "a"}},
    {"and": [{">": [{"double": {"var": "a"}}, 4]}, {"==": [{"var": "b"}, "x"]}]},
    {"map": [{"var": "xs"}, {"double": {"var": ""}}]},
]


def describe(value: Any) -> Any:
    """A bound constant as stable JSON: functions and types by qualified name, sets sorted."""
    if isinstance(value, type):
        return f"type:{value.__qualname__}"
    if callable(value):
        return f"callable:{getattr(value, '__qualname__', type(value).__qualname__)}"
    if isinstance(value, frozenset | set):
        return ["frozenset", *sorted(json.dumps(describe(item)) for item in value)]
    if isinstance(value, tuple | list):
        return [type(value).__name__, *(describe(item) for item in value)]
    if isinstance(value, dict):
        return ["dict", *([describe(key), describe(item)] for key, item in value.items())]
    return f"{type(value).__name__}:{value!r}"


def snapshot_of(rule: Any, registry: str, *, digest_only: bool = False) -> dict[str, Any]:
    """The generated source and constants for one rule, as the fixture stores them.

    Vector rules are many and small, so they are kept as a SHA-256 of source and constants (just as
    strict, a tenth of the size); the others keep the text, so a change shows up in a diff.
    """
    # Equal constants share one bound name only when they are one object, so the rule is always
    # read from JSON text: the writer and the test then hand the generator the same objects.
    fresh = json.loads(json.dumps(rule))
    source, values = generate_source(parse(to_json(fresh), REGISTRIES[registry]))
    described = describe(values)
    if digest_only:
        text = json.dumps([source, described], ensure_ascii=False)
        return {"rule": rule, "registry": registry, "sha256": hashlib.sha256(text.encode()).hexdigest()}
    return {"rule": rule, "registry": registry, "source": source, "values": described}


def collect_rules() -> list[tuple[Any, str, bool]]:
    """(rule, registry, digest only) for every rule covered; used only to write the fixture."""
    from ruamel.yaml import YAML

    sys.path.insert(0, str(REPO / "bench" / "logic"))
    from workload import make_rules

    candidates: list[tuple[Any, str, bool]] = []
    for path in sorted((HERE / "vectors").glob("*.json")):
        vectors = json.loads(path.read_text())
        candidates.extend((vector["rule"], "default", True) for vector in vectors if "rule" in vector)
    candidates.extend((rule, "default", False) for rule in make_rules())
    yaml = YAML(typ="safe")
    for path in sorted((REPO / "rules").glob("*/*.yaml")):
        if path.parent.name in ("templates", "tests"):
            continue
        document = yaml.load(path.read_text())
        if isinstance(document, dict) and "when" in document:
            candidates.append((document["when"], "default", False))
    candidates.extend((rule, "default", False) for rule in HAND_PICKED)
    candidates.extend((rule, "custom", False) for rule in CUSTOM)
    seen: set[str] = set()
    chosen: list[tuple[Any, str, bool]] = []
    for rule, registry, digest_only in candidates:
        key = json.dumps([rule, registry], sort_keys=True)
        if key in seen:
            continue
        seen.add(key)
        try:
            parse(to_json(rule), REGISTRIES[registry])
        except logic.LogicError:
            continue  # rules that do not compile generate no code
        chosen.append((rule, registry, digest_only))
    return chosen


def load_snapshot() -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = json.loads(SNAPSHOT.read_text())
    return entries


@pytest.mark.parametrize("entry", load_snapshot(), ids=lambda entry: json.dumps(entry["rule"])[:80])
def test_generated_source_is_byte_identical_to_the_snapshot(entry: dict[str, Any]) -> None:
    # GIVEN a rule whose generated code was recorded
    # WHEN generating it again
    current = snapshot_of(entry["rule"], entry["registry"], digest_only="sha256" in entry)
    # THEN the source text and the bound constants are exactly the recorded ones
    assert current == entry


def test_the_snapshot_covers_the_fast_and_the_checked_bodies() -> None:
    # GIVEN the recorded snapshot
    entries = load_snapshot()
    sources = [entry["source"] for entry in entries if "source" in entry]
    # THEN it holds hundreds of rules, with and without a fast body and custom operators
    assert len(entries) > 300
    assert any(source.count("try:") == 2 for source in sources)
    assert any(source.count("try:") == 1 for source in sources)
    assert any(entry["registry"] == "custom" for entry in entries)


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        raise SystemExit("usage: test_codegen_snapshot.py --write   (rewrites the snapshot)")
    sys.path.insert(0, str(REPO / "functions"))
    snapshots = [snapshot_of(rule, registry, digest_only=d) for rule, registry, d in collect_rules()]
    SNAPSHOT.write_text(json.dumps(snapshots, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {len(snapshots)} snapshots to {SNAPSHOT}")
