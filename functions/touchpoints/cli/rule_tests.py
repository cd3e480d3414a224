"""`touchpoints test`: run the rule test cases in RULES_DIR/tests/*.yaml through the simulator."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.markup import escape

from touchpoints.cli.inputs import RULES_DIR, open_catalog
from touchpoints.cli.output import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    echo_json,
    fail,
    handle_errors,
    print_error,
    stdout_console,
)
from touchpoints.cli.rule_content import (
    CONTENT_FIELDS,
    bad_content,
    closest_messages,
    content_holds,
    render_failures,
)
from touchpoints.cli.rule_files import event_file, test_targets
from touchpoints.cli.rule_stories import check_stories, parse_stories
from touchpoints.errors import TouchpointsError

if TYPE_CHECKING:
    from touchpoints.catalog import Catalog
    from touchpoints.cli.messages import MessagePreview
    from touchpoints.contract import DecisionRecord, Event

__all__ = [
    "EXPECTATION_FIELDS",
    "CaseResult",
    "RuleTestCase",
    "RuleTestFileError",
    "load_test_file",
    "run_case",
    "test",
]

EXPECTATION_FIELDS: Mapping[str, str] = {
    "rule": "rule_id",
    "channel": "channel",
    "status": "status",
    "reason": "reason",
    "template": "template",
    "locale": "locale",
    "send_at": "send_at",
    "decided_at": "decided_at",
    "released_at": "released_at",
    "order": "order_id",
    "trigger": "trigger",
}
"""Keys an expectation may use -> the decision record field each one is compared with."""

_CASE_KEYS = {
    "name",
    "order_id",
    "customer",
    "events",
    "until",
    "expect",
    "expect_not",
    "expect_count",
    "expect_story",
}
_SHORT_KEYS = {"type", "time", "detail", "id", "source", "account", "region"}


class RuleTestFileError(TouchpointsError):
    """Raised when a rule test file cannot be read or does not follow the test-case format."""


@dataclass(frozen=True)
class RuleTestCase:
    """One case of a rule test file, with its events already expanded into envelopes."""

    name: str
    path: Path
    line: int
    events: list[dict[str, Any]]
    until: datetime | None = None
    expect: list[dict[str, Any]] = field(default_factory=list)
    expect_not: list[dict[str, Any]] = field(default_factory=list)
    expect_count: dict[str, int] = field(default_factory=dict)
    expect_story: list[dict[str, Any]] = field(default_factory=list)
    """Whole stories of actions (deferred, then released or suppressed): see cli/rule_stories.py."""


@dataclass
class CaseResult:
    """What running a case gave: pass or fail, why it failed, and every record it produced."""

    case: RuleTestCase
    failures: list[str] = field(default_factory=list)
    records: list[DecisionRecord] = field(default_factory=list)
    messages: dict[str, MessagePreview] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """True when every expectation held."""
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of one case in `touchpoints test --json`."""
        return {
            "file": str(self.case.path),
            "line": self.case.line,
            "name": self.case.name,
            "passed": self.passed,
            "failures": self.failures,
            "records": self.records,
            "messages": {action_id: m.to_dict() for action_id, m in self.messages.items()},
        }


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "case"


