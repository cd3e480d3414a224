"""The touchpoints.logic API around evaluation: explain, variables, pointers, registry, generated code."""

from __future__ import annotations

import json
from typing import Any

import pytest

import touchpoints.logic as logic
from touchpoints.errors import TouchpointsError
from touchpoints.logic import (
    ArityError,
    EvaluationError,
    InvalidRuleError,
    LogicError,
    OperatorRegistryError,
    UnknownOperatorError,
    VarRef,
    compile,
    default_operators,
    evaluate,
    explain,
    truthy,
    variable_references,
    variables,
)

ORDER_RULE: dict[str, Any] = {
    "and": [
        {"==": [{"var": "order.status"}, "paid"]},
        {">": [{"var": "order.total"}, 100]},
    ]
}


def test_public_api_is_exported() -> None:
    # GIVEN the package WHEN reading __all__ THEN the issue's names are all there
    for name in (
        "compile",
        "evaluate",
        "truthy",
        "explain",
        "variables",
        "variable_references",
        "default_operators",
        "LogicError",
        "UnknownOperatorError",
        "ArityError",
        "CompiledLogic",
    ):
        assert name in logic.__all__


def test_errors_derive_from_touchpoints_error() -> None:
    # GIVEN every logic error class THEN each is a LogicError and a TouchpointsError
    for error in (UnknownOperatorError, ArityError, InvalidRuleError, EvaluationError, OperatorRegistryError):
        assert issubclass(error, LogicError)
        assert issubclass(error, TouchpointsError)


@pytest.mark.parametrize(
    ("value", "expected"),
    [([], False), ({}, True), ("0", True), (0, False), (float("nan"), False), (None, False), ([0], True)],
)
def test_truthy_is_jsonlogic_truthiness(value: Any, expected: bool) -> None:
    # GIVEN a value WHEN asking truthy THEN JsonLogic's answer (empty array false, {} true, NaN false)
    assert truthy(value) is expected


def test_explain_prints_an_indented_tree_with_values() -> None:
    # GIVEN a rule and data where the first test passes
    data = {"order": {"status": "paid", "total": 80}}
    # WHEN explaining
    trace = explain(ORDER_RULE, data)
    # THEN every node is shown with its value, indented by depth
    assert trace.value is False
    assert str(trace).splitlines() == [
        "and -> false",
        "  == -> true",
        '    var order.status -> "paid"',
        '    "paid"',
        "  > -> false",
        "    var order.total -> 80",
        "    100",
    ]


def test_explain_marks_nodes_skipped_by_short_circuit() -> None:
    # GIVEN data that fails the first test of an `and`
    trace = explain(ORDER_RULE, {"order": {"status": "new", "total": 500}})
    # WHEN printing THEN the second test is shown as not evaluated
    lines = str(trace).splitlines()
    assert lines[0] == "and -> false"
    assert "  > (not evaluated)" in lines
    assert "    var order.total (not evaluated)" in lines


def test_explain_to_dict_is_json() -> None:
    # GIVEN an explained rule WHEN converting to a dict THEN it is JSON with pointers and values
    tree = explain(ORDER_RULE, {"order": {"status": "paid", "total": 150}}).to_dict()
    json.dumps(tree)
    assert tree["op"] == "and"
    assert tree["value"] is True
    assert tree["children"][1]["pointer"] == "/and/1"
    assert tree["children"][1]["children"][0] == {
        "op": "var",
        "label": "var order.total",
        "pointer": "/and/1/>/0",
        "evaluated": True,
        "value": 150,
        "children": [],
    }


def test_explain_of_if_shows_the_branch_taken() -> None:
    # GIVEN an if/else WHEN explaining with a false condition THEN the then-branch is skipped
    text = str(explain({"if": [{"var": "vip"}, "gold", "standard"]}, {"vip": False}))
    assert text.splitlines() == [
        'if -> "standard"',
        "  var vip -> false",
        '  "gold" (not evaluated)',
        '  "standard"',
    ]


def test_variables_lists_literal_paths() -> None:
    # GIVEN a rule reading several paths, one inside a `some` (relative to each item)
    rule = {
        "or": [
            {"var": "order.total"},
            {"missing": ["customer.email"]},
            {"some": [{"var": "order.items"}, {">": [{"var": "price"}, 10]}]},
            {"var": ""},
        ]
    }
    # WHEN listing variables THEN the data paths are reported, the per-item path is not
    assert variables(rule) == {"order.total", "customer.email", "order.items", ""}


def test_variable_references_carry_json_pointers() -> None:
    # GIVEN a nested rule WHEN listing references THEN each has the pointer of its `var` node
    rule = {"and": [{"==": [{"var": "order.status"}, "paid"]}, {"!": {"var": ["customer.opted_out", False]}}]}
    assert variable_references(rule) == [
        VarRef("order.status", "/and/0/==/0"),
        VarRef("customer.opted_out", "/and/1/!"),
    ]


