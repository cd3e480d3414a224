"""Every example runs as written: the `console` blocks of README.md and rules/README.md, and every
`--help` example of every command, executed on a copy of the checkout and compared with what the
documents say.

A `console` block is a little shell session: `$ command` lines (continued with `\\`, or a heredoc
up to its `EOF`) and, after each, the key lines of its output. Each document's blocks run in
order in one copy of the repository (a walkthrough builds on its earlier steps), by bash, with
the virtualenv on PATH. A command must exit 0 unless the next command is `$ echo $?`, whose output
is then the exit code; each key line must appear in the command's output, in order, compared with
the table borders and repeated spaces of rich's tables removed, `…` standing for any text. Two
spellings are made local to the run: `/tmp/` becomes the run's own temporary folder and the port
4566 a free one, so runs in parallel do not meet. A block preceded by `<!-- doctest: skip (why) -->`
does not run: that is for commands that are the test suite itself or need an AWS account.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from touchpoints.cli.main import COMMANDS
from touchpoints.local import free_port

REPO = Path(__file__).resolve().parents[2]
DOCUMENTS = ["README.md", "rules/README.md"]
COPIED = ["rules", "events", "template.yaml", "README.md", "docs"]
_BORDERS = re.compile(r"[│┃┆┊║┏┓┗┛┡┩┣┫┳┻╇╋━─┼┬┴├┤┌┐└┘╭╮╰╯]")


@dataclass
class Step:
    command: str
    expected: list[str] = field(default_factory=list)


@dataclass
class Block:
    document: str
    line: int
    steps: list[Step]
    skip: str | None = None


def console_blocks(document: str) -> list[Block]:
    """The `console` blocks of a Markdown document, with the skip marker that precedes one."""
    lines = (REPO / document).read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        if lines[index].strip() != "```console":
            index += 1
            continue
        before = next((lines[i] for i in range(index - 1, -1, -1) if lines[i].strip()), "")
        skip = re.match(r"<!-- doctest: skip \((.+)\) -->", before.strip())
        start, body = index + 1, []
        index += 1
        while lines[index].strip() != "```":
            body.append(lines[index])
            index += 1
        blocks.append(Block(document, start, _steps(body), skip.group(1) if skip else None))
        index += 1
    return blocks


def _steps(body: list[str]) -> list[Step]:
    steps: list[Step] = []
    index = 0
    while index < len(body):
        line = body[index]
        if line.startswith("$ "):
            command = line[2:]
            heredoc = re.search(r"<<'?(\w+)'?", command)
            while command.endswith("\\"):
                index += 1
                command = command[:-1] + "\n" + body[index]
            if heredoc:
                while body[index] != heredoc.group(1):
                    index += 1
                    command += "\n" + body[index]
            steps.append(Step(command))
        elif line.strip() and steps:
            steps[-1].expected.append(line)
        index += 1
    return steps


def _normal(text: str) -> str:
    return " ".join(_BORDERS.sub(" ", text).split())


def _matches(expected: str, line: str) -> bool:
    position = 0
    for part in _normal(expected).split("…"):
        found = line.find(part.strip(), position)
        if found < 0:
            return False
        position = found + len(part.strip())
    return True


def assert_key_lines(output: str, expected: list[str], where: str) -> None:
    """Each expected line appears in the output, in order (tables' borders and spacing ignored)."""
    lines = [_normal(line) for line in output.splitlines()]
    position = 0
    for wanted in expected:
        found = next((i for i in range(position, len(lines)) if _matches(wanted, lines[i])), None)
        assert found is not None, f"{where}: {wanted!r} not in the output (after line {position}):\n{output}"
        position = found + 1


@pytest.fixture
def sandbox(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A copy of the checkout's documented files, and the environment the commands run in."""
    root = tmp_path / "repo"
    root.mkdir()
    for name in COPIED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, root / name)
        else:
            shutil.copy(source, root / name)
    (tmp_path / "tmp").mkdir()
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "TMPDIR": str(tmp_path / "tmp"),
        "AWS_ACCESS_KEY_ID": "doc",
        "AWS_SECRET_ACCESS_KEY": "doc",
        "COLUMNS": "400",
    }
    return root, env


def run_steps(steps: list[Step], root: Path, env: dict[str, str], where: str) -> None:
    """Run the steps in one bash session; check each exit code and key lines."""
    port = str(free_port())
    local = {"/tmp/": env["TMPDIR"] + "/", "4566": port}

    def localise(text: str) -> str:
        for spelling, replacement in local.items():
            text = text.replace(spelling, replacement)
        return text

    marker = "@@DOCTEST@@"
    # a background job (`touchpoints demo --keep-running &`) must not outlive a failed step
    script = ["trap 'kill $(jobs -p) 2>/dev/null' EXIT", f"echo '{marker} 0'"]
    for number, step in enumerate(steps):
        script.append(localise(step.command))
        # the next step's marker before `(exit rc)`, so that a following `echo $?` sees this exit code
        script.append(f"__rc=$?; echo '{marker} rc' $__rc; echo '{marker} {number + 1}'; (exit $__rc)")
    result = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = result.stdout + result.stderr
    parts = re.split(rf"^{marker} (\d+)\n", result.stdout, flags=re.MULTILINE)
    outputs: dict[int, tuple[str, int]] = {}
    for number, text in zip(parts[1::2], parts[2::2], strict=True):
        if f"{marker} rc " not in text:
            continue  # the marker after the last step
        body, _, code = text.rpartition(f"{marker} rc ")
        outputs[int(number)] = (body, int(code.split()[0]) if code.strip() else -1)
    for number, step in enumerate(steps):
        assert number in outputs, f"{where}: `{step.command}` did not run:\n{output}"
        text, code = outputs[number]
        following = steps[number + 1].command.strip() if number + 1 < len(steps) else ""
        if following != "echo $?":
            assert code == 0, f"{where}: `{step.command}` exited {code}:\n{text}\n{result.stderr}"
        assert_key_lines(localise_back(text, local), step.expected, f"{where}: `{step.command}`")


