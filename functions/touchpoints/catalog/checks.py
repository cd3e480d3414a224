"""Checks of one rule file that need only its document: fact paths, `when`, `at`, groups, template reads.

The builder (`loader`) runs them on every rule file and template and collects their problems.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from touchpoints.catalog.comparisons import impossible_comparisons
from touchpoints.catalog.model import TRIGGER_TYPES, ContactPolicy
from touchpoints.catalog.problems import Problem, did_you_mean
from touchpoints.catalog.templates import FactRead
from touchpoints.catalog.yamlsource import YamlDocument, line_of_pointer
from touchpoints.contract.facts import is_fact_path, is_nullable_fact, suggest_fact_path, timestamp_fact_paths
from touchpoints.logic import CompiledLogic, LogicError, variable_references
from touchpoints.logic import compile as compile_logic

__all__ = [
    "check_fact_path",
    "check_group",
    "check_timing",
    "compile_condition",
    "event_reads",
    "known_triggers",
    "null_reads",
    "uncarried_message",
]


def check_fact_path(path: str, detail_types: Sequence[str] | None = None) -> str | None:
    """The message for a template or rule that reads something that is not a fact, else None.

    With the rule's trigger types, an `event.*` field those events never carry is reported too
    (a ShipmentDelayed rule reading `event.rating` would never match).
    """
    if is_fact_path(path):
        if detail_types is None or is_fact_path(path, detail_types):
            return None
        return f"'{path}' is not carried by {' or '.join(detail_types)} events"
    suggestion = suggest_fact_path(path)
    hint = f" (did you mean '{suggestion}'?)" if suggestion else ""
    return f"'{path}' is not a fact{hint}; see the facts table in rules/README.md"


def event_reads(part: str, start: int, reads: Sequence[FactRead]) -> Iterator[tuple[str, int, str]]:
    """The unguarded `event.*` reads of one template part, at their lines in the template file."""
    for read in reads:
        if read.path.startswith("event."):
            yield part, start + read.line - 1, read.path


def null_reads(part: str, start: int, reads: Sequence[FactRead]) -> Iterator[tuple[int, str]]:
    """(line in the template file, problem) for each fact a part prints that may be null, unguarded.

    Printed as is, a null would reach the customer as "None, we are sorry" (and is refused at send
    time, `template_error`): the fix is a guard around the sentence or a default.
    """
    for read in reads:
        if read.printed and is_fact_path(read.path) and is_nullable_fact(read.path):
            yield (
                start + read.line - 1,
                f"{part}: '{read.path}' may be null (the facts table says so) and would print as "
                f'"None"; guard it with {{% if {read.path} %}}...{{% endif %}} or write '
                f'{{{{ {read.path} | default("...") }}}}',
            )


def uncarried_message(part: str, path: str, rule_id: str, triggers: Sequence[str]) -> str:
    return (
        f"{part}: '{path}' is not carried by {' or '.join(triggers)} events "
        f"(rule {rule_id} uses this template); guard it with {{% if {path} is defined %}} "
        "or use a fact every trigger has"
    )


def known_triggers(data: Mapping[str, Any]) -> list[str]:
    """The rule's `on` types that exist (misspelt ones are reported elsewhere), as a list."""
    triggers = data.get("on")
    triggers = [triggers] if isinstance(triggers, str) else triggers
    return [t for t in triggers if t in TRIGGER_TYPES] if isinstance(triggers, list) else []


def check_group(document: YamlDocument, data: Mapping[str, Any], policy: ContactPolicy) -> list[Problem]:
    group = data.get("group")
    if not isinstance(group, str) or group in policy.groups:
        return []
    declared = ", ".join(sorted(policy.groups)) or "none"
    return [
        document.problem(
            ("group",),
            f"group '{group}' is not declared in policy.yaml (declared: {declared})"
            f"{did_you_mean(group, policy.groups)}",
        )
    ]


def compile_condition(
    document: YamlDocument, data: Mapping[str, Any]
) -> tuple[CompiledLogic | None, list[Problem]]:
    """Compile `when` once; unknown operators, bad arity and unknown facts point at their own line."""
    logic = data.get("when", True)
    try:
        condition = compile_logic(logic)
    except LogicError as exc:
        line = line_of_pointer(document.tree, ["when"], getattr(exc, "pointer", "") or "")
        return None, [Problem(document.display, line, f"when: {exc}")]
    problems: list[Problem] = []
    known = known_triggers(data)
    for reference in variable_references(logic):
        if reference.path == "":
            continue
        message = check_fact_path(reference.path, known or None)
        if message is not None:
            line = line_of_pointer(document.tree, ["when"], reference.pointer)
            problems.append(Problem(document.display, line, f"when: {message}"))
    for pointer, message in impossible_comparisons(logic):
        line = line_of_pointer(document.tree, ["when"], pointer)
        problems.append(Problem(document.display, line, f"when: {message}"))
    return (None if problems else condition), problems


def check_timing(document: YamlDocument, data: Mapping[str, Any]) -> list[Problem]:
    """`at:` must name a timestamp fact (a rule cannot wait for a number or a string)."""
    at = data.get("at")
    if not isinstance(at, str):
        return []
    timestamps = timestamp_fact_paths()
    if at in timestamps:
        return []
    return [
        document.problem(
            ("at",),
            f"at: '{at}' is not a timestamp fact{did_you_mean(at, timestamps)}; "
            f"order timestamps are {', '.join(sorted(t for t in timestamps if t.startswith('order.')))}",
        )
    ]
