"""Differential test: touchpoints.logic must give json-logic-js 2.0.5's own answer on generated rules."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from touchpoints.logic import LogicError, compile

if TYPE_CHECKING:
    from conftest import JsonLogicJs

pytestmark = pytest.mark.node

KEYS = ["a", "b", "c", "0", "1", "x", "length"]
PATHS: list[Any] = [
    "a",
    "b",
    "a.b",
    "a.0",
    "b.1",
    "0",
    "1",
    "a.b.c",
    "",
    "x",
    "a.length",
    "b.a",
    0,
    1,
    None,
    "c.x",
]
TRICKY_STRINGS = [
    "",
    "0",
    "1",
    "3",
    "-1.5",
    " 2 ",
    "1e3",
    "0x10",
    "abc",
    "a",
    "b",
    "Infinity",
    "true",
    "null",
    "a.b",
    ",",
    "[object Object]",
    "10",
    "9",
    "-0",
    "  ",
    "é",
    "😀x",
    "1,2",
]
TRICKY_NUMBERS: list[Any] = [0, -1, 1, 2, 3, 10, 0.5, -2.5, 1e21, 1e-7, 3.14, 100, 2**53, 0.1, -0.0, 1.5e300]

numbers = st.one_of(
    st.integers(-1000, 1000),
    st.sampled_from(TRICKY_NUMBERS),
    st.floats(allow_nan=False, allow_infinity=False),
)
strings = st.one_of(st.sampled_from(TRICKY_STRINGS), st.text(max_size=6))
primitives = st.one_of(st.none(), st.booleans(), numbers, strings)
json_data = st.recursive(
    primitives,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=4),
    max_leaves=12,
)
# Objects in rules that are not operations (0 or 2+ keys) are returned as-is.
literal_objects = st.sampled_from([{}, {"a": 1, "b": 2}])


def _op(name: str, *args: Any) -> dict[str, Any]:
    return {name: list(args)}


def _extend(rule: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    two = st.tuples(rule, rule)
    number_side = st.tuples(rule, numbers)
    return st.one_of(
        st.builds(lambda p, d: {"var": [p, d]}, st.sampled_from(PATHS), rule),
        st.builds(lambda a: {"var": [a]}, rule),
        st.lists(rule, min_size=1, max_size=4).map(lambda xs: {"if": xs}),
        st.lists(rule, min_size=1, max_size=4).map(lambda xs: {"?:": xs}),
        st.lists(rule, min_size=1, max_size=3).map(lambda xs: {"and": xs}),
        st.lists(rule, min_size=1, max_size=3).map(lambda xs: {"or": xs}),
        st.builds(
            lambda op, ab: _op(op, *ab),
            st.sampled_from(["==", "===", "!=", "!==", ">", ">=", "<", "<="]),
            two,
        ),
        st.builds(
            lambda op, ab: _op(op, *ab),
            st.sampled_from(["==", "===", "!=", "!==", ">", ">=", "<", "<="]),
            number_side,
        ),
        st.builds(
            lambda op, ab: _op(op, ab[1], ab[0]), st.sampled_from(["==", "===", ">", "<", "<="]), number_side
        ),
        st.builds(lambda op, a, b, c: _op(op, a, b, c), st.sampled_from(["<", "<="]), rule, rule, rule),
        st.builds(lambda op, a, b, c: _op(op, a, b, c), st.sampled_from(["<", "<="]), numbers, rule, numbers),
        st.builds(lambda op, a: {op: [a]}, st.sampled_from(["!", "!!"]), rule),
        st.builds(
            lambda op, xs: {op: xs},
            st.sampled_from(["+", "max", "min", "cat", "merge"]),
            st.lists(rule, max_size=4),
        ),
        st.lists(rule, min_size=1, max_size=3).map(lambda xs: {"*": xs}),
        st.builds(lambda xs: {"-": xs}, st.lists(rule, min_size=1, max_size=2)),
        st.builds(lambda op, ab: _op(op, *ab), st.sampled_from(["/", "%", "in"]), two),
        st.builds(lambda a, xs: _op("in", a, xs), rule, st.lists(primitives, max_size=5)),
        st.builds(lambda a, xs: _op("in", a, xs), rule, st.lists(strings, min_size=1, max_size=5)),
        st.builds(lambda a, xs: _op("in", a, xs), rule, st.lists(numbers, min_size=1, max_size=5)),
        st.builds(lambda xs: {"substr": xs}, st.lists(rule, min_size=2, max_size=3)),
        st.builds(lambda s, a, b: _op("substr", s, a, b), rule, st.integers(-8, 8), st.integers(-8, 8)),
        st.builds(
            lambda op, a, b: _op(op, a, b),
            st.sampled_from(["map", "filter", "all", "none", "some"]),
            rule,
            rule,
        ),
        st.builds(lambda a, b: _op("reduce", a, b), rule, rule),
        st.builds(lambda a, b, c: _op("reduce", a, b, c), rule, rule, rule),
        st.builds(lambda xs: {"missing": xs}, st.lists(st.sampled_from(PATHS[:12]), max_size=3)),
        st.builds(lambda xs: {"missing": [xs]}, st.lists(st.sampled_from(PATHS[:12]), max_size=3)),
        st.builds(
            lambda n, xs: _op("missing_some", n, xs),
            st.integers(0, 3),
            st.lists(st.sampled_from(PATHS[:12]), max_size=3),
        ),
        st.builds(lambda n, xs: _op("missing_some", n, xs), rule, rule),
        st.lists(rule, max_size=3),
    )


leaves = st.one_of(
    primitives,
    literal_objects,
    st.sampled_from(PATHS).map(lambda p: {"var": p}),
    st.sampled_from(["current", "accumulator", "current.a"]).map(lambda p: {"var": p}),
)
rules = st.recursive(leaves, _extend, max_leaves=10)


def decode(value: Any) -> Any:
    """Undo the runner's tags for values JSON cannot carry."""
    if isinstance(value, dict):
        if set(value) == {"$js"}:
            return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf, "-0": -0.0}.get(
                value["$js"], ("$js", value["$js"])
            )
        return {key: decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decode(item) for item in value]
    return value


