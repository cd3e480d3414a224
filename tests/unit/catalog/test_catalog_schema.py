"""The JSON Schemas editors use: generated from the models, committed, and kept up to date."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from touchpoints.catalog import CATEGORIES, CHANNELS, TRIGGER_TYPES
from touchpoints.catalog.durations import DURATION_PATTERN
from touchpoints.catalog.schema import policy_json_schema, rule_json_schema, schema_files
from touchpoints.contract import DETAIL_MODELS


def test_committed_schemas_are_up_to_date(repo_root: Path) -> None:
    # GIVEN the schemas committed under rules/
    # WHEN they are compared with what the models generate now
    # THEN they are identical (run `touchpoints schema` after changing a model)
    for path, text in schema_files(repo_root / "rules").items():
        assert path.exists(), f"{path.name} is missing: run `touchpoints schema`"
        assert path.read_text(encoding="utf-8") == text, f"{path.name} is stale: run `touchpoints schema`"


def test_rule_schema_offers_enums_for_triggers_channels_and_categories() -> None:
    # GIVEN the rule schema
    schema = rule_json_schema()
    properties = schema["properties"]
    # WHEN an editor reads it
    # THEN `on` accepts one type or a list of known types, and channel/category list their values
    one, many = properties["on"]["anyOf"]
    assert one["enum"] == list(TRIGGER_TYPES)
    assert many["items"]["enum"] == list(TRIGGER_TYPES)
    assert schema["definitions"]["ActionSpec"]["properties"]["channel"]["enum"] == list(CHANNELS)
    assert properties["category"]["enum"] == list(CATEGORIES)
    assert "detail-type" in schema["definitions"]["ActionSpec"]["properties"]
    assert schema["additionalProperties"] is False
    assert all(field.get("description") for field in properties.values())


def test_trigger_types_are_the_contract_detail_types_except_the_internal_timer() -> None:
    # GIVEN the event contract's detail-types
    # WHEN compared with what rules may trigger on
    # THEN they are the same, minus TimerFired
    assert set(TRIGGER_TYPES) == set(DETAIL_MODELS) - {"TimerFired"}


@pytest.mark.parametrize(("text", "valid"), [("48h", True), ("1d12h", True), ("2 days", False), ("h", False)])
def test_duration_pattern_in_the_schema_matches_the_parser(text: str, valid: bool) -> None:
    # GIVEN the schema's duration pattern
    after: Any = rule_json_schema()["properties"]["after"]["anyOf"][0]
    # WHEN a duration is checked against it
    # THEN the editor agrees with the loader
    assert bool(re.match(after["pattern"], text)) is valid
    assert bool(re.match(DURATION_PATTERN, text)) is valid


def test_policy_schema_describes_caps_without_transactional() -> None:
    # GIVEN the policy schema
    schema = policy_json_schema()
    # WHEN an editor completes `caps:`
    caps = schema["properties"]["caps"]
    # THEN only service and marketing can be capped
    assert set(caps["propertyNames"]["enum"]) == {"service", "marketing"}
