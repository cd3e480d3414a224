"""Templates may read only the `event.*` facts of the rules that send them, unless the read is guarded."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from touchpoints.catalog import validate_catalog
from touchpoints.catalog.templates import FactRead, analyse_template_source

# -- the linter: which reads a guard protects -----------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "{% if event.rating is defined %}{{ event.rating }}{% endif %}",
        "{% if event.rating is defined and event.rating %}{{ event.rating }} stars{% endif %}",
        "{% if event.rating is defined and event.rating <= 2 %}sorry{% endif %}",
        "{% if event.kind is not defined %}x{% else %}{{ event.kind }}{% endif %}",
        "{% if event.kind is undefined %}x{% elif event.kind == 'lost' %}lost{% endif %}",
        "{% if not (event.kind is defined) %}x{% else %}{{ event.kind }}{% endif %}",
        "{% if event.a is defined and event.b is defined %}{{ event.a }}{{ event.b }}{% endif %}",
        "{% if event.amount is defined %}{{ event.amount.currency }}{% endif %}",
        "{{ event.rating if event.rating is defined else 'no' }} stars",
        "{{ 'no' if event.rating is not defined else event.rating }}",
        "{{ event.rating is defined and event.rating }}",
        "{{ event.rating is undefined or event.rating > 2 }}",
        "{{ event.rating | default('') }} {{ event.title | d('untitled') }}",
        "{% if event.rating is defined %}{% for i in range(2) %}{{ event.rating }}{% endfor %}{% endif %}",
        "{% if 'rating' in event %}{{ event.rating }}{% endif %}",
        "{% if 'rating' not in event %}none{% else %}{{ event['rating'] }}{% endif %}",
    ],
)
def test_guarded_reads_are_not_listed(source: str) -> None:
    # GIVEN a template that reads an optional fact only behind an `is defined` test or a default
    # WHEN it is analysed
    lint = analyse_template_source(source)
    # THEN no read is left unguarded (and nothing is wrong with it)
    assert lint.issues == ()
    assert [read for read in lint.unguarded_reads if read.path.startswith("event.")] == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("Thanks for {{ event.rating }} stars", [FactRead(1, "event.rating", printed=True)]),
        # an `or` does not prove either side; the other branch of a guard is not guarded
        (
            "{% if event.a is defined or event.b is defined %}{{ event.a }}{% endif %}",
            [FactRead(1, "event.a", printed=True)],
        ),
        (
            "{% if event.kind is defined %}x{% else %}{{ event.kind }}{% endif %}",
            [FactRead(1, "event.kind", printed=True)],
        ),
        # the guard is on another fact, or on a longer path than the one read
        (
            "{% if event.title is defined %}{{ event.rating }}{% endif %}",
            [FactRead(1, "event.rating", printed=True)],
        ),
        (
            "{% if event.amount.currency is defined %}{{ event.amount }}{% endif %}",
            [FactRead(1, "event.amount"), FactRead(1, "event.amount", printed=True)],
        ),
        # truthiness fails on a missing fact (StrictUndefined), it is no guard; but it proves a
        # fact that is there is not null, so the print is safe from "None"
        (
            "{% if event.rating %}\n{{ event.rating }}{% endif %}",
            [FactRead(1, "event.rating"), FactRead(2, "event.rating")],
        ),
        (
            "{% if event.rating is not none %}{{ event.rating }}{% endif %}",
            [FactRead(1, "event.rating")],
        ),
        # `is defined` and `default` on a nested path still need its parent
        ("{{ event.amount.currency | default('') }}", [FactRead(1, "event.amount")]),
        ("{% if event.amount.currency is defined %}x{% endif %}", [FactRead(1, "event.amount")]),
        # after the guarded block, the guard no longer holds
        (
            "{% if event.rating is defined %}{{ event.rating }}{% endif %}\n{{ event.rating }}",
            [FactRead(2, "event.rating", printed=True)],
        ),
    ],
)
def test_unguarded_reads_are_listed_at_their_line(source: str, expected: list[FactRead]) -> None:
    # GIVEN a template that reads a fact without a guard that protects that read
    # WHEN it is analysed
    lint = analyse_template_source(source)
    # THEN the read is listed, with its line
    assert list(lint.unguarded_reads) == expected


def test_analysis_keeps_reporting_lint_issues() -> None:
    # GIVEN a template with a hostile construct and an unguarded read
    lint = analyse_template_source("{{ event.rating }}\n{{ customer.__class__ }}")
    # THEN the issue is reported as by the linter, and the read is listed
    assert [(issue.line, "private" in issue.message) for issue in lint.issues] == [(2, True)]
    assert FactRead(1, "event.rating", printed=True) in lint.unguarded_reads


# -- validate: each rule against the templates it uses -------------------------------------------

SHARED_TEMPLATE = (
    'subject: "About your order {{ order.id }}"\n'
    "body: |\n"
    "  {% if customer.name %}Hi {{ customer.name }},{% endif %}\n"
    "\n"
    "  {{ event.rating }} stars.\n"
    "  {% if event.title is defined %}You wrote {{ event.title }}.{% endif %}\n"
)


def _add_rule(rules: Path, name: str, trigger: str, template: str, *, enabled: bool = True) -> None:
    (rules / "reviews" / f"{name}.yaml").write_text(
        f"id: {name}\ndescription: x\non: {trigger}\n"
        f"then: [{{channel: email, template: {template}}}]\nenabled: {str(enabled).lower()}\n",
        encoding="utf-8",
    )


def _add_template(rules: Path, name: str, text: str) -> None:
    folder = rules / "templates" / name
    folder.mkdir()
    for locale in ("en", "zh-Hant"):
        (folder / f"{locale}.yaml").write_text(text, encoding="utf-8")


def test_a_shared_template_is_checked_against_each_rule_that_uses_it(
    make_rules: Callable[[str | None], Path],
) -> None:
    # GIVEN a template reading `event.rating` unguarded (and `event.title` guarded), used by a
    # ReviewSubmitted rule, which carries it, and by a disabled ShipmentDelivered rule, which does not
    rules = make_rules(None)
    _add_template(rules, "shared", SHARED_TEMPLATE)
    _add_rule(rules, "rating-thanks", "ReviewSubmitted", "shared")
    _add_rule(rules, "delivered-note", "[ShipmentDelivered, ShipmentDispatched]", "shared", enabled=False)
    # WHEN the catalog is validated
    problems = validate_catalog(rules)
    # THEN the read is reported in every locale, at its line, for the rule whose triggers lack it
    assert [str(problem) for problem in problems] == [
        f"rules/templates/shared/{locale}.yaml:5: body: 'event.rating' is not carried by "
        "ShipmentDelivered or ShipmentDispatched events (rule delivered-note uses this template); "
        "guard it with {% if event.rating is defined %} or use a fact every trigger has"
        for locale in ("en", "zh-Hant")
    ]


def test_a_guarded_read_passes_for_every_rule(make_rules: Callable[[str | None], Path]) -> None:
    # GIVEN the same shared template with the rating guarded too
    rules = make_rules(None)
    guarded = SHARED_TEMPLATE.replace(
        "{{ event.rating }} stars.", "{% if event.rating is defined %}{{ event.rating }} stars.{% endif %}"
    )
    _add_template(rules, "shared", guarded)
    _add_rule(rules, "rating-thanks", "ReviewSubmitted", "shared")
    _add_rule(rules, "delivered-note", "ShipmentDelivered", "shared")
    # WHEN / THEN the catalog validates
    assert validate_catalog(rules) == []


def test_a_rule_with_a_misspelt_trigger_is_not_also_blamed_on_its_template(
    make_rules: Callable[[str | None], Path],
) -> None:
    # GIVEN a rule whose only trigger is misspelt, using a template that reads event.rating
    rules = make_rules(None)
    _add_rule(rules, "rating-thanks", "ReviewSubmited", "review-apology")
    # WHEN it is validated
    problems = validate_catalog(rules)
    # THEN only the trigger is reported (the rule's events are unknown, so is what they carry)
    assert [(p.path, "ReviewSubmitted" in p.message) for p in problems] == [
        ("rules/reviews/rating-thanks.yaml", True)
    ]
