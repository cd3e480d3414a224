"""Every sample event parses, each scenario is a coherent journey, and the JSON Schemas stay in sync."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import jsonschema
import pytest

from touchpoints.contract import DETAIL_MODELS, ORDER_EVENT_TYPES, parse_event
from touchpoints.contract.schemas import event_schemas, render_schema, write_event_schemas

REPO = Path(__file__).resolve().parents[3]
SCHEMA_DIR = REPO / "events" / "schemas"
SAMPLE_FILES = sorted(p for p in (REPO / "events").rglob("*.json") if "schemas" not in p.parts)


def test_samples_exist_for_every_platform_detail_type() -> None:
    # GIVEN the sample events of events/
    # WHEN we count their detail-types
    types = Counter(parse_event(path.read_bytes()).detail_type for path in SAMPLE_FILES)
    # THEN every detail-type a platform sends has at least one sample
    assert set(ORDER_EVENT_TYPES) <= set(types), set(ORDER_EVENT_TYPES) - set(types)


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: str(p.relative_to(REPO / "events")))
def test_sample_event_parses_and_is_sam_invokable(path: Path) -> None:
    # GIVEN a sample event file
    raw = json.loads(path.read_text(encoding="utf-8"))
    # WHEN it is parsed
    event = parse_event(raw)
    # THEN it is a full EventBridge envelope in March 2026, and its file name says its detail-type
    assert set(raw) == {
        "version",
        "id",
        "detail-type",
        "source",
        "account",
        "time",
        "region",
        "resources",
        "detail",
    }
    assert raw["version"] == "0"
    assert len(raw["account"]) == 12
    assert raw["account"].isdigit()
    assert (event.time.year, event.time.month) == (2026, 3)
    kebab = "".join("-" + c.lower() if c.isupper() else c for c in event.detail_type).lstrip("-")
    assert path.name.split("-", 1)[1] == f"{kebab}.json"


@pytest.mark.parametrize("folder", sorted({p.parent for p in SAMPLE_FILES}), ids=lambda p: p.name)
def test_scenario_is_one_order_in_time_order(folder: Path) -> None:
    # GIVEN one scenario folder
    events = [parse_event(path.read_bytes()) for path in sorted(folder.glob("*.json"))]
    # WHEN we look at its orders and times
    orders = {event.order_id for event in events}
    times = [event.time for event in events]
    # THEN it is one order's journey, files numbered in time order, starting with OrderPlaced
    assert len(orders) == 1
    assert times == sorted(times)
    assert events[0].detail_type == "OrderPlaced"
    assert len({event.id for event in events}) == len(events)


def test_samples_cover_locales_zones_and_tiers() -> None:
    # GIVEN the customers of the sample OrderPlaced events
    customers = [
        event.customer
        for event in (parse_event(path.read_bytes()) for path in SAMPLE_FILES)
        if event.detail_type == "OrderPlaced" and event.customer is not None
    ]
    # WHEN we collect their locales, zones and tiers
    locales = {c.locale for c in customers}
    zones = {c.timezone for c in customers}
    tiers = {c.tier for c in customers}
    # THEN the samples exercise what the templates and quiet hours must handle
    assert {"en", "zh-Hans", "zh-Hant"} <= locales
    assert {"America/New_York", "Asia/Shanghai", "Asia/Taipei", "Europe/London"} <= zones
    assert len(tiers) >= 3
    assert any(c.consent.marketing for c in customers)
    assert any(not c.consent.marketing for c in customers)


def test_committed_schemas_are_up_to_date() -> None:
    # GIVEN the schemas the models generate
    expected = {name: render_schema(schema) for name, schema in event_schemas().items()}
    # WHEN we read the committed files
    committed = {path.name: path.read_text(encoding="utf-8") for path in SCHEMA_DIR.glob("*.json")}
    # THEN they are identical (run `python -m touchpoints.contract.schemas` after changing a model)
    assert committed == expected


def test_write_event_schemas_writes_one_file_per_detail_type_plus_envelope(tmp_path: Path) -> None:
    # GIVEN an empty directory
    # WHEN the schemas are written into it
    written = write_event_schemas(tmp_path / "schemas")
    # THEN there is one file per detail-type plus the envelope, each valid JSON Schema
    assert sorted(p.name for p in written) == sorted([*(f"{n}.json" for n in DETAIL_MODELS), "envelope.json"])
    for path in written:
        jsonschema.Draft202012Validator.check_schema(json.loads(path.read_text(encoding="utf-8")))


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: str(p.relative_to(REPO / "events")))
def test_sample_event_validates_against_the_published_schemas(path: Path) -> None:
    # GIVEN a sample event and the published schemas
    raw = json.loads(path.read_text(encoding="utf-8"))
    envelope = json.loads((SCHEMA_DIR / "envelope.json").read_text(encoding="utf-8"))
    detail = json.loads((SCHEMA_DIR / f"{raw['detail-type']}.json").read_text(encoding="utf-8"))
    # WHEN a platform team validates it with a standard JSON Schema validator
    envelope_errors = list(jsonschema.Draft202012Validator(envelope).iter_errors(raw))
    detail_errors = list(jsonschema.Draft202012Validator(detail).iter_errors(raw["detail"]))
    # THEN schema and models agree
    assert envelope_errors == []
    assert detail_errors == []


def test_published_schema_rejects_what_the_models_reject(shipment_delayed: dict[str, object]) -> None:
    # GIVEN a ShipmentDelayed whose detail lacks its required new_estimate
    detail = dict(shipment_delayed["detail"])  # type: ignore[call-overload]
    del detail["new_estimate"]
    schema = json.loads((SCHEMA_DIR / "ShipmentDelayed.json").read_text(encoding="utf-8"))
    # WHEN the published schema validates it
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(detail))
    # THEN it is rejected for that field
    assert [e.message for e in errors] == ["'new_estimate' is a required property"]