def load_test_file(path: Path) -> list[RuleTestCase]:
    """Read one test file; RuleTestFileError names the file, the line and what is wrong."""
    from touchpoints.catalog.yamlsource import load_yaml

    document, problems = load_yaml(path)
    if document is None:
        raise RuleTestFileError("; ".join(str(p) for p in problems))
    data = document.data
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        raise RuleTestFileError(
            f"{document.display}:1: a rule test file holds `cases:`, a list of test cases"
        )
    cases: list[RuleTestCase] = []
    for index, raw in enumerate(data["cases"]):
        line = document.line(["cases", index])

        def problem(message: str, *where: str | int, _index: int = index) -> RuleTestFileError:
            return RuleTestFileError(
                f"{document.display}:{document.line(['cases', _index, *where])}: {message}"
            )

        if not isinstance(raw, dict):
            raise problem("a test case is a mapping with name, events and expect")
        unknown = sorted(set(raw) - _CASE_KEYS)
        if unknown:
            raise problem(
                f"unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(_CASE_KEYS))}", unknown[0]
            )
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():
            raise problem("every case needs a `name`")
        events_raw = raw.get("events")
        if not isinstance(events_raw, list) or not events_raw:
            raise problem(f"case '{name}' needs `events`, a non-empty list", "events")
        events = [
            _expand_event(item, n, raw, path, _slug(name), problem)
            for n, item in enumerate(events_raw, start=1)
        ]
        _inject_customer(events, raw.get("customer"))
        for key in ("expect", "expect_not"):
            value = raw.get(key, [])
            if not isinstance(value, list) or not all(isinstance(e, dict) for e in value):
                raise problem(f"`{key}` is a list of mappings such as {{rule: x, status: pending}}", key)
            for number, expectation in enumerate(value):
                bad = sorted(set(expectation) - set(EXPECTATION_FIELDS) - set(CONTENT_FIELDS))
                if bad:
                    known = ", ".join([*EXPECTATION_FIELDS, *CONTENT_FIELDS])
                    raise problem(
                        f"unknown expectation field(s) {', '.join(bad)}; known: {known}", key, number
                    )
                wrong = _unknown_value(expectation) or bad_content(expectation)
                if wrong is not None:
                    raise problem(wrong[1], key, number, wrong[0])
        counts = raw.get("expect_count", {})
        if not isinstance(counts, dict) or not all(isinstance(v, int) for v in counts.values()):
            raise problem(
                "`expect_count` maps rule ids to numbers, e.g. {payment-failed-recovery: 1}", "expect_count"
            )
        until = raw.get("until")
        stories = parse_stories(raw["expect_story"], problem, _unknown_value) if "expect_story" in raw else []
        cases.append(
            RuleTestCase(
                name=name,
                path=path,
                line=line,
                events=events,
                until=_parse_time(until, problem) if until is not None else None,
                expect=raw.get("expect", []),
                expect_not=raw.get("expect_not", []),
                expect_count={str(k): int(v) for k, v in counts.items()},
                expect_story=stories,
            )
        )
    return cases


_VALUES = ("status", "reason", "channel")
"""Expectation fields whose values the contract enumerates: a typo there would never match."""


def _unknown_value(expectation: Mapping[str, Any]) -> tuple[str, str] | None:
    """(field, message) for a status, reason or channel the contract does not have, else None.

    Without this check `expect_not: [{status: supresed}]` passes forever: nothing can match a typo.
    """
    from typing import get_args

    from touchpoints.catalog.problems import did_you_mean
    from touchpoints.contract import Channel, DecisionReason, DecisionStatus

    allowed: dict[str, tuple[Any, ...]] = {
        "status": get_args(DecisionStatus),
        "reason": (*get_args(DecisionReason), None),
        "channel": get_args(Channel),
    }
    for field_name in _VALUES:
        value = expectation.get(field_name)
        if field_name in expectation and value not in allowed[field_name]:
            names = [str(v) for v in allowed[field_name] if v is not None]
            return field_name, (
                f"{field_name}: {value!r} is not a decision {field_name}"
                f"{did_you_mean(str(value), names)}; one of {', '.join(names)}"
            )
    return None


def _unknown_rules(case: RuleTestCase, catalog: Catalog) -> list[str]:
    """Rule ids the case's expectations name but the catalog does not have (typos, renamed rules).

    Such an expectation can never be checked: `expect_not` and `expect_count: {x: 0}` would pass.
    """
    from touchpoints.catalog.problems import did_you_mean

    named = [e["rule"] for e in (*case.expect, *case.expect_not, *case.expect_story) if "rule" in e]
    named += list(case.expect_count)
    unknown = sorted({str(rule_id) for rule_id in named if rule_id not in catalog.rules})
    return [
        f"no rule '{rule_id}' in the catalog{did_you_mean(rule_id, catalog.rules)}: "
        "an expectation on it could never fail"
        for rule_id in unknown
    ]


def _parse_time(value: Any, problem: Any) -> datetime:
    from touchpoints.contract import parse_timestamp

    try:
        return parse_timestamp(value)
    except ValueError as exc:
        raise problem(f"`until` {value!r} is not an RFC 3339 time: {exc}", "until") from None


