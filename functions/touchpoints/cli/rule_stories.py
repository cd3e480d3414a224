"""`expect_story` in rule test cases: every record one action went through, in order.

An action that waits (quiet hours, a cap that defers) is decided again when it is released, so
it leaves several records under one action id: `scheduled` at T1, then `pending`, `scheduled`
again or `suppressed` at T2. `expect` finds single records; a story pins the whole sequence:

    expect_story:
      - rule: payment-unresolved-reminder
        channel: sms
        steps:
          - {status: scheduled, reason: quiet_hours, send_at: 2026-03-03T14:00:00Z}
          - {status: suppressed, reason: resolved, released_at: 2026-03-03T14:00:00Z}

`rule` (with optional `channel`, `order`, `trigger`) selects the actions; at least one must
exist, and each one's records must match `steps` one for one (a step names only the fields it
checks), so the last step is the action's final status.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from touchpoints.contract import DecisionRecord

__all__ = ["SELECTORS", "STEP_FIELDS", "check_stories", "parse_stories"]

SELECTORS: Mapping[str, str] = {
    "rule": "rule_id",
    "channel": "channel",
    "order": "order_id",
    "trigger": "trigger",
}
"""Keys that pick the actions a story is about -> the record field each one is compared with."""
STEP_FIELDS = ("status", "reason", "send_at", "decided_at", "released_at", "template", "locale")
"""Keys a step may check (expectation fields of the same name)."""

Problem = Callable[..., Exception]
Matches = Callable[["DecisionRecord", Mapping[str, Any]], bool]


def parse_stories(
    value: Any, problem: Problem, unknown_value: Callable[[Mapping[str, Any]], tuple[str, str] | None]
) -> list[dict[str, Any]]:
    """The case's `expect_story` list, checked; `problem(message, *where)` names the line of a mistake."""
    if not isinstance(value, list) or not all(isinstance(story, dict) for story in value):
        raise problem(
            "`expect_story` is a list of {rule, channel, steps: [{status, reason}, ...]}", "expect_story"
        )
    for number, story in enumerate(value):
        where = ("expect_story", number)
        unknown = sorted(set(story) - {*SELECTORS, "steps"})
        if unknown:
            known = ", ".join([*SELECTORS, "steps"])
            raise problem(f"unknown story key(s) {', '.join(unknown)}; known: {known}", *where, unknown[0])
        if "rule" not in story:
            raise problem("a story names the `rule` whose action it follows", *where)
        wrong = unknown_value(story)
        if wrong is not None:
            raise problem(wrong[1], *where, wrong[0])
        steps = story.get("steps")
        if not isinstance(steps, list) or not steps or not all(isinstance(step, dict) for step in steps):
            raise problem(
                "`steps` is a non-empty list such as [{status: scheduled}, {status: pending}]", *where
            )
        for index, step in enumerate(steps):
            bad = sorted(set(step) - set(STEP_FIELDS))
            if bad:
                raise problem(
                    f"unknown step field(s) {', '.join(bad)}; known: {', '.join(STEP_FIELDS)}",
                    *where,
                    "steps",
                    index,
                )
            wrong = unknown_value(step)
            if wrong is not None:
                raise problem(wrong[1], *where, "steps", index, wrong[0])
    return value


def check_stories(
    stories: Sequence[Mapping[str, Any]], records: Sequence[DecisionRecord], matches: Matches
) -> list[str]:
    """One failure message per story that no action follows, or that a selected action departs from."""
    failures: list[str] = []
    for story in stories:
        selector = {key: story[key] for key in SELECTORS if key in story}
        actions: dict[str, list[DecisionRecord]] = {}
        for record in records:
            if all(getattr(record, SELECTORS[key]) == wanted for key, wanted in selector.items()):
                actions.setdefault(record.action_id, []).append(record)
        name = "/".join(str(v) for v in selector.values())
        steps = story["steps"]
        if not actions:
            failures.append(f"expected the story of {name}: {_steps(steps)}; no such action was decided")
            continue
        for action in actions.values():
            if len(action) != len(steps) or not all(map(matches, action, steps)):
                got = " -> ".join(_step(r.status, r.reason) for r in action)
                failures.append(f"expected the story of {name}: {_steps(steps)}; got {got}")
    return failures


def _steps(steps: Sequence[Mapping[str, Any]]) -> str:
    return " -> ".join(_step(step.get("status", "*"), step.get("reason")) for step in steps)


def _step(status: Any, reason: Any) -> str:
    return f"{status}: {reason}" if reason else str(status)
