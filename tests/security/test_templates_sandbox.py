"""Hostile templates are refused twice: by `touchpoints validate` (file:line) and by the render sandbox."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

HOSTILE = Path(__file__).resolve().parents[1] / "fixtures" / "hostile-templates"

# template -> (line of the hostile construct in its en.yaml, a fragment of the expected problem)
EXPECTED = {
    "class-escape": (4, "access to '__class__' is not allowed"),
    "attr-filter": (4, "access to '__class__' is not allowed"),
    "billion-range": (4, "range() needs literal numbers"),
    "data-range": (4, "range() needs literal numbers"),
    "recursive-macro": (4, "macros are not allowed"),
    "string-bomb": (4, "multiplying by 1000000000 in all is not allowed"),
    # the five bombs of issue 12: each factor, width or step small enough alone, the whole not
    "repeat-chain": (4, "multiplying by 100000000 in all is not allowed (at most 100)"),
    "center-bomb": (4, "center(100000000) is wider than a message may be"),
    "format-width": (4, "format() width 100000000 is wider than a message may be"),
    "replace-chain": (4, "chained replace() can make the text 100000000 times longer"),
    "nested-loops": (6, "these nested loops run up to 1000000 times (at most 10000 in all)"),
}


def _template_source(name: str) -> dict[str, Any]:
    from ruamel.yaml import YAML

    data: dict[str, Any] = YAML(typ="safe", pure=True).load(
        (HOSTILE / "templates" / name / "en.yaml").read_text()
    )
    return data


@pytest.fixture(scope="module")
def validate_result() -> tuple[int, dict[str, Any]]:
    """`touchpoints validate tests/fixtures/hostile-templates --json`, run once."""
    from touchpoints.cli.main import cli

    result = CliRunner().invoke(cli, ["validate", str(HOSTILE), "--json"])
    return result.exit_code, json.loads(result.output)


def test_validate_fails_on_the_hostile_catalog(validate_result: tuple[int, dict[str, Any]]) -> None:
    # GIVEN the fixture catalog of hostile templates WHEN it is validated
    exit_code, report = validate_result
    # THEN the command fails, and the harmless control template is not among the problems
    assert exit_code == 1
    assert report["ok"] is False
    assert not [p for p in report["problems"] if "safe-note" in p["path"]]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_hostile_template_is_reported_at_its_file_and_line(
    validate_result: tuple[int, dict[str, Any]], name: str
) -> None:
    # GIVEN one hostile template of the fixture catalog
    line, fragment = EXPECTED[name]
    _, report = validate_result
    # WHEN its problems are picked from the validate report
    mine = [p for p in report["problems"] if Path(p["path"]).parts[-2:] == (name, "en.yaml")]
    # THEN it is refused at the line of the construct, with a message saying what is not allowed
    assert mine, f"{name} passed validation"
    assert any(p["line"] == line and fragment in p["message"] for p in mine), mine


def test_validate_prints_file_colon_line_for_people() -> None:
    # GIVEN the hostile catalog WHEN validated without --json
    from touchpoints.cli.main import cli

    result = CliRunner().invoke(cli, ["validate", str(HOSTILE)])
    # THEN each problem reads `path:line: message`, and no traceback is shown
    assert result.exit_code == 1
    assert "templates/class-escape/en.yaml:4: body: access to '__class__'" in result.output.replace("\\", "/")
    assert "Traceback" not in result.output


FACTS = {
    "customer": {"name": "Ann", "email": "ann@example.com"},
    "order": {"id": "A1", "payment_failures": 10**9},
    "event": {"order_id": "A1"},
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_render_sandbox_refuses_what_validate_would_have_caught(name: str) -> None:
    import tracemalloc

    # GIVEN a hostile template that reached render time anyway (validate skipped)
    from touchpoints.catalog.templates import Template, TemplateRenderError, render_template

    template = Template(name=name, locale="en", **_template_source(name))
    # WHEN it is rendered with facts that would make it run away
    tracemalloc.start()
    try:
        # THEN the sandbox refuses with our error (dispatch records `failed`), not a hang or a crash
        with pytest.raises(TemplateRenderError, match="blocked operation"):
            render_template(template, FACTS)
        # ... and before the bomb was built: the render never held more than a few megabytes
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8_000_000


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ customer.name.__init__.__globals__ }}",
        "{{ 9**9**9 }}",
        "{{ 'x' * 1000000000 }}",
        "{% for i in range(order.payment_failures) %}x{% endfor %}",
        # string amplification by every door the budget watches
        '{{ "x" * 100 * 100 * 100 * 100 }}',
        '{{ ["x"] * 1000 * 1000 }}',
        '{{ "x" | center(100000000) }}',
        '{{ "x".ljust(100000000) }}',
        '{{ "x".zfill(100000000) }}',
        '{{ "{:>100000000}".format("x") }}',
        '{{ "{:>{w}}".format("x", w=100000000) }}',
        '{{ "%100000000s" % "x" }}',
        '{{ "%*s" % (100000000, "x") }}',
        '{{ "%100000000s" | format("x") }}',
        '{{ "x" | indent(100000000, true) }}',
        '{{ ("ab " * 10000) | wordwrap(1, wrapstring="x" * 100) }}',
        '{{ ("x" * 100).replace("x", "x" * 100).replace("x", "x" * 100) }}',
        '{{ ("x" * 100) | replace("x", "x" * 100) | replace("x", "x" * 100) }}',
        '{{ range(10000) | join("-" * 90) }}',
        '{{ "-".join(range(10000) | map("string") | list) * 3 }}',
        '{% set ns = namespace(s="x" * 100) %}'
        "{% for i in range(20) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
        '{% set ns = namespace(s="x" * 100) %}'
        "{% for i in range(20) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
        "{{ ([[1] * 100] * 1000) | sum(start=[]) }}",
        "{{ lipsum(1000000) }}",
        "{% for a in range(100) %}{% for b in range(100) %}{% for c in range(2) %}."
        "{% endfor %}{% endfor %}{% endfor %}",
        "{% for a in range(10001) %}{% endfor %}",
        "{% for i in range(100) %}{{ 'x' * 1000 }}{% endfor %}"
        "{% for i in range(100) %}{{ 'x' * 1000 }}{% endfor %}",
    ],
)
def test_render_refuses_escapes_and_bombs_written_inline(source: str) -> None:
    # GIVEN an inline hostile body WHEN rendered THEN it is refused as a blocked operation
    from touchpoints.catalog.templates import Template, TemplateRenderError, render_template

    with pytest.raises(TemplateRenderError, match="blocked operation"):
        render_template(Template(name="inline", locale="en", subject="s", body=source), FACTS)


@pytest.mark.parametrize(
    ("part", "source", "limit"),
    [
        ("subject", "{{ 'x' * 1001 }}", 1_000),
        ("sms", "{% for i in range(17) %}{{ 'x' * 100 }}{% endfor %}", 1_600),
    ],
)
def test_a_part_longer_than_its_limit_is_refused(part: str, source: str, limit: int) -> None:
    # GIVEN a subject or an SMS text over its own limit (the body's is 100,000 characters)
    from touchpoints.catalog.templates import Template, TemplateRenderError, render_template

    fields = {"subject": "s", "body": "b", "sms": "t", part: source}
    # WHEN rendered THEN it is refused, naming the part and the limit
    with pytest.raises(TemplateRenderError, match=f"the {part} is longer than {limit} characters"):
        render_template(Template(name="inline", locale="en", **fields), FACTS)


def test_the_sandbox_still_renders_ordinary_templates() -> None:
    # GIVEN the harmless control template WHEN rendered
    from touchpoints.catalog.templates import Template, render_template

    rendered = render_template(
        Template(name="safe-note", locale="en", **_template_source("safe-note")), FACTS
    )
    # THEN it renders normally (the sandbox is not simply refusing everything)
    assert rendered.subject == "Order A1"
    assert rendered.body == "Hi Ann,\n***\n"
