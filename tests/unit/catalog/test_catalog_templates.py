"""Templates: sandboxed rendering from the facts, hostile constructs refused before they run."""

from __future__ import annotations

from typing import Any

import pytest

from touchpoints.catalog import Locales, Template, TemplateRenderError, render_template
from touchpoints.catalog.templates import lint_template_source, resolve_template_locale

FACTS: dict[str, Any] = {
    "customer": {"name": "Ana", "locale": "en"},
    "order": {"id": "A1001", "items": [{"name": "Mug"}, {"name": "Tea"}], "total": {"amount": 59.9}},
    "event": {"type": "ShipmentDelayed"},
    "now": "2026-03-01T10:00:00Z",
}


def _template(**parts: str) -> Template:
    return Template(
        name="t",
        locale="en",
        subject=parts.get("subject", "s"),
        body=parts.get("body", "b"),
        sms=parts.get("sms"),
    )


def test_render_template_fills_subject_body_and_sms_from_facts() -> None:
    # GIVEN a template reading customer and order facts, with a loop over the items
    template = _template(
        subject="Order {{ order.id }}",
        body="Hi {{ customer.name }}:{% for item in order.items %} {{ item.name }}{% endfor %}\n",
        sms="{{ order.id }}: {{ '%.2f' | format(order.total.amount) }}",
    )
    # WHEN it is rendered
    message = render_template(template, FACTS)
    # THEN every part is plain text built from the facts
    assert message.subject == "Order A1001"
    assert message.body == "Hi Ana: Mug Tea\n"
    assert message.sms == "A1001: 59.90"


def test_render_template_does_not_escape_html() -> None:
    # GIVEN a fact holding characters HTML would escape
    facts = {**FACTS, "customer": {"name": "Ann & <Bob>"}}
    # WHEN it is rendered into a plain-text body
    message = render_template(_template(body="{{ customer.name }}"), facts)
    # THEN it is left as written
    assert message.body == "Ann & <Bob>"


def test_render_template_refuses_a_missing_fact_instead_of_leaving_a_blank() -> None:
    # GIVEN a template reading a fact the data lacks
    # WHEN it is rendered
    with pytest.raises(TemplateRenderError) as caught:
        render_template(_template(body="Dear {{ customer.nickname }}"), FACTS)
    # THEN the error names the template and what is missing
    assert "template 't' (en)" in str(caught.value)
    assert "nickname" in str(caught.value)


def test_render_template_sandbox_blocks_private_attributes_at_run_time_too() -> None:
    # GIVEN a hostile template that escaped validation
    # WHEN it is rendered
    # THEN the sandbox refuses it
    with pytest.raises(TemplateRenderError):
        render_template(_template(body="{{ customer.__class__.__mro__ }}"), FACTS)


@pytest.mark.parametrize(
    ("source", "line", "message"),
    [
        ("Hi\n{{ customer.__class__ }}", 2, "access to '__class__' is not allowed"),
        ("{{ customer['__dict__'] }}", 1, "access to '__dict__' is not allowed"),
        ("{{ customer|attr('__init__') }}", 1, "access to '__init__' is not allowed"),
        ("{% for i in range(10**9) %}x{% endfor %}", 1, "range() needs literal numbers"),
        ("{% for i in range(1000) %}x{% endfor %}", 1, "range() needs literal numbers"),
        ("{% for c in customer.name * 99999 %}x{% endfor %}", 1, "multiplying by 99999"),
        ("{% for i in lipsum(9) %}x{% endfor %}", 1, "calling 'lipsum' is not allowed"),
        ("{% macro m() %}{{ m() }}{% endmacro %}", 1, "macros are not allowed"),
        ("\n\n{% include 'other' %}", 3, "cannot extend, include or import"),
        ("{% extends 'base' %}", 1, "cannot extend, include or import"),
        ("{% import 'x' as y %}", 1, "cannot extend, include or import"),
        ("{% for x in order.items recursive %}{{ loop(x) }}{% endfor %}", 1, "recursive loops"),
        ("{{ order[customer.name ~ 'x'] }}", 1, "computed keys"),
        ("{{ 2 ** 64 }}", 1, "'**' is not allowed"),
        ("Hi {{ customer.name }\n", 1, "template syntax error"),
        ("{{ a }}\n{% endif %}", 2, "template syntax error"),
    ],
)
def test_lint_refuses_hostile_or_broken_templates(source: str, line: int, message: str) -> None:
    # GIVEN a template text with a dangerous or broken construct
    # WHEN it is linted
    issues = lint_template_source(source)
    # THEN the construct is reported at its line
    assert any(issue.line == line and message in issue.message for issue in issues), issues


@pytest.mark.parametrize(
    "source",
    [
        "Hi {{ customer.name }}",
        "{% for item in order.items|sort(attribute='name') %}{{ item.name }}{% endfor %}",
        "{% for i in range(3) %}{{ i }}{% endfor %}",
        "{{ now[:10] }} {{ customer.name.upper() }}",
        "{% set greeting = 'Hi' %}{{ greeting }} {{ customer.name }}",
        "{% if customer.name is defined %}{{ customer.name }}{% endif %}",
    ],
)
def test_lint_accepts_ordinary_templates(source: str) -> None:
    # GIVEN an ordinary template
    # WHEN it is linted against a checker that knows customer, order and now
    seen: list[str] = []

    def check(path: str) -> str | None:
        seen.append(path)
        return None if path.split(".")[0] in {"customer", "order", "now"} else f"unknown {path}"

    issues = lint_template_source(source, check)
    # THEN nothing is reported, and local names (loop variables, set) are not checked as facts
    assert issues == []
    assert all(path.split(".")[0] in {"customer", "order", "now"} for path in seen)


def test_lint_reports_each_unknown_fact_with_the_checker_message() -> None:
    # GIVEN a template with a typo in a fact path, inside a method call and a slice
    source = "Hi {{ custmer.name }}\n{{ order.placd_at[:10] }} {{ customer.nme.title() }}"
    # WHEN it is linted with a checker that knows only customer.name and order.placed_at
    known = {"customer.name", "order.placed_at"}
    issues = lint_template_source(source, lambda path: None if path in known else f"no {path}")
    # THEN each wrong path is reported at its line, the method name stripped
    assert [(issue.line, issue.message) for issue in issues] == [
        (1, "no custmer.name"),
        (2, "no order.placd_at"),
        (2, "no customer.nme"),
    ]


def test_resolve_template_locale_follows_the_chain_to_the_default() -> None:
    # GIVEN a template in en and zh-Hant only
    templates = {("t", "en"): _template(), ("t", "zh-Hant"): _template()}
    locales = Locales()
    # WHEN locales are resolved
    # THEN the closest existing one is chosen, case-insensitively, and unknown ones fall back to en
    assert resolve_template_locale(templates, locales, "t", "zh-TW") == "zh-Hant"
    assert resolve_template_locale(templates, locales, "t", "zh-hant") == "zh-Hant"
    assert resolve_template_locale(templates, locales, "t", "zh-Hans") == "en"
    assert resolve_template_locale(templates, locales, "t", "en-GB") == "en"
    assert resolve_template_locale(templates, locales, "missing", "en") is None