def _expand_event(
    item: Any, number: int, case: Mapping[str, Any], path: Path, slug: str, problem: Any
) -> dict[str, Any]:
    """A short-form event (type, time, detail) or a `file:` envelope, with the case's order id injected."""
    if not isinstance(item, dict):
        raise problem("each event is a mapping: {type, time, detail} or {file: path}", "events", number - 1)
    if "file" in item:
        envelope = event_file(path.parent / str(item["file"]), problem, number)
    else:
        unknown = sorted(set(item) - _SHORT_KEYS)
        if unknown or "type" not in item or "time" not in item:
            raise problem(
                "a short-form event has `type` and `time` (plus `detail`, optionally `id`, `source`)"
                + (f"; unknown: {', '.join(unknown)}" if unknown else ""),
                "events",
                number - 1,
            )
        envelope = {
            "version": "0",
            "id": str(item.get("id", f"{slug}-{number}")),
            "detail-type": item["type"],
            "source": item.get("source", "tests"),
            "account": item.get("account", "000000000000"),
            "time": item["time"],
            "region": item.get("region", "us-east-1"),
            "resources": [],
            "detail": dict(item.get("detail") or {}),
        }
    detail = envelope.setdefault("detail", {})
    if isinstance(detail, dict) and "order_id" in case and "order_id" not in detail:
        detail["order_id"] = case["order_id"]
    return envelope


def _inject_customer(events: list[dict[str, Any]], customer: Any) -> None:
    """Give the case's customer to events without one, except on orders that name their own customer.

    A case may follow two orders of two customers: once an event of an order carries its own
    `customer`, later events of that order keep it (as the journey would) instead of the case's.
    """
    if customer is None:
        return
    own: set[Any] = set()
    for envelope in events:
        detail = envelope.get("detail")
        if not isinstance(detail, dict):
            continue
        order_id = detail.get("order_id")
        if "customer" in detail:
            if detail["customer"] != customer:
                own.add(order_id)
        elif order_id not in own:
            detail["customer"] = customer


def _matches(record: DecisionRecord, expectation: Mapping[str, Any]) -> bool:
    from touchpoints.contract import parse_timestamp

    for key, wanted in expectation.items():
        if key in CONTENT_FIELDS:
            continue  # the message: content_holds
        got = getattr(record, EXPECTATION_FIELDS[key])
        if isinstance(got, datetime):
            try:
                if parse_timestamp(wanted) != got:
                    return False
            except ValueError:
                return False
        elif got != wanted:
            return False
    return True


