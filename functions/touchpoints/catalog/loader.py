"""Load a rules folder into a compiled, indexed Catalog, reporting every problem as `file:line: message`."""

from __future__ import annotations

import hashlib
import os
import re
import types
import typing
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from touchpoints.catalog.model import TRIGGER_TYPES, ContactPolicy, Rule
from touchpoints.catalog.problems import CatalogError, Problem, did_you_mean, display_path
from touchpoints.catalog.templates import (
    FactRead,
    Template,
    TemplateFile,
    analyse_template_source,
    iter_template_parts,
    resolve_template_locale,
)
from touchpoints.catalog.yamlsource import YamlDocument, line_of_pointer, load_yaml
from touchpoints.contract.facts import is_fact_path, suggest_fact_path, timestamp_fact_paths
from touchpoints.contract.limits import ID_MAX_LENGTH
from touchpoints.errors import TouchpointsError
from touchpoints.logic import CompiledLogic, LogicError, variable_references
from touchpoints.logic import compile as compile_logic

__all__ = [
    "POLICY_FILE",
    "TEMPLATES_DIR",
    "Catalog",
    "CompiledRule",
    "UnknownRuleError",
    "UnknownTemplateError",
    "build_catalog",
    "load_catalog",
    "resolve_locale",
    "validate_catalog",
]

POLICY_FILE = "policy.yaml"
TEMPLATES_DIR = "templates"
TESTS_DIR = "tests"
_YAML_SUFFIXES = (".yaml", ".yml")
_LOCALE_NAME = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_BACKTICKED = re.compile(r"`([\w-]+)`")
_ID_LINE = re.compile(rb"^id\s*:", re.MULTILINE)


class UnknownRuleError(TouchpointsError, KeyError):
    """Raised when a rule id is asked for that the catalog does not hold (e.g. `explain --rule typo`)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown rule"


class UnknownTemplateError(TouchpointsError, KeyError):
    """Raised when a template (or any locale of it) is asked for that the catalog does not hold."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown template"


@dataclass(frozen=True)
class CompiledRule:
    """A validated rule with its `when` compiled once, and where it came from (for messages)."""

    rule: Rule
    condition: CompiledLogic
    path: Path
    line: int

    @property
    def id(self) -> str:
        """The rule's id (recorded on every decision)."""
        return self.rule.id

    @property
    def is_delayed(self) -> bool:
        """True when the rule decides later (after/at): on its trigger, only a timer is set."""
        return self.rule.is_delayed


@dataclass(frozen=True)
class Catalog:
    """The compiled catalog: rules by id, an index by trigger type, the contact policy and templates.

    Disabled rules are kept in `rules` (so `explain` can still show them) but never indexed, so
    `rules_for` never returns them.
    """

    root: Path
    rules: Mapping[str, CompiledRule]
    policy: ContactPolicy
    templates: Mapping[tuple[str, str], Template]
    version: str
    by_trigger: Mapping[str, tuple[CompiledRule, ...]] = field(init=False)

    def __post_init__(self) -> None:
        index: dict[str, list[CompiledRule]] = {}
        for compiled in self.rules.values():
            if compiled.rule.enabled:
                for trigger in compiled.rule.on:
                    index.setdefault(trigger, []).append(compiled)
        ordered = {
            trigger: tuple(sorted(rules, key=lambda c: (-c.rule.priority, c.rule.id)))
            for trigger, rules in index.items()
        }
        object.__setattr__(self, "by_trigger", types.MappingProxyType(ordered))

    def rules_for(self, detail_type: str) -> Sequence[CompiledRule]:
        """Enabled rules triggered by this detail-type, highest priority first (then by id)."""
        return self.by_trigger.get(detail_type, ())

    def rule(self, rule_id: str) -> CompiledRule:
        """The rule with this id (enabled or not); UnknownRuleError with a suggestion otherwise."""
        try:
            return self.rules[rule_id]
        except KeyError:
            raise UnknownRuleError(
                f"no rule '{rule_id}' in {display_path(self.root)}{did_you_mean(rule_id, self.rules)}"
            ) from None

    @property
    def template_names(self) -> list[str]:
        """Every template folder's name, sorted."""
        return sorted({name for name, _ in self.templates})

    @property
    def locales(self) -> list[str]:
        """Every locale some template exists in, sorted."""
        return sorted({locale for _, locale in self.templates})

    def template(self, name: str, locale: str) -> Template:
        """The template `name` in the closest available locale to `locale` (see `resolve_locale`)."""
        return self.templates[(name, resolve_locale(self, name, locale))]


