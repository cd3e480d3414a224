"""The template's two EventBridge rules split the contract's detail-types exactly.

`PlatformEventsRule` routes the types the contract knows to the events queue; `UnknownDetailTypesRule`
routes everything else there too, so the handler rejects it by name. A type added to the
contract but not to both lists is either dropped by EventBridge or delivered twice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from touchpoints.contract.models import ORDER_EVENT_TYPES
from touchpoints.local import load_template

TEMPLATE = Path(__file__).resolve().parents[3] / "template.yaml"


def _detail_types(rule: str) -> list[Any]:
    resources = load_template(TEMPLATE)["Resources"]
    return list(resources[rule]["Properties"]["EventPattern"]["detail-type"])


def test_the_events_rule_names_every_detail_type_of_the_contract() -> None:
    # GIVEN the template WHEN its events rule is read THEN it lists exactly the contract's types
    assert sorted(_detail_types("PlatformEventsRule")) == sorted(ORDER_EVENT_TYPES)


def test_the_unknown_types_rule_excludes_exactly_the_contracts_detail_types() -> None:
    # GIVEN the template WHEN its catch-all rule is read THEN its anything-but is the contract's types,
    # so no known event is delivered twice and no unknown one is dropped
    (pattern,) = _detail_types("UnknownDetailTypesRule")
    assert sorted(pattern["anything-but"]) == sorted(ORDER_EVENT_TYPES)