def test_dynamic_var_paths_are_not_listed() -> None:
    # GIVEN a var whose path is computed WHEN listing variables THEN only the literal inner path appears
    assert variables({"var": {"cat": ["order.", {"var": "field"}]}}) == {"field"}


def test_unknown_operator_suggests_a_close_name() -> None:
    # GIVEN a typo in an operator WHEN compiling THEN the error names it, suggests the fix and points at it
    with pytest.raises(UnknownOperatorError) as caught:
        compile({"and": [{"==": [1, 1]}, {"mising": ["a"]}]})
    assert caught.value.pointer == "/and/1/mising"
    assert "'mising'" in str(caught.value)
    assert "did you mean 'missing'" in str(caught.value)
    assert "/and/1/mising" in str(caught.value)


def test_arity_error_says_what_was_expected() -> None:
    # GIVEN `<` with four arguments WHEN compiling THEN the message states the arity table entry
    with pytest.raises(ArityError, match=r"'<' takes 2-3 arguments, got 4"):
        compile({"<": [1, 2, 3, 4]})


def test_yaml_dates_are_rejected_with_a_pointer() -> None:
    # GIVEN a rule holding a Python date (an unquoted YAML timestamp) WHEN compiling THEN InvalidRuleError
    import datetime

    with pytest.raises(InvalidRuleError) as caught:
        compile({"before": [{"var": "now"}, datetime.date(2026, 3, 1)]})
    assert caught.value.pointer == "/before/1"
    assert "quote timestamps" in str(caught.value)


def test_custom_operator_is_added_to_a_new_registry_only() -> None:
    # GIVEN the default registry and one extended with `starts_with`
    base = default_operators()
    extended = base.with_operator(
        "starts_with", lambda s, p: isinstance(s, str) and s.startswith(p), min_args=2, max_args=2
    )
    rule = {"starts_with": [{"var": "sku"}, "GIFT-"]}
    # WHEN compiling with each
    # THEN the extended one evaluates it and the default one still does not know it
    assert compile(rule, operators=extended)({"sku": "GIFT-42"}) is True
    assert "starts_with" not in base
    with pytest.raises(UnknownOperatorError):
        compile(rule)
    with pytest.raises(ArityError):
        compile({"starts_with": ["x"]}, operators=extended)


def test_registry_is_immutable() -> None:
    # GIVEN the default registry WHEN trying to mutate it THEN it refuses
    registry = default_operators()
    with pytest.raises(TypeError):
        registry["x"] = registry["=="]  # type: ignore[index]
    with pytest.raises(OperatorRegistryError):
        registry.with_operator("and", lambda *a: True)
    with pytest.raises(OperatorRegistryError):
        registry.with_operator("", lambda *a: True)
    with pytest.raises(OperatorRegistryError):
        registry.with_operator("x", lambda *a: True, min_args=3, max_args=1)
    assert "method" not in registry


def test_replacing_a_builtin_operator_uses_the_replacement() -> None:
    # GIVEN a registry with a case-insensitive `in` WHEN evaluating THEN it runs instead of the fast path
    ci = default_operators().with_operator(
        "in", lambda a, b: str(a).lower() in [str(x).lower() for x in b], min_args=2, max_args=2
    )
    assert compile({"in": [{"var": "tier"}, ["GOLD"]]}, operators=ci)({"tier": "gold"}) is True
    assert compile({"in": [{"var": "tier"}, ["GOLD"]]})({"tier": "gold"}) is False


def test_failing_custom_operator_raises_evaluation_error_with_pointer() -> None:
    # GIVEN a custom operator that raises WHEN evaluating THEN EvaluationError names it and its node
    registry = default_operators().with_operator("boom", lambda x: 1 / 0, min_args=1, max_args=1)
    compiled = compile({"or": [False, {"boom": [1]}]}, operators=registry)
    with pytest.raises(EvaluationError) as caught:
        compiled({})
    assert caught.value.pointer == "/or/1"
    assert "'boom' failed: ZeroDivisionError" in str(caught.value)


def test_generated_source_holds_no_rule_constants() -> None:
    # GIVEN a rule with strings and numbers that look like code
    rule = {"and": [{"==": [{"var": "a"}, "__import__('os')"]}, {">": [{"var": "b"}, 12345]}]}
    # WHEN compiling THEN the constants are bound values, never source text
    compiled = compile(rule)
    assert compiled.source is not None
    assert "__import__" not in compiled.source
    assert "12345" not in compiled.source
    assert compiled({"a": "__import__('os')", "b": 20000}) is True


def test_very_deep_rules_fall_back_to_the_interpreter() -> None:
    # GIVEN a rule nested deeper than Python's parser allows in one expression
    rule: Any = {"var": "x"}
    for _ in range(110):
        rule = {"!": {"!": rule}}
    # WHEN compiling THEN it still evaluates correctly (interpreter fallback)
    compiled = compile(rule)
    assert compiled.source is None
    assert compiled({"x": 5}) is True


