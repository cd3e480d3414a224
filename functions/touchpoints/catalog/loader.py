"""Load a rules folder into a compiled, indexed Catalog, reporting every problem as `file:line: message`."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from touchpoints.catalog.catalog import Catalog, CompiledRule
from touchpoints.catalog.checks import (
    check_fact_path,
    check_group,
    check_timing,
    compile_condition,
    event_reads,
    known_triggers,
    null_reads,
    uncarried_message,
)
from touchpoints.catalog.errortext import validation_problems
from touchpoints.catalog.model import ContactPolicy, Rule
from touchpoints.catalog.problems import CatalogError, Problem, did_you_mean, display_path
from touchpoints.catalog.sources import (
    POLICY_FILE,
    TEMPLATES_DIR,
    YAML_SUFFIXES,
    content_version,
    discover_rules,
)
from touchpoints.catalog.templates import Template, TemplateFile, analyse_template_source, iter_template_parts
from touchpoints.catalog.yamlsource import YamlDocument, load_yaml, text_start_line
from touchpoints.contract.facts import is_fact_path
from touchpoints.logic import CompiledLogic

__all__ = ["build_catalog", "load_catalog", "validate_catalog"]

_LOCALE_NAME = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_ID_LINE = re.compile(rb"^id\s*:", re.MULTILINE)


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
        self._check_experiment_names(sources)
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
            self.problems.extend(validation_problems(document, exc, ContactPolicy))
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
                if entry.suffix in YAML_SUFFIXES:
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
                if path.is_file() and path.suffix in YAML_SUFFIXES:
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
            start = text_start_line(document, part)
            lint = analyse_template_source(text, check_fact_path)
            for issue in lint.issues:
                lint_problems.append(
                    Problem(document.display, start + issue.line - 1, f"{part}: {issue.message}")
                )
            reads.extend(event_reads(part, start, lint.unguarded_reads))
            for line, message in null_reads(part, start, lint.unguarded_reads):
                lint_problems.append(Problem(document.display, line, message))
        self.template_reads[(name, locale)] = (document.display, reads)
        self.problems.extend(lint_problems)
        try:
            content = TemplateFile.model_validate(data)
        except ValidationError as exc:
            self.problems.extend(validation_problems(document, exc, TemplateFile))
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
            if path.is_file() and path.suffix in YAML_SUFFIXES
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
                document.problem(
                    (), "a rule file must be a mapping with id, description, on and then (when is optional)"
                )
            )
            return source
        rule_problems: list[Problem] = []
        try:
            source.rule = Rule.model_validate(data)
        except ValidationError as exc:
            rule_problems.extend(validation_problems(document, exc, Rule))
        rule_problems.extend(check_timing(document, data))
        if policy is not None:
            rule_problems.extend(check_group(document, data, policy))
        rule_problems.extend(self._check_actions(document, data, templates))
        condition, logic_problems = compile_condition(document, data)
        rule_problems.extend(logic_problems)
        self.problems.extend(rule_problems)
        if rule_problems:
            source.rule = None
        source.condition = condition
        return source

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
            triggers = known_triggers(data)
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
                                Problem(display, line, uncarried_message(part, path, data["id"], triggers))
                            )

    def _check_experiment_names(self, sources: Sequence[_RuleSource | None]) -> None:
        """An experiment name is the assignment's hash seed: two rules sharing one would share arms."""
        first: dict[str, tuple[str, int]] = {}
        for source in sources:
            data = source.document.data if source is not None else None
            experiment = data.get("experiment") if isinstance(data, dict) else None
            name = experiment.get("name") if isinstance(experiment, dict) else None
            if source is None or not isinstance(name, str):
                continue
            line = source.document.line(("experiment", "name"))
            if name in first:
                where, where_line = first[name]
                self.problems.append(
                    Problem(
                        source.document.display,
                        line,
                        f"duplicate experiment name '{name}': also used in {where}:{where_line}; "
                        "each experiment needs its own name (it seeds who is held out)",
                    )
                )
            else:
                first[name] = (source.document.display, line)

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
