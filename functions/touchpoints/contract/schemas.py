"""Export the event contract as JSON Schema files (`events/schemas/`), for platform teams and their CI."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from touchpoints.contract.envelope import Event
from touchpoints.contract.models import DETAIL_MODELS

__all__ = ["event_schemas", "write_event_schemas"]

_DEFAULT_DIR = Path(__file__).resolve().parents[3] / "events" / "schemas"
_BASE = "https://touchpoints.example.com/schemas/"


def event_schemas() -> dict[str, dict[str, Any]]:
    """File name -> JSON Schema: one per detail-type plus `envelope.json`."""
    schemas: dict[str, dict[str, Any]] = {}
    for name, model in DETAIL_MODELS.items():
        schema = model.model_json_schema(mode="validation")
        schemas[f"{name}.json"] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": _BASE + name,
            **schema,
        }
    envelope = Event.model_json_schema(mode="validation", by_alias=True)
    envelope["properties"]["detail"] = {
        "type": "object",
        "description": "the detail; its schema is <detail-type>.json",
    }
    envelope["properties"]["detail-type"]["enum"] = list(DETAIL_MODELS)
    envelope.pop("$defs", None)
    envelope["description"] = "The EventBridge envelope of every event Touchpoints accepts."
    schemas["envelope.json"] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": _BASE + "envelope",
        **envelope,
    }
    return schemas


def render_schema(schema: dict[str, Any]) -> str:
    """The exact text written to disk, so a test can compare committed files byte for byte."""
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def write_event_schemas(directory: Path = _DEFAULT_DIR) -> list[Path]:
    """Write every schema into `directory` (created if needed); returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for file_name, schema in event_schemas().items():
        path = directory / file_name
        path.write_text(render_schema(schema), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":  # python -m touchpoints.contract.schemas [DIR]
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else _DEFAULT_DIR
    for written_path in write_event_schemas(target):
        print(written_path)