def test_compiled_rule_is_reusable_and_isolated_from_the_input_rule() -> None:
    # GIVEN a compiled rule WHEN the caller mutates the original dict THEN the compiled rule is unaffected
    rule = {"==": [{"var": "a"}, 1]}
    compiled = compile(rule)
    rule["=="][1] = 2
    assert compiled({"a": 1}) is True
    assert compiled({"a": 2}) is False


def test_evaluate_matches_compile() -> None:
    # GIVEN a rule WHEN evaluating directly and through compile THEN the answers agree
    data = {"order": {"status": "paid", "total": 150}}
    assert evaluate(ORDER_RULE, data) is compile(ORDER_RULE)(data) is True


def test_date_operators_read_time_only_from_data() -> None:
    # GIVEN the same rule and two different `now` facts WHEN evaluating THEN the answer follows the data
    rule = {">=": [{"hours_between": [{"var": "placed_at"}, {"var": "now"}]}, 48]}
    assert evaluate(rule, {"placed_at": "2026-03-01T00:00:00Z", "now": "2026-03-03T00:00:00Z"}) is True
    assert evaluate(rule, {"placed_at": "2026-03-01T00:00:00Z", "now": "2026-03-02T23:59:59Z"}) is False


def test_documented_arity_table_matches_the_registry(repo_root: Any) -> None:
    # GIVEN the arity table in the JsonLogic reference
    text = (repo_root / "docs" / "jsonlogic.md").read_text(encoding="utf-8")
    table = text.split("## Operators and arity", 1)[1].split("\n## ", 1)[0]
    documented: dict[str, str] = {}
    for line in table.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0].startswith("`"):
            for name in cells[0].split(","):
                documented[name.strip().strip("`")] = cells[1]
    # WHEN comparing with the default registry THEN every operator is documented with its real arity
    registry = default_operators()
    assert documented == {name: spec.arity_text() for name, spec in registry.items()}


def test_explain_of_some_shows_each_item_until_the_first_match() -> None:
    # GIVEN a `some` over three items, the second of which matches
    rule = {"some": [{"var": "items"}, {">": [{"var": "price"}, 100]}]}
    trace = explain(rule, {"items": [{"price": 5}, {"price": 150}, {"price": 1}]})
    # WHEN printing THEN the per-item logic appears once per evaluated item, and stops at the match
    lines = str(trace).splitlines()
    assert lines[0] == "some -> true"
    assert lines.count("  > -> false") == 1
    assert lines.count("  > -> true") == 1
    assert "    var price -> 1" not in lines


def test_fast_path_and_checked_path_agree_when_paths_cross_null_lists_and_strings() -> None:
    # GIVEN one rule and data shapes that make the dict.get fast path fall back to the checked path
    rule = {"cat": [{"var": "a.b"}, "|", {"var": ["a.0", "d"]}, "|", {"var": "a.length"}]}
    compiled = compile(rule)
    # WHEN evaluating on an object, null, an array and a string THEN the JavaScript answers come back
    assert compiled({"a": {"b": "x", "0": "y", "length": 2}}) == "x|y|2"
    assert compiled({"a": None}) == "|d|"
    assert compiled({"a": ["p", "q"]}) == "|p|2"
    assert compiled({"a": "str"}) == "|s|3"


def test_rules_loaded_by_ruamel_yaml_compile_as_plain_json() -> None:
    # GIVEN a condition as ruamel.yaml's round-trip loader gives it (CommentedMap, ScalarFloat, HexInt)
    from ruamel.yaml import YAML

    when = YAML().load(
        'and:\n  - ">=": [{var: order.total}, 49.5]\n  - in: [{var: code}, [0x10, 1_000]]\n'
        '  - "==": [{var: tier}, gold]\n'
    )
    # WHEN compiling THEN the YAML scalar types behave as the JSON values they spell
    compiled = compile(when)
    assert compiled({"order": {"total": 50}, "code": 16, "tier": "gold"}) is True
    assert compiled({"order": {"total": 49}, "code": 16, "tier": "gold"}) is False
    assert variable_references(when)[0] == VarRef("order.total", "/and/0/>=/0")


def test_compiled_logic_is_the_generated_function_with_its_attributes() -> None:
    # GIVEN a compiled rule
    rule = {"==": [{"var": "a"}, 1]}
    compiled = compile(rule)
    # WHEN inspecting it THEN it is a CompiledLogic carrying the rule, its source and explain
    assert isinstance(compiled, logic.CompiledLogic)
    assert compiled.function is compiled
    assert compiled.rule == rule
    assert compiled.source is not None
    assert compiled.explain({"a": 1}).value is True
    assert compiled() is False  # no data: `var` reads null
