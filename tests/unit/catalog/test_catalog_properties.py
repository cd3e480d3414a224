"""Properties of the loader over generated rules: round trips, and problems always at the right line."""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from touchpoints.catalog import TRIGGER_TYPES, Rule, validate_catalog

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "broken-rules"
VALID_BASE = FIXTURES / "valid-base"

# Durations are at most 366 days (catalog/durations.py): draw each unit within that.
durations = st.sampled_from([("m", 500), ("h", 500), ("d", 366), ("w", 52)]).flatmap(
    lambda unit: st.integers(min_value=1, max_value=unit[1]).map(lambda n: f"{n}{unit[0]}")
)
rule_ids = st.from_regex(r"[a-z][a-z0-9]{0,8}(-[a-z0-9]{1,8}){0,3}", fullmatch=True)


@st.composite
def rule_documents(draw: st.DrawFn) -> dict[str, Any]:
    """A valid rule file for the base fixture catalog (its templates and group), as plain data."""
    document: dict[str, Any] = {
        "id": draw(rule_ids),
        "description": draw(st.text(min_size=1, max_size=40).filter(str.strip)),
        "on": draw(st.lists(st.sampled_from(TRIGGER_TYPES), min_size=1, max_size=3, unique=True)),
        "then": [
            {"channel": "email", "template": draw(st.sampled_from(["order-confirmation", "review-apology"]))}
        ],
    }
    timing = draw(st.sampled_from(["none", "after", "at"]))
    if timing == "after":
        document["after"] = draw(durations)
    elif timing == "at":
        document["at"] = draw(
            st.sampled_from(["order.promised_ship_by", "order.placed_at", "order.delivered_at"])
        )
        if draw(st.booleans()):
            document["offset"] = ("-" if draw(st.booleans()) else "") + draw(durations)
    if draw(st.booleans()):
        document["when"] = {"!": {"var": draw(st.sampled_from(["order.is_paid", "order.is_shipped"]))}}
    if draw(st.booleans()):
        document["priority"] = draw(st.integers(min_value=-100, max_value=100))
    if draw(st.booleans()):
        document["limit"] = {"max": draw(st.integers(min_value=1, max_value=5)), "scope": "customer"}
    if draw(st.booleans()):
        document["category"] = draw(st.sampled_from(["transactional", "service", "marketing"]))
    if draw(st.booleans()):
        document["tags"] = draw(st.lists(st.sampled_from(["a", "b", "c"]), max_size=3))
    return document


def _dump(document: dict[str, Any]) -> str:
    yaml = YAML()
    yaml.default_flow_style = False
    stream = io.StringIO()
    yaml.dump(document, stream)
    return stream.getvalue()


@settings(max_examples=60, deadline=None)
@given(rule_documents())
def test_rules_round_trip_through_their_file_form(document: dict[str, Any]) -> None:
    # GIVEN a valid rule
    rule = Rule.model_validate(document)
    # WHEN it is written back as a rule file (aliases, durations as text) and read again
    written = rule.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    # THEN the same rule comes back
    assert Rule.model_validate(written) == rule


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    document=rule_documents(),
    position=st.integers(min_value=0, max_value=12),
    typo=st.sampled_from(["priorty", "descripton", "enabeld", "categroy"]),
)
@example(  # found by hypothesis: a NEL (U+0085) in a description is not a line break for editors
    document={
        "id": "a",
        "description": "0\x85",
        "on": ["OrderPlaced"],
        "then": [{"channel": "email", "template": "order-confirmation"}],
    },
    position=2,
    typo="priorty",
)
def test_an_unknown_key_is_reported_at_the_line_it_was_written(
    tmp_path_factory: Any, document: dict[str, Any], position: int, typo: str
) -> None:
    # GIVEN a valid rule file with one misspelt key inserted at some position
    items = list(document.items())
    index = min(position, len(items))
    items.insert(index, (typo, 1))
    text = _dump(dict(items))
    # Lines as editors and `grep -n` count them: str.splitlines() would also break at NEL/LS/PS,
    # which a description may hold and which YAML 1.2 (ruamel) rightly does not treat as line breaks.
    expected_line = next(
        number for number, line in enumerate(text.split("\n"), 1) if line.startswith(f"{typo}:")
    )
    rules = tmp_path_factory.mktemp("catalog") / "rules"
    shutil.copytree(VALID_BASE, rules)
    (rules / "generated.yaml").write_text(
        "# yaml-language-server: $schema=./rule.schema.json\n" + text, encoding="utf-8"
    )
    # WHEN the catalog is validated
    problems = validate_catalog(rules)
    # THEN exactly that key is reported, on its own line (one below, for the schema comment)
    unknown = [p for p in problems if "unknown key" in p.message]
    assert [(p.line, p.message.split(" (")[0]) for p in unknown] == [
        (expected_line + 1, f"unknown key '{typo}'")
    ]
