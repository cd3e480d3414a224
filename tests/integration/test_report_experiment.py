"""The issue's measure: 20,000 generated orders, a 10% holdout on the delay apology, `report --json`.

Held-out orders cancel at 12%, treated ones at 8% (tests/support/outcome_stream.py). The report must
hold out 10% +/- 1.5 points of the orders, count every outcome as an independent count from the raw
events does, and put the true difference (-4 points) inside its 95% interval. (That the handlers on
moto hold out the same orders as the simulation is tests/integration/test_report_table.py.)
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner
from tests.support.experiments import rules_with_experiment
from tests.support.outcome_stream import StreamTruth, expected_outcomes, generate_stream

from touchpoints.catalog import load_catalog
from touchpoints.cli.main import cli
from touchpoints.outcomes import BINARY_OUTCOMES


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], StreamTruth]:
    root = tmp_path_factory.mktemp("twenty-thousand")
    rules = rules_with_experiment(root / "rules", holdout="10%")
    experiment = load_catalog(rules).rules["delivery-delay-apology"].rule.experiment
    assert experiment is not None
    truth = generate_stream(20_000, experiment, seed=20)
    events = root / "orders.jsonl"
    events.write_text("".join(json.dumps(raw) + "\n" for raw in truth.events), encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["report", str(events), "--rules", str(rules), "--json", "--orders", "5"]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), truth


def test_ten_percent_of_twenty_thousand_orders_are_held_out(
    measured: tuple[dict[str, Any], StreamTruth],
) -> None:
    # GIVEN / WHEN the report of 20,000 delayed orders with a 10% holdout
    (experiment,) = measured[0]["experiments"]
    # THEN every order is a unit, and the held-out share is within 1.5 points of 10%
    assert experiment["units"] == 20_000
    assert abs(experiment["held_out_share"] - 0.10) <= 0.015
    assert experiment["arms"]["holdout"]["held_out_records"] == experiment["arms"]["holdout"]["units"]


def test_outcome_rates_equal_the_independent_count(measured: tuple[dict[str, Any], StreamTruth]) -> None:
    # GIVEN the outcomes counted from the raw events alone
    numbers, truth = measured
    expected = expected_outcomes(truth)
    (experiment,) = numbers["experiments"]
    # WHEN compared arm by arm, outcome by outcome (counts and rates)
    for arm, counts in expected.items():
        got = experiment["arms"][arm]
        assert got["units"] == counts["units"]
        for name in BINARY_OUTCOMES:
            assert got["rates"][name]["count"] == counts[name], (arm, name)
            assert got["rates"][name]["rate"] == pytest.approx(counts[name] / counts["units"], abs=1e-6)


def test_the_interval_holds_the_true_effect_and_excludes_none(
    measured: tuple[dict[str, Any], StreamTruth],
) -> None:
    # GIVEN the true difference in cancellations: 8% - 12% = -4 points
    (experiment,) = measured[0]["experiments"]
    cancelled = experiment["differences"]["cancelled"]
    # WHEN / THEN the 95% interval holds it, and with 2,000 held out it already excludes "no effect"
    assert cancelled["low"] < -0.04 < cancelled["high"]
    assert cancelled["high"] < 0
