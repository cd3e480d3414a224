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
    "string-bomb": (4, "multiplying by 1000000000 is not allowed"),
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
    # GIVEN a hostile template that reached render time anyway (validate skipped)
    from touchpoints.catalog.templates import Template, TemplateRenderError, render_template

    template = Template(name=name, locale="en", **_template_source(name))
    # WHEN it is rendered with facts that would make it run away
    # THEN the sandbox refuses with our error (dispatch records `failed`), not a hang or a crash
    with pytest.raises(TemplateRenderError, match="blocked operation"):
        render_template(template, FACTS)


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ customer.name.__init__.__globals__ }}",
        "{{ 9**9**9 }}",
        "{{ 'x' * 1000000000 }}",
        "{% for i in range(order.payment_failures) %}x{% endfor %}",
    ],
)
def test_render_refuses_escapes_and_bombs_written_inline(source: str) -> None:
    # GIVEN an inline hostile body WHEN rendered THEN it is refused as a blocked operation
    from touchpoints.catalog.templates import Template, TemplateRenderError, render_template

    with pytest.raises(TemplateRenderError, match="blocked operation"):
        render_template(Template(name="inline", locale="en", subject="s", body=source), FACTS)


def test_the_sandbox_still_renders_ordinary_templates() -> None:
    # GIVEN the harmless control template WHEN rendered
    from touchpoints.catalog.templates import Template, render_template

    rendered = render_template(
        Template(name="safe-note", locale="en", **_template_source("safe-note")), FACTS
    )
    # THEN it renders normally (the sandbox is not simply refusing everything)
    assert rendered.subject == "Order A1"
    assert rendered.body == "Hi Ann,\n***\n"