def localise_back(text: str, local: dict[str, str]) -> str:
    for spelling, replacement in local.items():
        text = text.replace(replacement, spelling)
    return text


@pytest.mark.parametrize("document", DOCUMENTS)
def test_the_console_blocks_of_a_document_run_as_written(
    document: str, sandbox: tuple[Path, dict[str, str]]
) -> None:
    # GIVEN the document's console blocks, in order, on a copy of the checkout
    blocks = console_blocks(document)
    assert blocks, f"{document} has no console block"
    root, env = sandbox
    # WHEN each block runs (all of a document in one copy: a walkthrough builds on its steps)
    steps = [step for block in blocks if block.skip is None for step in block.steps]
    # THEN every command exits as shown and prints the key lines shown
    run_steps(steps, root, env, document)
    # AND skipping is rare and explained
    skipped = [block for block in blocks if block.skip is not None]
    assert len(skipped) <= 1, [(b.document, b.line, b.skip) for b in skipped]


def test_the_runner_catches_a_wrong_line_and_a_wrong_exit_code(sandbox: tuple[Path, dict[str, str]]) -> None:
    # GIVEN steps whose documented output or exit code is wrong, THEN the runner fails on each
    root, env = sandbox
    with pytest.raises(AssertionError, match="not in the output"):
        run_steps([Step("touchpoints validate", ["ok 99 rules"])], root, env, "wrong line")
    with pytest.raises(AssertionError, match="exited 1"):
        run_steps([Step("touchpoints validate events")], root, env, "wrong code")
    run_steps([Step("touchpoints validate events"), Step("echo $?", ["1"])], root, env, "right code")


# -- every --help example of every command ---------------------------------------------------------

LIVE_ONLY = {"audit", "forget", "redrive", "local", "demo"}
"""Commands whose examples need a deployed table or the live stack: `demo` and the live stack run in
tests/e2e/test_live_stack.py and the walkthrough above; audit/forget/redrive against moto in
tests/e2e/test_cli_audit_demo.py and the integration tier. Their examples are still checked to
name files that exist (tests/unit/cli/test_cli_review.py)."""


def help_examples(command: str) -> list[str]:
    """The example lines of a command's --help (continuations joined), as a user would paste them."""
    result = subprocess.run(
        [str(Path(sys.executable).with_name("touchpoints")), command, "--help"],
        capture_output=True, text=True, check=True, cwd=REPO,
    )  # fmt: skip
    text = result.stdout
    section = text.split("Examples:" if "Examples:" in text else "Example:", 1)[1].split("Options:")[0]
    lines, pending = [], ""
    for raw in section.splitlines():
        line = pending + raw.strip()
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        pending = ""
        if line and not line.startswith("Commands:"):
            lines.append(line.split("  #")[0].strip())
    return [line for line in lines if line]


def _dev_stack_endpoint(request: pytest.FixtureRequest) -> str:
    """The tier's moto server holding the `dev` stage's stack (table touchpoints-dev-decisions), the
    default a `--table` example names: the example then runs as written, AWS_ENDPOINT_URL aside."""
    from touchpoints.local import create_stack, make_clients

    endpoint: str = request.getfixturevalue("endpoint_url")
    clients = make_clients(endpoint)
    existing = clients["dynamodb"].list_tables()["TableNames"]
    if "touchpoints-dev-decisions" not in existing:
        create_stack(REPO / "template.yaml", clients, parameters={"Stage": "dev"})
    return endpoint


@pytest.mark.parametrize("command", sorted(set(COMMANDS) - LIVE_ONLY))
def test_every_help_example_runs_as_written(
    command: str, sandbox: tuple[Path, dict[str, str]], request: pytest.FixtureRequest
) -> None:
    # GIVEN the examples of `touchpoints COMMAND --help`
    examples = help_examples(command)
    assert examples, f"`touchpoints {command} --help` has no examples"
    root, env = sandbox
    if any("--table" in example for example in examples):
        # (an example that reads a deployed table reads the `dev` stack on moto's server)
        env = {**env, "AWS_ENDPOINT_URL": _dev_stack_endpoint(request)}
    # WHEN each runs in the copy of the checkout THEN it exits 0
    run_steps(
        [Step(example) for example in examples if "|" not in example or "jq" not in example],
        root,
        env,
        command,
    )
    assert all(shlex.split(example) for example in examples)