def resolve_locale(catalog: Catalog, template_name: str, locale: str) -> str:
    """The locale to render `template_name` in for a customer's locale: zh-Hant -> zh -> en, en-GB -> en.

    The chain is the exact locale, the policy's fallbacks for it, its parent tags, then the
    default locale (which validation guarantees every template has).
    """
    resolved = resolve_template_locale(catalog.templates, catalog.policy.locales, template_name, locale)
    if resolved is None:
        raise UnknownTemplateError(
            f"no template '{template_name}'{did_you_mean(template_name, catalog.template_names)}"
        )
    return resolved


def build_catalog(rules_dir: Path | str) -> tuple[Catalog | None, list[Problem]]:
    """Validate and compile in one pass: the catalog (None if anything is wrong) and every problem.

    `validate` uses it to print both the problems and, when there are none, the summary.
    """
    return _CatalogBuilder(Path(rules_dir)).build()


def validate_catalog(rules_dir: Path | str) -> list[Problem]:
    """Every problem in the rules folder (rule files, policy.yaml, templates), sorted by file and line."""
    return _CatalogBuilder(Path(rules_dir)).build()[1]


def load_catalog(rules_dir: Path | str, *, check_templates: bool = True) -> Catalog:
    """Load, validate and compile the rules folder; CatalogError listing every problem if any.

    Built for cold starts: files are parsed with the fast YAML loader first, and only when
    something is wrong is the folder parsed again with line tracking, to say where.
    `check_templates=False` skips linting the template texts (their Jinja2 parse is the costliest
    step) for a runtime that loads a catalog `touchpoints validate` already passed in CI; rendering
    stays sandboxed either way.
    """
    root = Path(rules_dir)
    catalog, problems = _CatalogBuilder(root, track_lines=False, check_templates=check_templates).build()
    if problems or catalog is None:
        catalog, problems = _CatalogBuilder(root, check_templates=check_templates).build()
    if problems or catalog is None:
        raise CatalogError(problems, summary=f"the rules in {display_path(Path(rules_dir))} have problems")
    return catalog


def rule_files(root: Path) -> Iterator[Path]:
    """The rule files of a rules folder, sorted: every YAML file but policy.yaml, templates/, tests/
    and hidden ones (at any depth)."""
    yield from discover_rules(root)[0]


def discover_rules(root: Path) -> tuple[list[Path], list[Path]]:
    """The rule files of a rules folder (as `rule_files`) and its folders named like rule files.

    A folder named `x.yaml` looks like a rule to whoever made it, but holds none: validate
    reports it rather than skipping it in silence (the rule files inside it still load).
    os.walk with the skipped folders pruned, not `rglob("*")`: the same files (symlinked folders
    are not entered either way) ten times faster, which a cold start notices (~1.5 ms).
    """
    top = os.fspath(root)
    found: list[Path] = []
    misnamed: list[Path] = []
    for folder, folders, files in os.walk(top):
        at_top = folder == top
        folders[:] = [
            name
            for name in folders
            if not name.startswith(".") and not (at_top and name in (TESTS_DIR, TEMPLATES_DIR))
        ]
        misnamed.extend(Path(folder, name) for name in folders if name.endswith(_YAML_SUFFIXES))
        for name in files:
            if name.startswith(".") or not name.endswith(_YAML_SUFFIXES) or (at_top and name == POLICY_FILE):
                continue
            path = Path(folder, name)
            if path.is_file():
                found.append(path)
    return sorted(found), sorted(misnamed)


def content_version(contents: Mapping[str, bytes]) -> str:
    """The catalog's version: sha256 over its files' relative paths and bytes, in path order.

    The compiled catalog recomputes it from the files to prove it was built from these sources.
    """
    digest = hashlib.sha256()
    for relative in sorted(contents):
        content = contents[relative]
        digest.update(f"{relative}\0{len(content)}\0".encode())
        digest.update(content)
    return f"sha256:{digest.hexdigest()}"


@dataclass
class _RuleSource:
    document: YamlDocument
    rule: Rule | None = None
    condition: CompiledLogic | None = None