def js_same(ours: Any, theirs: Any) -> bool:
    """Equal as JavaScript values: 1 and 1.0 alike, NaN equals NaN, -0 differs from 0, true is not 1."""
    if isinstance(theirs, bool) or theirs is None or isinstance(theirs, str):
        return type(ours) is type(theirs) and ours == theirs
    if isinstance(theirs, int | float):
        if type(ours) not in (int, float):
            return False
        if theirs != theirs:
            return ours != ours
        if theirs == 0:
            return ours == 0 and math.copysign(1.0, ours) == math.copysign(1.0, theirs)
        return float(ours) == float(theirs)  # JavaScript has only doubles
    if isinstance(theirs, list):
        return isinstance(ours, list) and len(ours) == len(theirs) and all(map(js_same, ours, theirs))
    if isinstance(theirs, dict):
        return (
            isinstance(ours, dict)
            and ours.keys() == theirs.keys()
            and all(js_same(ours[k], theirs[k]) for k in theirs)
        )
    return False


def check_against_js(js: JsonLogicJs, rule: Any, data: Any) -> None:
    """One differential case: same value as json-logic-js, or a LogicError where it throws."""
    rule, data = json.loads(json.dumps(rule)), json.loads(json.dumps(data))  # exactly what node receives
    reply = js.apply(rule, data)
    compiled = compile(rule)
    if "error" in reply:
        with pytest.raises(LogicError):
            compiled(data)
        return
    expected = decode(reply["result"])
    ours = compiled(data)
    assert js_same(ours, expected), (
        f"rule={json.dumps(rule)} data={json.dumps(data)}: ours={ours!r} json-logic-js={expected!r}"
    )


