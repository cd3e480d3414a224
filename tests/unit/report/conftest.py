"""Shared for the report tests: a catalog with a holdout experiment and a generated stream for it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.support.experiments import rules_with_experiment
from tests.support.outcome_stream import StreamTruth, generate_stream

from touchpoints.catalog import Catalog, load_catalog


@pytest.fixture(scope="session")
def holdout_rules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped rules with a 20% holdout on the delay apology."""
    return rules_with_experiment(tmp_path_factory.mktemp("holdout") / "rules", holdout="20%")


@pytest.fixture(scope="session")
def holdout_catalog(holdout_rules: Path) -> Catalog:
    return load_catalog(holdout_rules)


@pytest.fixture(scope="session")
def stream(holdout_catalog: Catalog) -> StreamTruth:
    """3,000 delayed orders: held-out ones cancel at 12%, treated ones at 8%."""
    experiment = holdout_catalog.rules["delivery-delay-apology"].rule.experiment
    assert experiment is not None
    return generate_stream(3000, experiment)


@pytest.fixture(scope="session")
def stream_file(stream: StreamTruth, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("stream") / "orders.jsonl"
    path.write_text("".join(json.dumps(raw) + "\n" for raw in stream.events), encoding="utf-8")
    return path
