"""Fixtures of the contract tests: fresh copies of sample events that a test may break."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def order_placed() -> dict[str, Any]:
    """A valid OrderPlaced envelope as a fresh dict each test may change."""
    data: dict[str, Any] = json.loads((REPO / "events" / "happy-path" / "01-order-placed.json").read_text())
    return data


@pytest.fixture
def shipment_delayed() -> dict[str, Any]:
    """A valid ShipmentDelayed envelope as a fresh dict each test may change."""
    data: dict[str, Any] = json.loads(
        (REPO / "events" / "carrier-delay" / "04-shipment-delayed.json").read_text()
    )
    return data
