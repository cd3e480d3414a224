"""What the loaded catalog derives once for evaluation: rule order, the facts rules read, locales."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from touchpoints.catalog import (
    Catalog,
    CompiledRule,
    ContactPolicy,
    Rule,
    UnknownTemplateError,
    load_catalog,
    resolve_locale,
)
from touchpoints.logic import compile as compile_logic

REPO = Path(__file__).resolve().parents[3]


def rule(**fields: Any) -> Rule:
    data: dict[str, Any] = {
        "id": "r1",
        "description": "test rule",
        "on": "OrderPlaced",
        "then": [{"channel": "email", "template": "note"}],
    }
    data.update(fields)
    return Rule.model_validate(data)


def catalog_of(*rules: Rule) -> Catalog:
    compiled = {r.id: CompiledRule(r, compile_logic(r.when), Path(f"{r.id}.yaml"), 1) for r in rules}
    return Catalog(Path("rules"), compiled, ContactPolicy(), {}, "sha256:test")


def test_rules_are_indexed_by_priority_then_id() -> None:
    # GIVEN rules in file order
    catalog = catalog_of(rule(id="b", priority=5), rule(id="a", priority=5), rule(id="c", priority=9))
    # WHEN / THEN highest priority first, ties by id
    assert [r.id for r in catalog.rules_for("OrderPlaced")] == ["c", "a", "b"]


def test_a_rule_knows_the_facts_its_when_and_at_read() -> None:
    # GIVEN a rule reading two order flags at a timestamp fact, and one whose path is computed
    timed = rule(
        id="timed",
        on="PaymentSucceeded",
        at="order.promised_ship_by",
        when={"and": [{"var": "order.is_paid"}, {"!": {"var": "order.is_shipped"}}]},
    )
    computed = rule(id="computed", when={"var": {"cat": ["order.", "status"]}})
    catalog = catalog_of(timed, computed)
    # WHEN / THEN the first reads exactly those paths, the second may read anything
    compiled = catalog.rule("timed")
    assert compiled.reads == {"order.is_paid", "order.is_shipped", "order.promised_ship_by"}
    assert compiled.needs == {"order": frozenset({"is_paid", "is_shipped", "promised_ship_by"})}
    assert catalog.rule("computed").reads is None
    assert catalog.rule("computed").needs is None


def test_each_trigger_knows_what_its_enabled_rules_read_together() -> None:
    # GIVEN two OrderPlaced rules, a disabled one reading the customer, and a ReviewSubmitted rule
    catalog = catalog_of(
        rule(id="paid", when={"var": "order.is_paid"}),
        rule(id="rated", on=["OrderPlaced", "ReviewSubmitted"], when={">": [{"var": "event.rating"}, 3]}),
        rule(id="off", enabled=False, when={"var": "customer.tier"}),
        rule(id="everything", on="ShipmentDelayed", when={"var": ""}),
    )
    # WHEN / THEN a trigger's needs merge its enabled rules' needs; no rules: no facts
    assert catalog.needs_for("OrderPlaced") == {
        "order": frozenset({"is_paid"}),
        "event": frozenset({"rating"}),
    }
    assert catalog.needs_for("ReviewSubmitted") == {"event": frozenset({"rating"})}
    assert catalog.needs_for("ShipmentDelayed") is None
    assert catalog.needs_for("PaymentFailed") == {}


@pytest.mark.parametrize("wanted", ["zh-Hant", "zh-Hans", "zh-TW", "en-GB", "fr", "en", ""])
def test_the_locale_of_a_template_is_resolve_locale_memoised(wanted: str) -> None:
    # GIVEN the shipped catalog
    catalog = load_catalog(REPO / "rules", check_templates=False)
    for name in catalog.template_names:
        # WHEN the catalog is asked twice for a template's locale
        first = catalog.locale_for(name, wanted)
        # THEN it is resolve_locale's answer, both times, and the template is that locale's
        assert first == resolve_locale(catalog, name, wanted)
        assert catalog.locale_for(name, wanted) == first
        assert catalog.template(name, wanted).locale == first


def test_an_unknown_template_is_never_memoised() -> None:
    # GIVEN the shipped catalog  WHEN an unknown template is asked for, twice
    catalog = load_catalog(REPO / "rules", check_templates=False)
    for _ in range(2):
        # THEN it fails each time, with a suggestion
        with pytest.raises(UnknownTemplateError, match="did you mean 'order-confirmation'"):
            catalog.locale_for("order-confirmaton", "en")