class _CatalogBuilder:
    """One validation run: collects problems from every file instead of stopping at the first."""

    def __init__(self, root: Path, *, track_lines: bool = True, check_templates: bool = True) -> None:
        self.root = root
        self.track_lines = track_lines
        self.check_templates = check_templates
        self.problems: list[Problem] = []
        self.hashed: dict[str, bytes] = {}
        # (template, locale) -> (its file, [(part, line in the file, fact read without a guard)])
        self.template_reads: dict[tuple[str, str], tuple[str, list[tuple[str, int, str]]]] = {}

    def build(self) -> tuple[Catalog | None, list[Problem]]:
        if not self.root.is_dir():
            what = "does not exist" if not self.root.exists() else "is not a folder"
            return None, [Problem(display_path(self.root), 1, f"the rules folder {what}")]
        policy = self._load_policy()
        templates = self._load_templates(policy)
        sources = [self._load_rule(path, policy, templates) for path in self._rule_files()]
        self._check_duplicate_ids(sources)
        self._check_template_reads(sources)
        if self.problems or policy is None:
            return None, sorted(set(self.problems))
        rules: dict[str, CompiledRule] = {}
        for source in sources:
            if source is not None and source.rule is not None and source.condition is not None:
                rules[source.rule.id] = CompiledRule(
                    source.rule, source.condition, source.document.path, self._id_line(source.document)
                )
        return Catalog(self.root, rules, policy, templates, self._version()), []

    def _id_line(self, document: YamlDocument) -> int:
        """The line of a rule's `id:` (found in the text when parsed without line tracking)."""
        if self.track_lines:
            return document.line(("id",))
        match = _ID_LINE.search(document.raw)
        return document.raw[: match.start()].count(b"\n") + 1 if match else 1

    # -- discovery and hashing -------------------------------------------------------------------

    def _rule_files(self) -> Iterator[Path]:
        files, misnamed = discover_rules(self.root)
        for folder in misnamed:
            self.problems.append(
                Problem(
                    display_path(folder),
                    1,
                    f"'{folder.name}' is a folder, not a rule file: rename the folder without "
                    f"{folder.suffix} (rules go in files inside it) or remove it",
                )
            )
        return iter(files)

    def _read(self, path: Path) -> tuple[YamlDocument | None, list[Problem]]:
        document, problems = load_yaml(path, track_lines=self.track_lines)
        if document is not None:
            self.hashed[path.relative_to(self.root).as_posix()] = document.raw
        else:
            self.problems.extend(problems)
        return document, problems

    def _version(self) -> str:
        return content_version(self.hashed)

    # -- policy --------------------------------------------------------------------------------

    def _load_policy(self) -> ContactPolicy | None:
        path = self.root / POLICY_FILE
        if not path.exists():
            return ContactPolicy()
        document, _ = self._read(path)
        if document is None:
            return None
        data = document.data if document.data is not None else {}
        if not isinstance(data, dict):
            self.problems.append(
                document.problem((), "policy.yaml must be a mapping of caps, quiet_hours, ...")
            )
            return None
        try:
            return ContactPolicy.model_validate(data)
        except ValidationError as exc:
            self.problems.extend(_validation_problems(document, exc, ContactPolicy))
            return None

    # -- templates -----------------------------------------------------------------------------

    def _load_templates(self, policy: ContactPolicy | None) -> dict[tuple[str, str], Template]:
        folder = self.root / TEMPLATES_DIR
        templates: dict[tuple[str, str], Template] = {}
        if not folder.is_dir():
            return templates
        for entry in sorted(folder.iterdir()):
            if entry.name.startswith("."):
                continue
            if entry.is_file():
                if entry.suffix in _YAML_SUFFIXES:
                    self.problems.append(
                        Problem(
                            display_path(entry),
                            1,
                            "a template is a folder with one file per locale: move this to "
                            f"{TEMPLATES_DIR}/{entry.stem}/en.yaml",
                        )
                    )
                continue
            for path in sorted(entry.iterdir()):
                if path.is_file() and path.suffix in _YAML_SUFFIXES:
                    template = self._load_template(entry.name, path)
                    if template is not None:
                        templates[(template.name, template.locale)] = template
        if policy is not None:
            self._check_required_locales(folder, templates, policy)
        return templates

    def _load_template(self, name: str, path: Path) -> Template | None:
        document, _ = self._read(path)
        if document is None:
            return None
        locale = path.stem
        if not _LOCALE_NAME.match(locale):
            self.problems.append(
                document.problem(
                    (), f"'{locale}' is not a locale: name the file after one, e.g. en.yaml, zh-Hant.yaml"
                )
            )
            return None
        data = document.data if document.data is not None else {}
        if not isinstance(data, dict):
            self.problems.append(
                document.problem((), "a template file must be a mapping with subject and body")
            )
            return None
        lint_problems: list[Problem] = []
        reads: list[tuple[str, int, str]] = []
        for part, text in iter_template_parts(data) if self.check_templates else ():
            start = _text_start_line(document, part)
            lint = analyse_template_source(text, _check_fact_path)
            for issue in lint.issues:
                lint_problems.append(
                    Problem(document.display, start + issue.line - 1, f"{part}: {issue.message}")
                )
            reads.extend(_event_reads(part, start, lint.unguarded_reads))
        self.template_reads[(name, locale)] = (document.display, reads)
        self.problems.extend(lint_problems)
        try:
            content = TemplateFile.model_validate(data)
        except ValidationError as exc:
            self.problems.extend(_validation_problems(document, exc, TemplateFile))
            return None
        if lint_problems:
            return None
        return Template(
            name=name,
            locale=locale,
            subject=content.subject,
            body=content.body,
            sms=content.sms,
            path=document.display,
        )

    def _check_required_locales(
        self, folder: Path, templates: Mapping[tuple[str, str], Template], policy: ContactPolicy
    ) -> None:
        names = sorted(
            {path.name for path in folder.iterdir() if path.is_dir() and not path.name.startswith(".")}
        )
        present = {(name, locale.lower()) for name, locale in templates}
        existing = {
            (path.parent.name, path.stem.lower())
            for path in folder.glob("*/*")
            if path.is_file() and path.suffix in _YAML_SUFFIXES
        }
        required = policy.locales.required
        for name in names:
            for locale in required:
                if (name, locale.lower()) in present or (name, locale.lower()) in existing:
                    continue
                self.problems.append(
                    Problem(
                        display_path(folder / name / f"{locale}.yaml"),
                        1,
                        f"template '{name}' has no {locale} version "
                        f"(policy.yaml locales.required: {', '.join(required)})",
                    )
                )

    # -- rules ---------------------------------------------------------------------------------

    def _load_rule(
        self, path: Path, policy: ContactPolicy | None, templates: Mapping[tuple[str, str], Template]
    ) -> _RuleSource | None:
        document, _ = self._read(path)
        if document is None:
            return None
        source = _RuleSource(document)
        data = document.data
        if not isinstance(data, dict):
            self.problems.append(
                document.problem((), "a rule file must be a mapping with id, description, on, when, then")
            )
            return source
        rule_problems: list[Problem] = []
        try:
            source.rule = Rule.model_validate(data)
        except ValidationError as exc:
            rule_problems.extend(_validation_problems(document, exc, Rule))
        rule_problems.extend(self._check_timing(document, data))
        if policy is not None:
            rule_problems.extend(_check_group(document, data, policy))
        rule_problems.extend(self._check_actions(document, data, templates))
        condition, logic_problems = _compile_condition(document, data)
        rule_problems.extend(logic_problems)
        self.problems.extend(rule_problems)
        if rule_problems:
            source.rule = None
        source.condition = condition
        return source

    def _check_timing(self, document: YamlDocument, data: Mapping[str, Any]) -> list[Problem]:
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

    def _check_actions(
        self, document: YamlDocument, data: Mapping[str, Any], templates: Mapping[tuple[str, str], Template]
    ) -> list[Problem]:
        actions = data.get("then")
        if not isinstance(actions, list):
            return []
        problems: list[Problem] = []
        names = {name for name, _ in templates}
        on_disk = self._template_folders()
        for index, action in enumerate(actions):
            if not isinstance(action, dict) or not isinstance(action.get("template"), str):
                continue
            name = action["template"]
            location = ("then", index, "template")
            if name not in names:
                if name in on_disk:
                    continue  # the folder exists but its files have problems, reported there
                expected = display_path(self.root / TEMPLATES_DIR / name / "en.yaml")
                problems.append(
                    document.problem(
                        location,
                        f"template '{name}' does not exist (expected {expected})"
                        + did_you_mean(name, on_disk),
                    )
                )
            elif action.get("channel") == "sms":
                without_sms = sorted(
                    loc for (tname, loc), t in templates.items() if tname == name and t.sms is None
                )
                if without_sms:
                    problems.append(
                        document.problem(
                            location,
                            f"template '{name}' has no `sms` text in {', '.join(without_sms)}, "
                            "but this sms action uses it",
                        )
                    )
        return problems

    def _template_folders(self) -> set[str]:
        folder = self.root / TEMPLATES_DIR
        if not folder.is_dir():
            return set()
        return {path.name for path in folder.iterdir() if path.is_dir() and not path.name.startswith(".")}

    def _check_template_reads(self, sources: Sequence[_RuleSource | None]) -> None:
        """Each rule's templates (every locale) may read only `event.*` facts its triggers carry.

        The template linter sees one file and no rules; this pass joins the two, so an unguarded
        `{{ event.rating }}` in a template an OrderPlaced rule sends fails here, not at send time
        (where the action would be recorded `failed`). Reported at the template's line.
        """
        for source in sources:
            data = source.document.data if source is not None else None
            if not isinstance(data, dict) or not isinstance(data.get("id"), str):
                continue
            triggers = _known_triggers(data)
            actions = data.get("then")
            if not triggers or not isinstance(actions, list):
                continue
            names = dict.fromkeys(
                action["template"]
                for action in actions
                if isinstance(action, dict) and isinstance(action.get("template"), str)
            )
            for name in names:
                for (template, _), (display, reads) in sorted(self.template_reads.items()):
                    if template != name:
                        continue
                    for part, line, path in reads:
                        if is_fact_path(path) and not is_fact_path(path, triggers):
                            self.problems.append(
                                Problem(display, line, _uncarried_message(part, path, data["id"], triggers))
                            )

    def _check_duplicate_ids(self, sources: Sequence[_RuleSource | None]) -> None:
        first: dict[str, tuple[str, int]] = {}
        for source in sources:
            if source is None or not isinstance(source.document.data, dict):
                continue
            rule_id = source.document.data.get("id")
            if not isinstance(rule_id, str):
                continue
            line = source.document.line(("id",))
            if rule_id in first:
                where, where_line = first[rule_id]
                self.problems.append(
                    Problem(
                        source.document.display,
                        line,
                        f"duplicate rule id '{rule_id}': also defined in {where}:{where_line}",
                    )
                )
                source.rule = None
            else:
                first[rule_id] = (source.document.display, line)


