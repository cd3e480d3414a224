"""Every JsonLogic vector file (one per operator family) run by one parametrised test."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

import touchpoints.logic as logic

VECTOR_DIR = Path(__file__).parent / "vectors"
FAMILIES = [
    "accessors",
    "logic",
    "equality",
    "comparison",
    "arithmetic",
    "arrays",
    "strings",
    "misc",
    "datetime",
    "errors",
]


def decode(value: Any) -> Any:
    """Vector files spell values JSON cannot carry as {"$js": "NaN" | "Infinity" | "-Infinity" | "-0"}."""
    if isinstance(value, dict):
        if set(value) == {"$js"}:
            return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf, "-0": -0.0}[value["$js"]]
        return {key: decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decode(item) for item in value]
    return value


def js_same(ours: Any, expected: Any) -> bool:
    """Equal as JavaScript values: 1 and 1.0 alike, NaN equals NaN, -0 is not 0, true is not 1."""
    if isinstance(expected, bool) or expected is None or isinstance(expected, str):
        return type(ours) is type(expected) and ours == expected
    if isinstance(expected, int | float):
        if type(ours) not in (int, float):
            return False
        if expected != expected:
            return ours != ours
        if expected == 0:
            return ours == 0 and math.copysign(1.0, ours) == math.copysign(1.0, expected)
        return float(ours) == float(expected)
    if isinstance(expected, list):
        return isinstance(ours, list) and len(ours) == len(expected) and all(map(js_same, ours, expected))
    if isinstance(expected, dict):
        return (
            isinstance(ours, dict)
            and ours.keys() == expected.keys()
            and all(js_same(ours[key], expected[key]) for key in expected)
        )
    return False


def _load() -> list[Any]:
    cases = []
    for family in FAMILIES:
        vectors = json.loads((VECTOR_DIR / f"{family}.json").read_text(encoding="utf-8"))
        for index, vector in enumerate(vectors):
            cases.append(pytest.param(vector, id=f"{family}[{index}] {vector['description']}"))
    return cases


def test_every_family_has_a_vector_file() -> None:
    # GIVEN the families the issue asks for, WHEN listing vector files, THEN each exists and is non-empty
    present = sorted(path.stem for path in VECTOR_DIR.glob("*.json"))
    assert present == sorted(FAMILIES)
    assert all(json.loads((VECTOR_DIR / f"{family}.json").read_text()) for family in FAMILIES)


@pytest.mark.parametrize("vector", _load())
def test_vector(vector: dict[str, Any]) -> None:
    # GIVEN a vector
    rule, data = vector["rule"], vector.get("data")
    if "error" in vector:
        error_type = getattr(logic, vector["error"])
        # WHEN compiling (or, for evaluation errors, running) it THEN the named error is raised at its pointer
        with pytest.raises(error_type) as caught:
            logic.compile(rule)(data)
        assert isinstance(caught.value, logic.LogicError)
        assert caught.value.pointer == vector["pointer"]
        return
    expected = decode(vector["result"])
    # WHEN the compiled rule and the explain interpreter evaluate it
    compiled_value = logic.compile(rule)(data)
    explained_value = logic.explain(rule, data).value
    # THEN both give json-logic-js's answer
    assert js_same(compiled_value, expected), f"compiled: {compiled_value!r} != {expected!r}"
    assert js_same(explained_value, expected), f"explain: {explained_value!r} != {expected!r}"
