"""`expect_story` in rule test cases: an action's records in order (deferred, then released or not)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from touchpoints.cli.main import cli

RELEASE_RULES = Path(__file__).resolve().parents[2] / "fixtures" / "release" / "rules"

CASE = """
cases:
  - name: a text held for the morning
    order_id: T1
    customer: {{id: C1, email: ana@example.com, phone: "+12125550143", timezone: America/New_York,
               consent: {{marketing: true, sms: true}}}}
    events:
      - {{type: ShipmentDelayed, time: 2026-03-03T03:00:00Z,
         detail: {{shipment_id: S1, new_estimate: 2026-03-09T20:00:00Z}}}}
{more}
    until: 2026-03-04T00:00:00Z
    expect_story:
{story}
"""

RELEASED = """\
      - rule: delay-text
        channel: sms
        steps:
          - {status: scheduled, reason: quiet_hours, send_at: 2026-03-03T14:00:00Z}
          - {status: pending, decided_at: 2026-03-03T03:00:00Z, released_at: 2026-03-03T14:00:00Z}"""

RESOLVED = """\
      - rule: delay-text
        channel: sms
        steps:
          - {status: scheduled, reason: quiet_hours}
          - {status: suppressed, reason: resolved, released_at: 2026-03-03T14:00:00Z}"""

DELIVERED = """\
      - {type: ShipmentDelivered, time: 2026-03-03T12:00:00Z, detail: {shipment_id: S1}}"""


def run(tmp_path: Path, story: str, more: str = "", *options: str) -> Result:
    rules = tmp_path / "rules"
    shutil.copytree(RELEASE_RULES, rules)
    (rules / "tests").mkdir()
    (rules / "tests" / "stories.yaml").write_text(CASE.format(story=story, more=more))
    return CliRunner().invoke(cli, ["test", str(rules), *options])


def test_a_story_of_a_release_passes(tmp_path: Path) -> None:
    # GIVEN a text deferred by quiet hours and released at 09:00 local
    # WHEN its story is the expectation / THEN the case passes
    result = run(tmp_path, RELEASED)
    assert result.exit_code == 0, result.output


def test_a_deferred_then_resolved_story_passes_when_the_parcel_arrived(tmp_path: Path) -> None:
    # GIVEN the parcel delivered before the release
    # WHEN the story says "deferred, then suppressed as resolved" / THEN it passes
    result = run(tmp_path, RESOLVED, DELIVERED)
    assert result.exit_code == 0, result.output


def test_a_story_that_did_not_happen_fails_with_expected_and_got(tmp_path: Path) -> None:
    # GIVEN the release story, but the parcel arrived overnight (so it was resolved)
    # WHEN run with --json
    result = run(tmp_path, RELEASED, DELIVERED, "--json")
    # THEN exit 1, and the failure shows both stories
    assert result.exit_code == 1
    (case,) = json.loads(result.stdout)["cases"]
    assert case["failures"] == [
        "expected the story of delay-text/sms: scheduled: quiet_hours -> pending; "
        "got scheduled: quiet_hours -> suppressed: resolved"
    ]


def test_a_story_of_no_action_fails(tmp_path: Path) -> None:
    # GIVEN a story of two steps for the email, which went out at once (one record)
    story = """\
      - rule: delay-text
        channel: email
        steps:
          - {status: scheduled}
          - {status: pending}"""
    # WHEN run / THEN the one-record story of the email does not match two steps
    result = run(tmp_path, story, "", "--json")
    (case,) = json.loads(result.stdout)["cases"]
    assert case["failures"] == ["expected the story of delay-text/email: scheduled -> pending; got pending"]


def test_a_story_of_a_rule_that_decided_nothing_fails(tmp_path: Path) -> None:
    # GIVEN a story about a rule this case never triggers
    story = """\
      - rule: thanks
        steps:
          - {status: pending}"""
    # WHEN run / THEN it says no such action was decided
    (case,) = json.loads(run(tmp_path, story, "", "--json").stdout)["cases"]
    assert case["failures"] == ["expected the story of thanks: pending; no such action was decided"]


@pytest.mark.parametrize(
    ("story", "line", "message"),
    [
        ("      - {channel: sms, steps: [{status: pending}]}", 13, "a story names the `rule`"),
        ("      - {rule: delay-text, stpes: [{status: pending}]}", 13, "unknown story key(s) stpes"),
        ("      - {rule: delay-text, steps: []}", 13, "`steps` is a non-empty list"),
        (
            "      - rule: delay-text\n        steps:\n          - {status: pending, at: x}",
            15,
            "unknown step field(s) at",
        ),
        (
            "      - rule: delay-text\n        steps:\n          - {status: supressed}",
            15,
            "status: 'supressed' is not a decision status (did you mean 'suppressed'?)",
        ),
        (
            "      - rule: delay-text\n        steps:\n          - {status: suppressed, reason: resolve}",
            15,
            "reason: 'resolve' is not a decision reason (did you mean 'resolved'?)",
        ),
        (
            "      - {rule: delay-text, channel: fax, steps: [{status: pending}]}",
            13,
            "'fax' is not a decision channel",
        ),
    ],
)
def test_a_malformed_story_is_reported_at_its_line(
    tmp_path: Path, story: str, line: int, message: str
) -> None:
    # GIVEN a story with a mistake WHEN the tests run THEN exit 2 naming the file, line and mistake
    result = run(tmp_path, story)
    assert result.exit_code == 2, result.output
    assert f"stories.yaml:{line}:" in result.output
    assert message in result.output


def test_a_story_naming_an_unknown_rule_can_never_pass(tmp_path: Path) -> None:
    # GIVEN a story about a rule the catalog does not have (a typo)
    story = "      - {rule: delay-txt, steps: [{status: pending}]}"
    # WHEN run / THEN it fails with a did-you-mean, not silently
    (case,) = json.loads(run(tmp_path, story, "", "--json").stdout)["cases"]
    assert "no rule 'delay-txt' in the catalog (did you mean 'delay-text'?)" in case["failures"][0]