def _check_fact_path(path: str, detail_types: Sequence[str] | None = None) -> str | None:
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


def _event_reads(part: str, start: int, reads: Sequence[FactRead]) -> Iterator[tuple[str, int, str]]:
    """The unguarded `event.*` reads of one template part, at their lines in the template file."""
    for read in reads:
        if read.path.startswith("event."):
            yield part, start + read.line - 1, read.path


def _uncarried_message(part: str, path: str, rule_id: str, triggers: Sequence[str]) -> str:
    return (
        f"{part}: '{path}' is not carried by {' or '.join(triggers)} events "
        f"(rule {rule_id} uses this template); guard it with {{% if {path} is defined %}} "
        "or use a fact every trigger has"
    )


def _known_triggers(data: Mapping[str, Any]) -> list[str]:
    """The rule's `on` types that exist (misspelt ones are reported elsewhere), as a list."""
    triggers = data.get("on")
    triggers = [triggers] if isinstance(triggers, str) else triggers
    return [t for t in triggers if t in TRIGGER_TYPES] if isinstance(triggers, list) else []


def _check_group(document: YamlDocument, data: Mapping[str, Any], policy: ContactPolicy) -> list[Problem]:
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


def _compile_condition(
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
    known = _known_triggers(data)
    for reference in variable_references(logic):
        if reference.path == "":
            continue
        message = _check_fact_path(reference.path, known or None)
        if message is not None:
            line = line_of_pointer(document.tree, ["when"], reference.pointer)
            problems.append(Problem(document.display, line, f"when: {message}"))
    return (None if problems else condition), problems


def _text_start_line(document: YamlDocument, key: str) -> int:
    """The line where the text of `key` begins (the line after `key: |` for a block scalar)."""
    tree = document.tree
    try:
        value_line = int(tree.lc.value(key)[0]) + 1
    except (AttributeError, KeyError, TypeError):
        return document.line((key,))
    value = tree.get(key)
    style = getattr(value, "style", None) if not isinstance(value, str) else None
    is_block = type(value).__name__ in ("LiteralScalarString", "FoldedScalarString") or style in ("|", ">")
    return value_line + 1 if is_block else value_line


# -- pydantic errors -> problems -----------------------------------------------------------------


def _validation_problems(
    document: YamlDocument, exc: ValidationError, model: type[BaseModel]
) -> list[Problem]:
    return [_error_problem(document, error, model) for error in exc.errors(include_url=False)]


def _error_problem(document: YamlDocument, error: ErrorDetails, model: type[BaseModel]) -> Problem:
    location: list[str | int] = list(error["loc"])
    kind = error["type"]
    where = _dotted(location)
    if kind == "extra_forbidden":
        key = str(location[-1])
        allowed = _field_names(model, location[:-1])
        inside = f" in {_dotted(location[:-1])}" if location[:-1] else ""
        return document.problem(location, f"unknown key '{key}'{inside}{did_you_mean(key, allowed)}")
    if kind == "missing":
        inside = f" in {_dotted(location[:-1])}" if location[:-1] else ""
        return document.problem(location, f"missing required key '{location[-1]}'{inside}")
    if kind == "literal_error":
        return document.problem(location, _literal_message(where, error))
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "string_pattern_mismatch" and location and location[-1] == "id":
        message = (
            f"'{error['input']}' is not a valid id: use lowercase letters, digits and '-' "
            "(kebab-case), e.g. late-shipment-notice"
        )
    elif kind == "string_too_long" and location == ["id"]:
        message = (
            f"the id is {len(str(error['input']))} characters long; a rule id has at most "
            f"{ID_MAX_LENGTH} (the rule's timers carry it, and the event contract rejects longer ids)"
        )
    elif kind in ("value_error", "assertion_error"):
        location = _hinted_location(document, location, message)
    elif kind.endswith(("_type", "_parsing")):
        message = f"{message} (got {error['input']!r})"
    return document.problem(location, f"{where}: {message}" if where else message)


def _literal_message(where: str, error: ErrorDetails) -> str:
    given = error["input"]
    expected = str((error.get("ctx") or {}).get("expected", ""))
    choices = re.findall(r"'([^']*)'", expected)
    if where.startswith("on") and given == "TimerFired":
        return "on: TimerFired is internal; to decide later use `after: 48h` or `at: <timestamp fact>`"
    if where.startswith("on"):
        return (
            f"on: unknown event type '{given}'{did_you_mean(str(given), TRIGGER_TYPES)}; known: "
            + ", ".join(TRIGGER_TYPES)
        )
    hint = did_you_mean(str(given), choices)
    return f"{where}: '{given}' is not allowed{hint}; use one of {', '.join(choices)}"


def _hinted_location(document: YamlDocument, location: list[str | int], message: str) -> list[str | int]:
    """For a whole-object error ("set either `after` or `at`"), point at the first named key present."""
    node: Any = document.data
    for part in location:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return location
    if not isinstance(node, dict):
        return location
    present = [key for key in _BACKTICKED.findall(message) if key in node]
    return [*location, present[0]] if present else location


def _dotted(location: Sequence[str | int]) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _field_names(model: type[BaseModel], location: Sequence[str | int]) -> list[str]:
    """The keys allowed at `location` inside `model` (for "did you mean" on an unknown key)."""
    current: type[BaseModel] | None = model
    skip = 0
    for part in location:
        if skip:
            skip -= 1
            continue
        if current is None:
            return []
        field_info = next(
            (f for name, f in current.model_fields.items() if part in (name, f.alias)),
            None,
        )
        if field_info is None:
            return []
        current, skip = _inner_model(field_info.annotation)
    if current is None:
        return []
    return [f.alias or name for name, f in current.model_fields.items()]


def _inner_model(annotation: Any) -> tuple[type[BaseModel] | None, int]:
    """The model inside e.g. `list[ActionSpec] | None`, and how many containers wrap it."""
    origin = typing.get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, 0
    if origin in (typing.Union, types.UnionType):
        for argument in typing.get_args(annotation):
            found, depth = _inner_model(argument)
            if found is not None:
                return found, depth
        return None, 0
    if origin in (list, dict, tuple, Sequence, Mapping):
        arguments = typing.get_args(annotation)
        if arguments:
            found, depth = _inner_model(arguments[-1])
            return found, depth + 1
    if origin is typing.Annotated:
        return _inner_model(typing.get_args(annotation)[0])
    return None, 0
