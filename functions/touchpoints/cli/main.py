"""The root `touchpoints` command group, with commands imported only when they run."""

from __future__ import annotations

import importlib
import importlib.util

import click

from touchpoints import __version__

# name -> "module:attribute". Each command family lives in its own module so that `--help`
# and the commands an operations person runs most stay fast (no boto3 import for `validate`).
COMMANDS: dict[str, str] = {
    "validate": "touchpoints.cli.ops:validate",
    "test": "touchpoints.cli.rule_tests:test",
    "explain": "touchpoints.cli.explain:explain",
    "schema": "touchpoints.cli.ops:schema",
    "rules": "touchpoints.cli.rules_overview:rules",
    "simulate": "touchpoints.cli.simulate:simulate",
    "diff": "touchpoints.cli.simulate:diff",
    "preview": "touchpoints.cli.preview:preview",
    "demo": "touchpoints.cli.demo:demo",
    "local": "touchpoints.cli.local_control:local",
    "audit": "touchpoints.cli.audit:audit",
    "forget": "touchpoints.cli.forget:forget",
    "redrive": "touchpoints.cli.redrive:redrive",
    "report": "touchpoints.cli.report:report",
}


def _is_available(target: str) -> bool:
    module = target.split(":", 1)[0]
    return importlib.util.find_spec(module) is not None


class LazyGroup(click.Group):
    """A click group that imports a command's module only when that command is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name, target in COMMANDS.items() if _is_available(target))

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """Click's lookup, with "Did you mean 'simulate'?" for a typo (click only knows eager commands)."""
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.NoSuchCommand as exc:
            raise click.exceptions.NoSuchCommand(
                exc.command_name, possibilities=self.list_commands(ctx), ctx=ctx
            ) from None

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None or not _is_available(target):
            return None
        module_name, attribute = target.split(":", 1)
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):  # pragma: no cover - a wiring mistake
            raise TypeError(f"{target} is not a click command")
        return command


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="touchpoints")
def cli() -> None:
    """Touchpoints: proactive customer-care messages driven by the order journey.

    \b
    Operations teams:   rules, validate, test, explain, simulate, diff, preview, report
    Developers:         demo (the whole pipeline on emulated AWS; --keep-running: live), local,
                        audit, forget, redrive, schema

    Run `touchpoints COMMAND --help` for examples. Add --json for machine-readable output.

    \b
    Exit codes:  0 ok
                 1 problems found (validate, test, schema --check)
                 2 bad arguments or unreadable input (the error names the file)
                 130 interrupted (Ctrl-C), 141 output closed early (| head)
    """


def main() -> None:
    """Console-script entry point."""
    cli()
