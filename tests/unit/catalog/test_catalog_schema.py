"""The JSON Schemas editors use: generated from the models, committed, and kept up to date."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator
from ruamel.yaml import YAML

from touchpoints.catalog import CATEGORIES, CHANNELS, TRIGGER_TYPES
from touchpoints.catalog.durations import DURATION_PATTERN
from touchpoints.catalog.schema import policy_json_schema, rule_json_schema, schema_files
from touchpoints.catalog.yamlsource import to_plain
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


def _yaml_files(folder: Path) -> list[Path]:
    return sorted(
        path
        for path in folder.rglob("*.yaml")
        if path.relative_to(folder).parts[0] not in ("tests", "templates") and path.name != "policy.yaml"
    )


def test_every_shipped_rule_and_the_policy_satisfy_the_schemas_editors_use(repo_root: Path) -> None:
    # GIVEN the shipped playbook and the generated schemas
    rules = repo_root / "rules"
    rule_validator = Draft7Validator(rule_json_schema())
    policy_validator = Draft7Validator(policy_json_schema())
    files = _yaml_files(rules)
    assert len(files) >= 10
    # WHEN each file is checked the way an editor checks it
    # THEN no editor would underline anything in a valid catalog
    for path in files:
        errors = [error.message for error in rule_validator.iter_errors(_load(path))]
        assert errors == [], f"{path.name}: {errors}"
    assert list(policy_validator.iter_errors(_load(rules / "policy.yaml"))) == []


@pytest.mark.parametrize(
    ("case", "relative"),
    [
        ("unknown-key", "reviews/negative-review.yaml"),
        ("bad-duration", "shipping/late-shipment.yaml"),
        ("unknown-trigger", "orders/order-confirmation.yaml"),
        ("bad-channel", "orders/order-confirmation.yaml"),
        ("bad-id", "orders/order-confirmation.yaml"),
        ("missing-key", "orders/no-actions.yaml"),
        ("unknown-detail-type", "reviews/negative-review.yaml"),
        ("expires-after-bad-duration", "shipping/late-shipment.yaml"),
    ],
)
def test_schema_flags_structural_mistakes_in_the_editor(repo_root: Path, case: str, relative: str) -> None:
    # GIVEN a broken rule file whose mistake is structural (no cross-file knowledge needed)
    path = repo_root / "tests" / "fixtures" / "broken-rules" / "cases" / case / relative
    # WHEN the editor checks it against the rule schema
    errors = list(Draft7Validator(rule_json_schema()).iter_errors(_load(path)))
    # THEN it is underlined before validate even runs
    assert errors


@pytest.mark.parametrize(
    "case", ["on-cap-typo", "unknown-cap-channel", "event-cap-channel", "cap-without-per"]
)
def test_policy_schema_flags_cap_mistakes_in_the_editor(repo_root: Path, case: str) -> None:
    # GIVEN a policy with a cap mistake (an on_cap typo, a channel that is not one, max without per)
    path = repo_root / "tests" / "fixtures" / "broken-rules" / "cases" / case / "policy.yaml"
    # WHEN the editor checks it against the policy schema / THEN it is underlined
    assert list(Draft7Validator(policy_json_schema()).iter_errors(_load(path)))


def test_policy_schema_accepts_per_channel_caps_and_on_cap() -> None:
    # GIVEN the documented shapes: a category cap that defers, with a text cap; a text cap alone
    policies = [
        {
            "caps": {
                "service": {
                    "max": 3,
                    "per": "24h",
                    "on_cap": "defer",
                    "channels": {"sms": {"max": 1, "per": "24h"}},
                }
            }
        },
        {"caps": {"marketing": {"channels": {"sms": {"max": 1, "per": "7d"}}}}},
    ]
    # WHEN / THEN the editor finds nothing wrong
    for policy in policies:
        assert list(Draft7Validator(policy_json_schema()).iter_errors(policy)) == []


def _load(path: Path) -> Any:
    return to_plain(YAML(typ="safe").load(path.read_text(encoding="utf-8")))