@settings(
    max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(rule=rules, data=json_data)
# json-logic-js re-applies `missing_some`'s options as logic at every depth: a one-key object
# nested in an array of the data throws there ("Unrecognized operation a"), and must raise here.
@example(rule={"*": [{"missing_some": [None, {"var": ""}]}]}, data=[[], [{"a": None}]])
@example(rule={"missing": [{"var": ""}]}, data=[[[[{"a": 1}]]]])
def test_compiled_rules_agree_with_json_logic_js(jsonlogic_js: JsonLogicJs, rule: Any, data: Any) -> None:
    # GIVEN a generated rule and data, WHEN both implementations evaluate it, THEN they agree
    check_against_js(jsonlogic_js, rule, data)


def test_the_reference_runner_is_really_json_logic_js(jsonlogic_js: JsonLogicJs) -> None:
    # GIVEN a rule whose answer only JavaScript semantics give (string concatenation quirk of substr)
    # WHEN the runner evaluates it THEN the tagged NaN and the JS answers come back
    assert decode(jsonlogic_js.apply({"/": [0, 0]}, None)["result"]) != decode(
        jsonlogic_js.apply({"/": [0, 0]}, None)["result"]
    )
    assert jsonlogic_js.apply({"cat": [1.0, [1, 2], None]}, None)["result"] == "11,2"


# Rules and data aimed at the generated fast paths: objects all the way down (so the plain
# dict.get body runs, not the checked one), array operations over lists of objects with their
# per-element logic inlined into loops, reduce over `current`/`accumulator` locals, `in` with a
# literal string over a computed array, binary `+` around the safe-integer limit, `missing_some`
# with up to six keys. Anything else in the data (a string item, a null on the way) must give the
# same answer through the checked body.
SCOPED_OPS = ["map", "filter", "all", "none", "some"]
VARIADIC = {"+", "*", "max", "min", "cat", "if"}
MISSING_KEYS = ["a", "b", "a.b", "x", "items", "items.0", "c.x", "a.a"]
item_objects = st.dictionaries(st.sampled_from(KEYS), json_data, max_size=3)
fast_data = st.fixed_dictionaries(
    {"items": st.lists(item_objects | json_data, max_size=4) | st.lists(item_objects, max_size=4)},
    optional={"a": json_data, "b": json_data, "x": json_data},
)
near_limit = st.integers(-(2**53) - 3, -(2**53) + 3) | st.integers(2**53 - 3, 2**53 + 3) | st.integers(-5, 5)
fast_rules = st.one_of(
    st.builds(lambda op, body: {op: [{"var": "items"}, body]}, st.sampled_from(SCOPED_OPS), rules),
    st.builds(
        lambda op, body, inner: {op: [{"var": "items"}, {"and": [body, {inner: [{"var": "items"}, body]}]}]},
        st.sampled_from(SCOPED_OPS),
        rules,
        st.sampled_from(SCOPED_OPS),
    ),
    st.builds(
        lambda op, path, initial, extra: {
            "reduce": [
                {"var": "items"},
                {op: [{"var": "accumulator"}, {"var": path}, *(extra if op in VARIADIC else [])]},
                initial,
            ]
        },
        st.sampled_from(["+", "*", "-", "max", "min", "cat", "==", "if", "<"]),
        st.sampled_from(["current", "current.a", "current.b", "current.a.b", "accumulator", "current.0"]),
        primitives | near_limit,
        st.lists(st.sampled_from([{"var": "current.x"}, 1, "s"]), max_size=1),
    ),
    st.builds(
        lambda needle, haystack: {"in": [needle, haystack]},
        strings,
        st.sampled_from(
            [
                {"map": [{"var": "items"}, {"var": "a"}]},
                {"filter": [{"var": "items"}, {"var": "b"}]},
                {"var": "a"},
                {"var": "items"},
                {"var": "x"},
            ]
        ),
    ),
    st.builds(
        lambda left, right: {"+": [left, right]},
        near_limit | primitives | st.sampled_from([{"var": "a"}, {"var": "b"}, {"var": "x"}]),
        near_limit | primitives | st.sampled_from([{"var": "a"}, {"var": "b"}]),
    ),
    st.builds(
        lambda need, keys: {"missing_some": [need, keys]},
        st.integers(-1, 6) | numbers,
        st.lists(st.sampled_from(MISSING_KEYS), min_size=1, max_size=6),
    ),
)


@settings(
    max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(rule=fast_rules, data=fast_data)
def test_fast_paths_agree_with_json_logic_js(jsonlogic_js: JsonLogicJs, rule: Any, data: Any) -> None:
    # GIVEN a rule shaped for the generated fast paths and object data
    # WHEN both implementations evaluate it THEN they agree
    check_against_js(jsonlogic_js, rule, data)