def _describe(expectation: Mapping[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in expectation.items()) + "}"


def run_case(case: RuleTestCase, catalog: Catalog) -> CaseResult:
    """Simulate the case's events (timers up to `until`) and check every expectation."""
    from touchpoints.cli.messages import replay_with_messages
    from touchpoints.contract import InvalidEventError, parse_event
    from touchpoints.simulator import Simulator

    result = CaseResult(case=case)
    result.failures.extend(_unknown_rules(case, catalog))
    if result.failures:
        return result
    events: list[Event] = []
    for number, raw in enumerate(case.events, start=1):
        try:
            events.append(parse_event(raw))
        except InvalidEventError as exc:
            result.failures.append(f"event {number} is malformed: {exc}")
    if result.failures:
        return result
    simulator = Simulator(catalog)
    messages = result.messages
    result.records = list(replay_with_messages(simulator, simulator.run(events, case.until), messages))
    for expectation in case.expect:
        close = [r for r in result.records if _matches(r, expectation)]
        if not any(content_holds(messages.get(r.action_id), expectation) for r in close):
            result.failures.append(
                f"expected a decision matching {_describe(expectation)}, found none"
                + closest_messages(close, messages, expectation)
            )
    result.failures.extend(render_failures(result.records, messages))
    for expectation in case.expect_not:
        hits = [
            r
            for r in result.records
            if _matches(r, expectation) and content_holds(messages.get(r.action_id), expectation)
        ]
        if hits:
            result.failures.append(
                f"expected no decision matching {_describe(expectation)}, found {len(hits)}"
            )
    actions: dict[str, set[str]] = {}
    for record in result.records:
        actions.setdefault(record.rule_id, set()).add(record.action_id)
    counts = Counter({rule_id: len(ids) for rule_id, ids in actions.items()})
    for rule_id, wanted in case.expect_count.items():
        if counts[rule_id] != wanted:
            result.failures.append(f"expected {wanted} decision(s) of rule {rule_id}, got {counts[rule_id]}")
    result.failures.extend(check_stories(case.expect_story, result.records, _matches))
    return result


@click.command()
@click.argument("targets", nargs=-1, type=click.Path(path_type=Path), metavar="[RULES_DIR | TEST_FILE...]")
@click.option(
    "--rules",
    "rules_option",
    type=RULES_DIR,
    help="The catalog to test (default: RULES_DIR, or the folder above a test file's tests/).",
)
@click.option("-k", "keyword", help="Run only the cases whose name contains this text (case-insensitive).")
@click.option("--json", "as_json", is_flag=True, help="Print the results as one JSON document.")
@handle_errors
def test(targets: tuple[Path, ...], rules_option: Path | None, keyword: str | None, as_json: bool) -> None:
    """Run the rule test cases in RULES_DIR/tests/*.yaml (default ./rules), or in the given test files.

    Each case replays its events through the catalog in memory and checks the decisions it
    expects (and those it must not see, and with `expect_story` every record an action that
    waited went through, in order), and the messages pending actions would send (as Dispatch
    renders them: subject_contains, body_contains, not_contains); a message that would fail to
    render fails its case. Exit 0 when all pass, 1 when one fails, 2 when a test file is
    unreadable (named before the results, counted in the summary) or -k selects no case.

    \b
    Examples:
      touchpoints test
      touchpoints test rules -k payment
      touchpoints test rules/tests/payments.yaml
    """
    rules_dir, files = test_targets(targets, rules_option)
    catalog = open_catalog(rules_dir, "RULES_DIR" if rules_option is None else "--rules")
    cases: list[RuleTestCase] = []
    unreadable: list[str] = []
    for path in files:
        try:
            cases.extend(load_test_file(path))
        except RuleTestFileError as exc:
            print_error(str(exc))
            unreadable.append(str(path))
    if keyword:
        cases = [case for case in cases if keyword.lower() in case.name.lower()]
        if not cases and not unreadable:
            # pytest's habit (exit 5): a filter that selects nothing is a mistake, not a pass.
            fail(
                f"no test case name contains {keyword!r}", hint="`touchpoints test` without -k runs them all"
            )
    results = [run_case(case, catalog) for case in cases]
    if as_json:
        echo_json(
            {
                "passed": sum(r.passed for r in results),
                "failed": sum(not r.passed for r in results),
                "unreadable": unreadable,
                "cases": [r.to_dict() for r in results],
            }
        )
    else:
        _print_results(results, unreadable)
    if unreadable:
        raise click.exceptions.Exit(EXIT_USAGE)
    raise click.exceptions.Exit(EXIT_OK if all(r.passed for r in results) else EXIT_PROBLEMS)


def _print_results(results: Sequence[CaseResult], unreadable: Sequence[str] = ()) -> None:
    from touchpoints.cli.tables import records_table

    console = stdout_console()
    for result in results:
        mark = "[green]PASS[/]" if result.passed else "[bold red]FAIL[/]"
        console.print(
            f"{mark} {escape(result.case.name)} [dim]({escape(str(result.case.path))}:{result.case.line})[/]"
        )
        if result.passed:
            continue
        for failure in result.failures:
            console.print(f"     [red]{escape(failure)}[/]")
        if result.records:
            console.print(records_table(result.records, title="decisions produced", messages=result.messages))
        else:
            console.print("     [dim](no decisions were produced)[/]")
    passed = sum(r.passed for r in results)
    failed = len(results) - passed
    colour = "green" if not failed and not unreadable else "red"
    skipped = (
        f"; {len(unreadable)} test file(s) unreadable, their cases did not run: {', '.join(unreadable)}"
        if unreadable
        else ""
    )
    console.print(f"[{colour}]{passed} passed, {failed} failed{escape(skipped)}[/]")
