"""The operations commands: `validate` a rules folder, write the `schema` (`explain` is in explain.py)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.markup import escape

from touchpoints.cli.output import (
    EXIT_PROBLEMS,
    echo_json,
    fail,
    handle_errors,
    stdout_console,
    to_jsonable,
)

if TYPE_CHECKING:
    from touchpoints.catalog import Problem

__all__ = ["schema", "validate"]

_RULES_DIR = click.Path(path_type=Path, file_okay=False)


@click.command()
@click.argument("rules_dir", type=_RULES_DIR, default=Path("rules"), required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (for CI and scripts).")
@handle_errors
def validate(rules_dir: Path, as_json: bool) -> None:
    """Load, type-check and lint the rule files, policy.yaml and templates.

    Every problem is printed as `file:line: message`, all of them in one run. A folder without
    a single rule file is a problem too (usually the wrong folder).
    Exit code 0 when the catalog is valid, 1 when there are problems, 2 when the folder is missing.

    \b
    Examples:
      touchpoints validate                 # ./rules
      touchpoints validate rules/ --json   # machine-readable problems
    """
    from touchpoints.catalog import build_catalog
    from touchpoints.catalog.problems import display_path

    if not rules_dir.is_dir():
        fail(f"{rules_dir}: no such rules folder", hint="run it from the project root or pass RULES_DIR")
    catalog, problems = build_catalog(rules_dir)
    if catalog is not None and not problems and not catalog.rules:
        problems = [_no_rules_problem(rules_dir, display_path(rules_dir))]
    if problems or catalog is None:
        if as_json:
            echo_json({"ok": False, "problems": [problem.to_dict() for problem in problems]})
        else:
            console = stdout_console()
            for problem in problems:
                console.print(f"[bold]{_escape(problem.path)}:{problem.line}:[/] {_escape(problem.message)}")
            files = len({problem.path for problem in problems})
            count = len(problems)
            console.print(f"[red]{_plural(count, 'problem')} in {_plural(files, 'file')}[/]")
        raise click.exceptions.Exit(EXIT_PROBLEMS)
    disabled = sorted(rule_id for rule_id, compiled in catalog.rules.items() if not compiled.rule.enabled)
    summary = {
        "ok": True,
        "rules": len(catalog.rules),
        "disabled": disabled,
        "templates": len(catalog.template_names),
        "locales": catalog.locales,
        "version": catalog.version,
    }
    if as_json:
        echo_json(summary)
        return
    off = f" ({len(disabled)} disabled)" if disabled else ""
    stdout_console().print(
        f"[green]ok[/] {len(catalog.rules)} rules{off}, {len(catalog.template_names)} templates x "
        f"{len(catalog.locales)} locales, policy ok, catalog {catalog.version}"
    )


def _no_rules_problem(rules_dir: Path, shown: str) -> Problem:
    """`RULES_DIR:1: no rule files`, so that `validate events/` or a typo'd folder never passes CI."""
    from touchpoints.catalog import Problem

    return Problem(
        path=shown,
        line=1,
        message=f"no rule files here (*.yaml with an `id`); is {rules_dir} the rules folder?",
    )


@click.command()
@click.argument("rules_dir", type=_RULES_DIR, default=Path("rules"), required=False)
@click.option("--check", is_flag=True, help="Do not write; exit 1 if the committed schemas are out of date.")
@click.option("--json", "as_json", is_flag=True, help="Print each file's status as JSON (for CI).")
@handle_errors
def schema(rules_dir: Path, check: bool, as_json: bool) -> None:
    """Write the JSON Schemas of rule files and policy.yaml into RULES_DIR.

    Rule files point at it with a first line `# yaml-language-server: $schema=../rule.schema.json`
    so editors (VS Code with the YAML extension, IntelliJ) complete keys and flag mistakes as you type.

    \b
    Examples:
      touchpoints schema             # writes rules/rule.schema.json and rules/policy.schema.json
      touchpoints schema --check     # in CI: fail when a model changed but the schema was not rewritten
      touchpoints schema --check --json
    """
    from touchpoints.catalog.problems import display_path
    from touchpoints.catalog.schema import schema_files

    if not rules_dir.is_dir():
        fail(f"{rules_dir}: no such rules folder", hint="run it from the project root or pass RULES_DIR")
    statuses: dict[str, str] = {}
    for path, text in schema_files(rules_dir).items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            statuses[display_path(path)] = "up to date"
        elif check:
            statuses[display_path(path)] = "out of date"
        else:
            path.write_text(text, encoding="utf-8")
            statuses[display_path(path)] = "wrote"
    stale = "out of date" in statuses.values()
    if as_json:
        files = [{"path": shown, "status": status} for shown, status in statuses.items()]
        echo_json({"ok": not stale, "files": files})
    else:
        console = stdout_console()
        styles = {"up to date": "", "out of date": "red", "wrote": "green"}
        for shown, status in statuses.items():
            style = styles[status]
            label = f"[{style}]{status}[/]" if style else status
            console.print(f"{label}{' ' * (12 - len(status))}{shown}")
        if stale:
            console.print("run `touchpoints schema` and commit the result")
    if stale:
        raise click.exceptions.Exit(EXIT_PROBLEMS)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _display(path: Path) -> str:
    from touchpoints.catalog.problems import display_path

    return display_path(path)


def _time(value: Any) -> str:
    return str(to_jsonable(value))


def _escape(text: str) -> str:
    return escape(text)
