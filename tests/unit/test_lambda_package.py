"""The functions' code package holds the runtime and nothing else: no CLI, no moto emulation, no tests.

`sam build` builds both functions with the Makefile (template.yaml: `BuildMethod: makefile`):
`build-<Function>` runs `lambda-runtime` (the package copied and pruned), `lambda-dependencies`
(pip, for the Lambda platform) and `lambda-bytecode`. This test runs `lambda-runtime` as sam does
(from functions/, into an empty folder; offline) and checks what would ship, then imports the two
handlers from that folder alone in a fresh interpreter.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest
from tests.support.imports import import_closure, module_files

from touchpoints.local.template import load_template

REPO_ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = REPO_ROOT / "functions"
HANDLERS = ["touchpoints.handlers.process_events", "touchpoints.handlers.dispatch"]
NOT_RUNTIME = ["touchpoints.cli", "touchpoints.local", "touchpoints.report"]
MAKEFILE_BUILD = {"BuildMethod": "makefile", "BuildArchitecture": "arm64", "ContextPath": "."}

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="the build target needs make")


def _make(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", "-f", str(REPO_ROOT / "Makefile"), *args],
        cwd=FUNCTIONS,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `lambda-runtime` puts in an empty ARTIFACTS_DIR (the dependencies are pip's, not ours)."""
    out = tmp_path_factory.mktemp("artifacts")
    done = _make("lambda-runtime", f"ARTIFACTS_DIR={out}")
    assert done.returncode == 0, done.stderr
    return out


def _functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    resources: dict[str, dict[str, Any]] = template["Resources"]
    return {name: r for name, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}


def test_both_functions_are_built_by_the_makefile_from_functions() -> None:
    # GIVEN the template
    template = load_template(REPO_ROOT / "template.yaml")
    functions = _functions(template)
    # WHEN we read how each function's code is built
    # THEN both come from functions/ through the root Makefile's build-<Function> target
    assert set(functions) == {"ProcessEventsFunction", "DispatchFunction"}
    assert template["Globals"]["Function"]["CodeUri"] == "functions/"
    for name, resource in functions.items():
        assert "CodeUri" not in resource["Properties"], name
        assert resource["Metadata"] == {
            "BuildMethod": "makefile",
            "BuildArchitecture": "arm64",
            "ContextPath": ".",
        }


@pytest.mark.parametrize("function", ["ProcessEventsFunction", "DispatchFunction"])
def test_the_build_target_copies_the_runtime_then_installs_and_compiles(function: str) -> None:
    # GIVEN sam's call of the function's target, as a dry run (`make -n` still expands the sub-makes)
    done = _make("-n", f"build-{function}", "ARTIFACTS_DIR=/artifacts", "LAMBDA_PYTHON=python3.13")
    assert done.returncode == 0, done.stderr
    commands = done.stdout
    # WHEN we read the commands it would run
    steps = [
        commands.find(s)
        for s in ("cp -R touchpoints", "rm -rf cli local report", "pip install", "compileall")
    ]
    # THEN the runtime is copied and pruned, then the dependencies are installed for Lambda, then compiled
    assert -1 not in steps, commands
    assert steps == sorted(steps), commands
    assert re.search(r"--platform manylinux2014_aarch64 .*--python-version 3\.13", commands), commands
    assert '--target "/artifacts"' in commands
    assert f'-r "{FUNCTIONS}/requirements.txt"' in commands


def test_the_package_holds_no_cli_emulation_tests_metadata_or_caches(package: Path) -> None:
    # GIVEN the built folder
    files = [p.relative_to(package).as_posix() for p in package.rglob("*")]
    # WHEN we look for what must not ship
    unwanted = [
        f
        for f in files
        if f.startswith(("touchpoints/cli", "touchpoints/local", "touchpoints/report"))
        or re.search(r"(^|/)(tests?|__pycache__|[^/]+\.egg-info)(/|$)", f)
        or f.endswith((".pyc", ".pyo"))
    ]
    # THEN there is none of it, and the one top-level entry is the package
    assert unwanted == []
    assert sorted(p.name for p in package.iterdir()) == ["touchpoints"]


def test_the_package_holds_the_handlers_whole_import_closure(package: Path) -> None:
    # GIVEN every module the handlers can reach, imports inside functions included (read from source)
    closure = import_closure(FUNCTIONS / "touchpoints", HANDLERS)
    shipped = set(module_files(package / "touchpoints"))
    # WHEN compared with what ships
    # THEN all of it ships, and none of it is the CLI or the emulation
    assert set(HANDLERS) <= closure
    assert closure - shipped == set()
    assert {m for m in closure if any(m == n or m.startswith(n + ".") for n in NOT_RUNTIME)} == set()


_IMPORT = """
import json, sys
sys.path[:0] = [{package!r}]
sys.path += {site!r}
import touchpoints.handlers.process_events, touchpoints.handlers.dispatch
from touchpoints.handlers.runtime import build_runtime
build_runtime()
ours = {{n: m for n, m in sys.modules.items() if n.split(".")[0] == "touchpoints"}}
print(json.dumps({{n: getattr(m, "__file__", None) for n, m in ours.items()}}))
"""


def test_the_handlers_import_and_build_their_runtime_from_the_package_alone(package: Path) -> None:
    # GIVEN a fresh interpreter without site (the checkout's editable install is not on its path),
    # with the built folder first and the dependencies of this virtualenv after it
    site = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "PYTHON"))}
    env.update(
        {
            "TABLE_NAME": "package-test",
            "RULES_DIR": str(REPO_ROOT / "rules"),
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "PYDANTIC_DISABLE_PLUGINS": "__all__",
        }
    )
    # WHEN both handlers are imported and the runtime (catalog, adapters) is built
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", _IMPORT.format(package=str(package), site=site)],
        capture_output=True,
        text=True,
        env=env,
        cwd=package,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    loaded: dict[str, str | None] = json.loads(done.stdout)
    # THEN it works, every module of ours came from the package, and the CLI and emulation never loaded
    assert "touchpoints.catalog.loader" in loaded
    outside = {n: f for n, f in loaded.items() if f is None or not Path(f).is_relative_to(package)}
    assert outside == {}
    assert [
        n for n in loaded if n.startswith(("touchpoints.cli", "touchpoints.local", "touchpoints.report"))
    ] == []
