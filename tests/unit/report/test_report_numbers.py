"""The report's numbers: a known effect is found, the sections add up, the CLI behaves."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from tests.support.outcome_stream import StreamTruth, expected_outcomes

from touchpoints.catalog import Catalog, load_catalog
from touchpoints.cli.main import cli
from touchpoints.outcomes import BINARY_OUTCOMES
from touchpoints.report import (
    MIN_UNITS,
    NOT_ENOUGH_DATA,
    build_numbers,
    difference,
    from_simulation,
    render_html,
)
from touchpoints.simulator import InputProblem, read_events

ROOT = Path(__file__).resolve().parents[3]


def run(*args: str, input: str | None = None) -> Any:
    return CliRunner().invoke(cli, list(args), input=input)


@pytest.fixture(scope="module")
def stream_report(stream_file: Path, holdout_rules: Path) -> dict[str, Any]:
    result = run("report", str(stream_file), "--rules", str(holdout_rules), "--json", "--orders", "3")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_report_finds_the_known_effect_of_the_holdout(
    stream_report: dict[str, Any], stream: StreamTruth
) -> None:
    # GIVEN 3,000 delayed orders, 20% held out; held-out ones cancel at 12%, treated ones at 8%
    (experiment,) = stream_report["experiments"]
    # WHEN the report measures the experiment
    cancelled = experiment["differences"]["cancelled"]
    # THEN about 20% are held out, and the 95% interval of treated minus holdout holds the truth (-4 points)
    assert experiment["units"] == 3000
    assert abs(experiment["held_out_share"] - 0.20) < 0.02
    assert cancelled["enough_data"] is True
    assert cancelled["low"] < -0.04 < cancelled["high"]
    # and every held-out unit's record is held_out
    assert experiment["arms"]["holdout"]["held_out_records"] == experiment["arms"]["holdout"]["units"]
    assert experiment["arms"]["treated"]["held_out_records"] == 0


def test_outcome_counts_equal_an_independent_count_from_the_raw_events(
    stream_report: dict[str, Any], stream: StreamTruth
) -> None:
    # GIVEN the outcomes counted from the envelopes alone (no journey, no decisions)
    expected = expected_outcomes(stream)
    # WHEN compared with the report's arms
    (experiment,) = stream_report["experiments"]
    got = {
        arm: {
            "units": numbers["units"],
            **{name: numbers["rates"][name]["count"] for name in BINARY_OUTCOMES},
        }
        for arm, numbers in experiment["arms"].items()
    }
    # THEN they are the same, outcome by outcome
    assert got == expected


def test_below_the_minimum_the_report_says_not_enough_data_yet() -> None:
    # GIVEN / WHEN an arm below MIN_UNITS, and both at it
    small = difference((5, MIN_UNITS), (1, MIN_UNITS - 1))
    enough = difference((5, MIN_UNITS), (1, MIN_UNITS))
    # THEN no difference is claimed below it, and one with an interval at it
    assert small == {
        "enough_data": False,
        "difference": None,
        "low": None,
        "high": None,
        "note": NOT_ENOUGH_DATA,
    }
    assert enough["enough_data"] is True
    assert enough["low"] < enough["difference"] < enough["high"]


@pytest.fixture(scope="module")
def samples() -> dict[str, Any]:
    catalog = load_catalog(ROOT / "rules")
    events = [e for e in read_events([ROOT / "events"]) if not isinstance(e, InputProblem)]
    return build_numbers(from_simulation(catalog, events), timeline_orders=50)


def test_the_sections_add_up_to_the_decisions(samples: dict[str, Any]) -> None:
    # GIVEN the report of the sample journeys
    total = samples["summary"]["decisions"]
    # WHEN each section is summed
    # THEN each accounts for every decision once
    assert total > 30
    assert sum(r["total"] for r in samples["rules"]) == total
    assert sum(r["count"] for r in samples["per_day"]) == total
    assert sum(r["count"] for r in samples["locales"]) == total
    assert sum(samples["summary"]["by_status"].values()) == total
    # and pending actions were dispatched, as production's stream does
    assert samples["summary"]["by_status"].get("pending", 0) == 0
    assert samples["summary"]["by_status"]["sent"] > 20


def test_the_policy_section_names_what_held_messages_back(samples: dict[str, Any]) -> None:
    # GIVEN / WHEN the samples' policy section
    policy = samples["policy"]
    # THEN the group stopped the second delay apology, and consent and contact suppressed others
    assert policy["by_reason"]["group_exclusion"] >= 1
    assert policy["by_rule"]["delivery-promise-missed"]["group_exclusion"] >= 1
    assert policy["by_reason"]["no_consent"] >= 1
    assert set(policy["by_reason"]) >= {"rule_limit", "rate_limit", "quiet_hours", "resolved"}


def test_surveys_per_week_give_nps_and_csat(samples: dict[str, Any]) -> None:
    # GIVEN the two sample survey answers (CSAT 2 on Sunday 8 March: ISO week 10; NPS 10 on Monday 9 March)
    rows = {(r["week"], r["scale"]): r for r in samples["surveys"]}
    # WHEN / THEN NPS is promoters minus detractors in points, CSAT the mean and satisfied share
    assert rows[("2026-W11", "nps")]["nps"] == 100.0
    assert rows[("2026-W10", "csat")]["mean"] == 2.0
    assert rows[("2026-W10", "csat")]["satisfied_share"] == 0.0


def test_a_timeline_shows_events_decisions_and_rendered_subjects(samples: dict[str, Any]) -> None:
    # GIVEN the detractor's order
    order = next(o for o in samples["orders"] if o["order_id"] == "A9001")
    kinds = [e.get("type") or e.get("rule_id") for e in order["entries"]]
    # WHEN / THEN its events come in time order with the decisions and each message's subject
    assert kinds.index("OrderPlaced") < kinds.index("order-confirmation") < kinds.index("SurveyAnswered")
    apology = next(
        e
        for e in order["entries"]
        if e.get("rule_id") == "survey-detractor-apology" and e["channel"] == "email"
    )
    assert apology["subject"] == "We are sorry: your order A9001 let you down"
    case = next(
        e
        for e in order["entries"]
        if e.get("rule_id") == "survey-detractor-apology" and e["channel"] == "event"
    )
    assert case["subject"] == "SupportCaseRequested"


def test_the_page_references_nothing_outside_itself(samples: dict[str, Any]) -> None:
    # GIVEN the rendered page, without the plotly.js it inlines (a library's code, not the page's markup)
    from plotly.offline import get_plotlyjs

    whole = render_html(samples)
    assert get_plotlyjs() in whole
    page = whole.replace(get_plotlyjs(), "")
    # WHEN searched for anything a browser would fetch
    # THEN there is none: no external script, style, font or image, and plotly.js is inline
    for fetch in ('src="http', "src='http", 'href="http', "href='http", "@import", "url(http", "<link "):
        assert fetch not in page
    assert page.count("<script") >= 2
    assert "Plotly.newPlot" in page
    assert "Order A9001" in page


def test_with_a_base_catalog_the_report_has_the_diff_per_rule(tmp_path: Path, holdout_rules: Path) -> None:
    # GIVEN the sample events, the shipped rules as the base and the rules with a 50% holdout
    rules = tmp_path / "rules"
    import shutil

    shutil.copytree(holdout_rules, rules)
    path = rules / "shipping" / "delivery-delay-apology.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("holdout: 20%", "holdout: 50%"), encoding="utf-8"
    )
    # WHEN the report runs with --base
    result = run(
        "report", str(ROOT / "events"), "--rules", str(rules), "--base", str(ROOT / "rules"), "--json"
    )
    # THEN the diff section says per rule what changed (nothing, or the held-out apology)
    assert result.exit_code == 0, result.output
    diff = json.loads(result.stdout)["diff"]
    assert set(diff) == {"added", "removed", "changed", "rules"}
    assert diff["changed"] == sum(row["changed"] for row in diff["rules"].values())


def test_standard_input_is_read_with_a_dash(stream: StreamTruth, holdout_rules: Path) -> None:
    # GIVEN 40 orders' events as JSON Lines on standard input
    lines = "".join(json.dumps(raw) + "\n" for raw in stream.events if raw["detail"]["order_id"] < "G000040")
    # WHEN the report reads `-`
    result = run("report", "-", "--rules", str(holdout_rules), "--json", input=lines)
    # THEN it reports those 40 orders
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["summary"]["orders"] == 40


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give event files"),
        (["events", "--table", "t"], "either event paths or --table"),
        (["--table", "t", "--base", "rules"], "--base diffs two simulations"),
        (["--table", "t", "--since", "yesterday-ish"], "--since"),
        (["events", "--window", "soon"], "--window"),
        (["no-such-folder"], "no such file or folder"),
    ],
)
def test_bad_input_exits_2_with_a_clear_error(args: list[str], message: str) -> None:
    # GIVEN / WHEN the report is asked for something it cannot do
    result = run("report", *args, "--rules", str(ROOT / "rules"), "--json")
    # THEN it exits 2 naming the problem, without a traceback
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_without_json_the_page_is_written_and_its_path_printed(
    tmp_path: Path, holdout_catalog: Catalog
) -> None:
    # GIVEN / WHEN the report of the samples is written to a file
    out = tmp_path / "page.html"
    result = run("report", str(ROOT / "events"), "--out", str(out))
    # THEN the page is there and its path is said
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 1_000_000  # plotly.js is inside
    assert str(out) in result.stderr.replace("\n", "")


def test_help_teaches_with_examples_that_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the report's --help, read from the checkout (its examples use events/ and rules/)
    help_text = run("report", "--help").output
    assert "Examples:" in help_text
    examples = [
        line.strip()
        for line in help_text.splitlines()
        if line.strip().startswith("touchpoints report events/")
    ]
    assert len(examples) == 3
    monkeypatch.chdir(ROOT)
    # WHEN each example over event files runs (the --table one needs a deployed table)
    for example in examples:
        command = example.split(" | ")[0].split()[2:]
        if "--out" in command:  # into the test's folder, not the checkout
            at = command.index("--out") + 1
            command[at] = str(tmp_path / command[at])
        result = run("report", *command)
        # THEN it succeeds
        assert result.exit_code == 0, (example, result.output)
