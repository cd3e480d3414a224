"""Shared terminal output for every command: colour on a terminal only, JSON, errors without tracebacks."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn, ParamSpec, TypeVar

import click
from rich.console import Console
from rich.markup import escape

from touchpoints.errors import TouchpointsError

__all__ = [
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_OUTPUT_CLOSED",
    "EXIT_PROBLEMS",
    "EXIT_USAGE",
    "echo_json",
    "echo_json_lines",
    "fail",
    "handle_errors",
    "print_error",
    "stderr_console",
    "stdout_console",
    "to_jsonable",
]

EXIT_OK = 0
"""The command did what was asked and found nothing wrong."""
EXIT_PROBLEMS = 1
"""The command ran and found problems (invalid rules, failing tests)."""
EXIT_USAGE = 2
"""The command could not run: bad arguments or unreadable input (same code click uses)."""
EXIT_INTERRUPTED = 130
"""Stopped by Ctrl-C (128 + SIGINT, as shells report it); distinct from 1, which means problems found."""
EXIT_OUTPUT_CLOSED = 141
"""The reader of stdout went away (`| head`): 128 + SIGPIPE, as shell tools report it."""

P = ParamSpec("P")
R = TypeVar("R")


def stdout_console() -> Console:
    """A console on the current stdout; colour and styling only when stdout is a terminal.

    Created per call (not at import) so that click's test runner, which swaps `sys.stdout`,
    captures the output, and so that piping to a file or `grep` never gets escape codes.
    Long lines are not wrapped: `file:line: message` must stay on one line for editors and CI.
    """
    return _Console(file=sys.stdout, highlight=False, soft_wrap=True, width=_width(sys.stdout))


class _Console(Console):
    """A rich console whose closed pipe ends the command like every other closed stdout (code 141).

    rich's own handler exits with 1, which in this tool means "problems found".
    """

    def on_broken_pipe(self) -> None:
        """Stop quietly: the reader (`| head`) has all it wanted."""
        self.quiet = True
        _silence_stdout()
        raise click.exceptions.Exit(EXIT_OUTPUT_CLOSED)


def _width(stream: Any) -> int | None:
    """Terminals report their own width; pipes and CI logs get a wide default (or `COLUMNS`).

    rich falls back to 80 columns off a terminal, which folds the decision tables of `simulate`
    and `demo` into unreadable two-line cells in CI logs and `| less`.
    """
    isatty = getattr(stream, "isatty", None)
    if isatty is not None and isatty():
        return None
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() else 160


def stderr_console() -> Console:
    """A console on the current stderr, for errors and warnings (same colour rule as stdout)."""
    return _Console(file=sys.stderr, highlight=False, soft_wrap=True, width=_width(sys.stderr))


def to_jsonable(value: Any) -> Any:
    """Convert what our models and dataclasses hold into plain JSON values (for `--json`)."""
    if isinstance(value, datetime):
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [to_jsonable(v) for v in items]
    model_dump = getattr(value, "model_dump", None)
    if callable(model_dump):
        return to_jsonable(model_dump(mode="json", by_alias=True))
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_jsonable(to_dict())
    return value


def echo_json(value: Any) -> None:
    """Print one JSON document (indented) on stdout, without rich markup, for a machine to read."""
    click.echo(json.dumps(to_jsonable(value), indent=2, ensure_ascii=False))


def echo_json_lines(values: Iterable[Any]) -> None:
    """Print one compact JSON document per line (JSON Lines), for streams such as decision records."""
    for value in values:
        click.echo(json.dumps(to_jsonable(value), ensure_ascii=False, separators=(",", ":")))


def print_error(message: str, *, hint: str | None = None) -> None:
    """Print `error: message` (red on a terminal) on stderr, plus an optional hint line."""
    console = stderr_console()
    console.print(f"[bold red]error:[/] {_escape(message)}")
    if hint:
        console.print(f"[dim]hint:[/] {_escape(hint)}")


def fail(message: str, *, exit_code: int = EXIT_USAGE, hint: str | None = None) -> NoReturn:
    """Print an error and stop the command with `exit_code` (2 by default: bad input or usage)."""
    print_error(message, hint=hint)
    raise click.exceptions.Exit(exit_code)


def handle_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Decorate a click command so our deliberate errors end it with a message, never a traceback.

    `TouchpointsError` (bad rule files, bad events, ...) and `OSError` (a missing or unreadable
    file) exit with code 2 and the error's message. Click's own usage errors and exits pass
    through untouched, so click keeps printing its usage text. Ctrl-C ends with `interrupted`
    and code 130 (click would say `Aborted!` and exit 1, the code that means "problems found");
    a closed stdout (`touchpoints simulate --json | head`) ends quietly with code 141. Anything
    else is a bug and keeps its traceback on purpose.
    """

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except KeyboardInterrupt:
            print_error("interrupted")
            raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
        except BrokenPipeError:
            _silence_stdout()
            raise click.exceptions.Exit(EXIT_OUTPUT_CLOSED) from None
        except TouchpointsError as exc:
            fail(str(exc))
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            fail(f"{where}{exc.strerror or exc}")

    return wrapper


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail a second time.

    This is what the Python documentation recommends for SIGPIPE (`signal` module, "Note on
    SIGPIPE"). Under click's test runner stdout has no file descriptor; nothing to do then.
    """
    try:
        descriptor = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, descriptor)
    os.close(devnull)


def _escape(text: str) -> str:
    """Escape rich markup in user-provided text (rule ids or YAML snippets may contain brackets)."""
    return escape(text)
