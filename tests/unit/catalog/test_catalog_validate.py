"""Validation of whole catalogs: every kind of mistake is found, at the right file and line."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from touchpoints.catalog import (
    CatalogError,
    Problem,
    UnknownRuleError,
    UnknownTemplateError,
    build_catalog,
    load_catalog,
    resolve_locale,
    validate_catalog,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "broken-rules"
VALID_BASE = FIXTURES / "valid-base"
CASES = FIXTURES / "cases"

# case folder -> (file, line, a fragment of the message). Each case is the valid base plus one mistake.
EXPECTED: dict[str, tuple[str, int, str]] = {
    "yaml-syntax": (
        "rules/shipping/late-shipment.yaml",
        9,
        "YAML syntax error: mapping values are not allowed",
    ),
    "unknown-key": (
        "rules/reviews/negative-review.yaml",
        8,
        "unknown key 'priorty' (did you mean 'priority'?)",
    ),
    "missing-key": ("rules/orders/no-actions.yaml", 2, "missing required key 'then'"),
    "wrong-type": ("rules/reviews/negative-review.yaml", 8, "priority: Input should be a valid integer"),
    "unknown-operator": ("rules/reviews/negative-review.yaml", 7, "equals"),
    "wrong-arity": ("rules/reviews/negative-review.yaml", 7, "hours_between"),
    "unknown-fact": (
        "rules/shipping/late-shipment.yaml",
        6,
        "'order.is_shiped' is not a fact (did you mean 'order.is_shipped'?)",
    ),
    "fact-not-on-trigger": (
        "rules/shipping/delayed.yaml",
        5,
        "'event.rating' is not carried by ShipmentDelayed",
    ),
    "bad-duration": ("rules/shipping/late-shipment.yaml", 4, "after: '2 days' is not a duration"),
    "unknown-trigger": (
        "rules/orders/order-confirmation.yaml",
        3,
        "unknown event type 'OrderPlacd' (did you mean 'OrderPlaced'?)",
    ),
    "timer-trigger": ("rules/orders/order-confirmation.yaml", 3, "TimerFired is internal"),
    "after-and-at": ("rules/shipping/late-shipment.yaml", 4, "either `after` (a delay) or `at`"),
    "at-not-timestamp": (
        "rules/shipping/late-shipment.yaml",
        4,
        "'order.promised_ship' is not a timestamp fact (did you mean 'order.promised_ship_by'?)",
    ),
    "offset-without-at": ("rules/shipping/late-shipment.yaml", 5, "`offset` only applies with `at`"),
    "missing-template": (
        "rules/shipping/late-shipment.yaml",
        7,
        "template 'shipment-dely' does not exist (expected rules/templates/shipment-dely/en.yaml) "
        "(did you mean 'shipment-delay'?)",
    ),
    "missing-locale": ("rules/templates/shipment-delay/zh-Hans.yaml", 1, "has no zh-Hans version"),
    "unknown-group": (
        "rules/shipping/late-shipment.yaml",
        7,
        "group 'delay-apologies' is not declared in policy.yaml (declared: delay-apology) "
        "(did you mean 'delay-apology'?)",
    ),
    "duplicate-id": (
        "rules/orders/order-confirmation.yaml",
        2,
        "duplicate rule id 'order-confirmation': also defined in rules/orders/confirm-again.yaml:2",
    ),
    "event-without-detail-type": (
        "rules/reviews/negative-review.yaml",
        7,
        "an event action needs `detail-type`",
    ),
    "template-on-event": ("rules/reviews/negative-review.yaml", 8, "an event action has no `template`"),
    "sms-without-text": ("rules/reviews/negative-review.yaml", 7, "has no `sms` text in en, zh-Hant"),
    "hostile-template": ("rules/templates/review-apology/en.yaml", 5, "access to '__class__' is not allowed"),
    "runaway-loop": ("rules/templates/review-apology/en.yaml", 4, "range() needs literal numbers"),
    "template-syntax": ("rules/templates/shipment-delay/en.yaml", 5, "template syntax error"),
    "template-unknown-fact": (
        "rules/templates/shipment-delay/zh-Hant.yaml",
        5,
        "'order.trackng_url' is not a fact (did you mean 'order.tracking_url'?)",
    ),
    "bad-id": ("rules/orders/order-confirmation.yaml", 1, "'Order_Confirmation' is not a valid id"),
    "transactional-cap": ("rules/policy.yaml", 1, "transactional messages (order confirmations"),
    "bad-channel": (
        "rules/orders/order-confirmation.yaml",
        5,
        "'mail' is not allowed (did you mean 'email'?)",
    ),
    "not-a-mapping": ("rules/orders/list.yaml", 1, "a rule file must be a mapping"),
    "duplicate-key": ("rules/reviews/negative-review.yaml", 8, 'found duplicate key "priority"'),
    "unknown-detail-type": (
        "rules/reviews/negative-review.yaml",
        7,
        "then[1].detail-type: 'SupportCase' is not allowed (did you mean 'SupportCaseRequested'?)",
    ),
    "bad-quiet-hours": (
        "rules/policy.yaml",
        4,
        "quiet_hours.start: '9pm' is not a time of day: write it as \"HH:MM\"",
    ),
    "unknown-category": (
        "rules/orders/order-confirmation.yaml",
        6,
        "'transactionnal' is not allowed (did you mean 'transactional'?)",
    ),
    "template-event-not-on-trigger": (
        "rules/templates/order-confirmation/en.yaml",
        6,
        "body: 'event.rating' is not carried by OrderPlaced events (rule order-confirmation uses this "
        "template); guard it with {% if event.rating is defined %} or use a fact every trigger has",
    ),
    "long-rule-id": (
        "rules/orders/order-confirmation.yaml",
        2,
        "id: the id is 158 characters long; a rule id has at most 128",
    ),
    "folder-named-like-rule": (
        "rules/shipping/old-rules.yaml",
        1,
        "'old-rules.yaml' is a folder, not a rule file",
    ),
    "on-cap-typo": (
        "rules/policy.yaml",
        2,
        "caps.service.on_cap: 'defr' is not allowed (did you mean 'defer'?); use one of drop, defer",
    ),
    "unknown-cap-channel": (
        "rules/policy.yaml",
        6,
        "caps.service.channels: 'push' is not a channel; caps apply to email and sms",
    ),
    "event-cap-channel": ("rules/policy.yaml", 6, "event actions reach another system"),
    "cap-without-per": ("rules/policy.yaml", 4, "caps.marketing: `max` needs `per`"),
    "channel-cap-never-applies": (
        "rules/policy.yaml",
        5,
        "caps.service: the sms cap in `channels` (5 per 12h) can never apply: the category's own cap "
        "(3 per 1d) is reached first",
    ),
    "expires-after-bad-duration": (
        "rules/shipping/late-shipment.yaml",
        16,
        "expires_after: 'one day' is not a duration",
    ),
    "expires-after-too-short": (
        "rules/shipping/late-shipment.yaml",
        16,
        "`expires_after` 10m is shorter than 15m",
    ),
    "quiet-hours-no-span": (
        "rules/policy.yaml",
        4,
        "quiet_hours: `start` and `end` are both 21:00: that could mean never quiet or always quiet. "
        'Give a span, e.g. start: "21:00", end: "09:00", or remove quiet_hours to have none',
    ),
}


def test_every_fixture_case_has_an_expectation() -> None:
    # GIVEN the broken-rules fixture folders
    # WHEN we list them
    cases = {path.name for path in CASES.iterdir() if path.is_dir()}
    # THEN each one is checked below (and there are at least 15 kinds of mistake)
    assert cases == set(EXPECTED)
    assert len(cases) >= 15


def test_valid_base_catalog_has_no_problems(make_rules: Callable[[str | None], Path]) -> None:
    # GIVEN the valid base catalog
    rules = make_rules(None)
    # WHEN it is validated
    problems = validate_catalog(rules)
    # THEN there is nothing to report
    assert problems == []


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_each_mistake_is_reported_at_its_file_and_line(
    case: str, make_rules: Callable[[str | None], Path]
) -> None:
    # GIVEN the valid base catalog with one mistake
    rules = make_rules(case)
    expected_file, expected_line, fragment = EXPECTED[case]
    # WHEN it is validated
    problems = validate_catalog(rules)
    # THEN the mistake is reported at its file and line, and nothing else is blamed on other files
    assert any(
        p.path == expected_file and p.line == expected_line and fragment in p.message for p in problems
    ), "\n".join(str(p) for p in problems)
    if case != "duplicate-id":
        assert {p.path for p in problems} <= {expected_file} | _same_kind(case, problems)


def _same_kind(case: str, problems: list[Problem]) -> set[str]:
    """Cases whose one mistake rightly shows in several files (a locale missing in every template)."""
    return {p.path for p in problems} if case == "missing-locale" else set()


def test_load_catalog_raises_with_every_problem_of_the_run(make_rules: Callable[[str | None], Path]) -> None:
    # GIVEN a catalog with mistakes in three different files
    rules = make_rules("unknown-key")
    shutil.copytree(CASES / "bad-duration", rules, dirs_exist_ok=True)
    shutil.copytree(CASES / "template-unknown-fact", rules, dirs_exist_ok=True)
    # WHEN it is loaded
    with pytest.raises(CatalogError) as caught:
        load_catalog(rules)
    # THEN the error carries all of them, and its text is the full report
    files = {p.path for p in caught.value.problems}
    assert files == {
        "rules/reviews/negative-review.yaml",
        "rules/shipping/late-shipment.yaml",
        "rules/templates/shipment-delay/zh-Hant.yaml",
    }
    report = str(caught.value)
    assert all(str(problem) in report for problem in caught.value.problems)


def test_one_file_can_hold_several_problems_all_reported(make_rules: Callable[[str | None], Path]) -> None:
    # GIVEN one rule file with a typo'd key, a bad duration and an unknown fact
    rules = make_rules(None)
    (rules / "shipping" / "late-shipment.yaml").write_text(
        "id: late-shipment-notice\n"
        "description: x\n"
        "on: PaymentSucceeded\n"
        "after: 2d3\n"
        "when: {'!': {var: order.shiped_at}}\n"
        "then: [{channel: email, template: shipment-delay}]\n"
        "ownr: me\n",
        encoding="utf-8",
    )
    # WHEN it is validated
    problems = validate_catalog(rules)
    # THEN all three are reported, each at its own line
    assert sorted((p.line, p.message.split(":")[0]) for p in problems) == [
        (4, "after"),
        (5, "when"),
        (7, "unknown key 'ownr' (did you mean 'owner'?)"),
    ]


def test_missing_rules_folder_is_one_clear_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a folder that does not exist
    monkeypatch.chdir(tmp_path)
    # WHEN it is validated
    problems = validate_catalog(tmp_path / "nope")
    # THEN the problem says so
    assert [str(p) for p in problems] == ["nope:1: the rules folder does not exist"]


def test_catalog_indexes_enabled_rules_by_trigger_in_priority_order(
    make_rules: Callable[[str | None], Path],
) -> None:
    # GIVEN the base catalog plus a second, lower-priority OrderPlaced rule
    rules = make_rules(None)
    (rules / "orders" / "welcome.yaml").write_text(
        "id: a-welcome\ndescription: x\non: [OrderPlaced, PaymentSucceeded]\n"
        "then: [{channel: email, template: order-confirmation}]\npriority: -5\n",
        encoding="utf-8",
    )
    # WHEN it is loaded
    catalog = load_catalog(rules)
    # THEN each trigger lists its enabled rules, highest priority first; delayed rules included
    assert [c.id for c in catalog.rules_for("OrderPlaced")] == ["order-confirmation", "a-welcome"]
    assert [c.id for c in catalog.rules_for("PaymentSucceeded")] == ["late-shipment-notice", "a-welcome"]
    assert catalog.rules_for("PaymentSucceeded")[0].is_delayed
    assert catalog.rules_for("TimerFired") == ()
    # AND the disabled rule is loaded and validated, but not indexed
    disabled = catalog.rule("ship-promise-check")
    assert not disabled.rule.enabled
    assert disabled.rule.offset == -timedelta(hours=12)
    assert all(disabled not in rules_ for rules_ in catalog.by_trigger.values())


def test_compiled_rule_knows_its_file_and_line_and_condition(
    make_rules: Callable[[str | None], Path],
) -> None:
    # GIVEN the base catalog
    catalog = load_catalog(make_rules(None))
    # WHEN the negative-review rule is looked up
    compiled = catalog.rule("negative-review-apology")
    # THEN it points at its file and id line, and its compiled condition evaluates the facts
    assert compiled.path.name == "negative-review.yaml"
    assert compiled.line == 2
    assert compiled.condition({"event": {"rating": 1}}) is True
    assert compiled.condition({"event": {"rating": 5}}) is False


def test_unknown_rule_suggests_the_closest_id(make_rules: Callable[[str | None], Path]) -> None:
    # GIVEN the base catalog
    catalog = load_catalog(make_rules(None))
    # WHEN a mistyped id is asked for
    # THEN the error suggests the real one
    with pytest.raises(UnknownRuleError, match="did you mean 'order-confirmation'"):
        catalog.rule("order-confirmaton")


def test_templates_resolve_through_the_locale_chain(make_rules: Callable[[str | None], Path]) -> None:
    # GIVEN the base catalog (templates in en and zh-Hant)
    catalog = load_catalog(make_rules(None))
    # WHEN customer locales are resolved
    # THEN Traditional Chinese variants get zh-Hant; others fall back to en
    assert resolve_locale(catalog, "shipment-delay", "zh-TW") == "zh-Hant"
    assert resolve_locale(catalog, "shipment-delay", "zh-Hans") == "en"
    assert resolve_locale(catalog, "shipment-delay", "en-GB") == "en"
    assert catalog.template("shipment-delay", "zh-HK").sms == "抱歉，訂單 {{ order.id }} 延遲了。"
    with pytest.raises(UnknownTemplateError, match="did you mean 'shipment-delay'"):
        resolve_locale(catalog, "shipment-dela", "en")


def test_version_is_stable_across_folders_and_ignores_non_catalog_files(tmp_path: Path) -> None:
    # GIVEN the same catalog copied to two folders, one with a README and rule tests added
    first = tmp_path / "a" / "rules"
    second = tmp_path / "elsewhere" / "deeper" / "rules"
    shutil.copytree(VALID_BASE, first)
    shutil.copytree(VALID_BASE, second)
    (second / "README.md").write_text("notes", encoding="utf-8")
    (second / "tests").mkdir()
    (second / "tests" / "case.yaml").write_text("cases: []\n", encoding="utf-8")
    # WHEN both are loaded
    # THEN they have the same version, a sha256
    version = load_catalog(first).version
    assert version == load_catalog(second).version
    assert version.startswith("sha256:")
    assert len(version) == len("sha256:") + 64


@pytest.mark.parametrize(
    "relative",
    ["policy.yaml", "templates/shipment-delay/zh-Hant.yaml", "reviews/negative-review.yaml"],
)
def test_version_changes_when_any_catalog_file_changes(tmp_path: Path, relative: str) -> None:
    # GIVEN a catalog and its version
    rules = tmp_path / "rules"
    shutil.copytree(VALID_BASE, rules)
    before = load_catalog(rules).version
    # WHEN one file gains a comment (policy, a template, a rule)
    path = rules / relative
    path.write_text(path.read_text(encoding="utf-8") + "# changed\n", encoding="utf-8")
    # THEN the version changes
    assert load_catalog(rules).version != before


def test_load_catalog_fast_path_still_reports_lines(make_rules: Callable[[str | None], Path]) -> None:
    # GIVEN a catalog with a mistake on line 8 (load_catalog parses without line info first)
    rules = make_rules("unknown-key")
    # WHEN it is loaded
    with pytest.raises(CatalogError) as caught:
        load_catalog(rules)
    # THEN the problem still carries its real line
    assert [str(p) for p in caught.value.problems] == [
        "rules/reviews/negative-review.yaml:8: unknown key 'priorty' (did you mean 'priority'?)"
    ]


def test_load_catalog_matches_full_validation(make_rules: Callable[[str | None], Path]) -> None:
    # GIVEN the valid base catalog
    rules = make_rules(None)
    # WHEN it is loaded on the fast path and built with line tracking
    fast = load_catalog(rules)
    full, problems = build_catalog(rules)
    # THEN both give the same rules (with their lines), templates, policy and version
    assert problems == []
    assert full is not None
    assert fast.version == full.version
    assert {k: v.rule for k, v in fast.rules.items()} == {k: v.rule for k, v in full.rules.items()}
    assert [(c.path, c.line) for c in fast.rules.values()] == [(c.path, c.line) for c in full.rules.values()]
    assert fast.templates == full.templates
    assert fast.policy == full.policy


def test_load_catalog_can_skip_template_linting(make_rules: Callable[[str | None], Path]) -> None:
    # GIVEN a catalog whose template reads an unknown fact (a lint finding, not a structural one)
    rules = make_rules("template-unknown-fact")
    # WHEN it is loaded without template checks, and with them
    catalog = load_catalog(rules, check_templates=False)
    # THEN only the checked load refuses it
    assert catalog.template("shipment-delay", "zh-Hant").body.endswith("{{ order.trackng_url }}\n")
    with pytest.raises(CatalogError, match="trackng_url"):
        load_catalog(rules)
