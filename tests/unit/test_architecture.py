"""The house's shape, enforced: the core imports no AWS library, and every import points down a floor.

Layers, bottom to top (docs/ARCHITECTURE.md): the base (errors, timestamps, construct), logic,
contract, journey and catalog, policy, outcome/ports/erasure, commit, decide, service, simulator; beside
them the edges: adapters, handlers, settings, local (the moto emulation) and cli. `ALLOWED` says,
for each top-level module or package of `touchpoints`, which others it may import; an arrow not in
the table fails the test, naming the file and line. A new module must be given a row.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest
from tests.support.imports import Import, module_files, module_imports, package_imports

PACKAGE = Path(__file__).resolve().parents[2] / "functions" / "touchpoints"
CORE = [
    "errors.py",
    "timestamps.py",
    "construct.py",
    "logic",
    "catalog",
    "contract",
    "eventfiles.py",
    "journey",
    "policy",
    "outcome.py",
    "ports.py",
    "erasure.py",
    "commit.py",
    "experiments.py",
    "outcomes.py",
    "decide.py",
    "simulator.py",
    "service.py",
]
FORBIDDEN = ("boto3", "botocore", "aws_lambda_powertools", "moto", "aws_xray_sdk")

# Each floor may import its own floor and the floors below it; "" is the package's __init__.
_BASE = frozenset({"", "errors", "timestamps", "construct"})
_LOGIC = _BASE | {"logic"}
_CONTRACT = _LOGIC | {"contract"}
_CATALOG = _CONTRACT | {"catalog"}
_JOURNEY = _CONTRACT | {"journey"}
_POLICY = _CATALOG | _JOURNEY | {"policy"}
# The core's types and ports, and what a commit writes (computed in the core for every store).
_TYPES = _POLICY | {"outcome", "ports", "erasure", "commit", "experiments", "outcomes"}
_DECIDE = _TYPES | {"decide"}
_SERVICE = _DECIDE | {"service"}
_RUNTIME = _SERVICE | {"adapters", "settings", "handlers"}

ALLOWED: Mapping[str, frozenset[str]] = {
    "": frozenset(),  # touchpoints/__init__.py runs before every module: it imports nothing of ours
    "errors": _BASE,
    "timestamps": _BASE,
    "construct": _BASE,
    "logic": _LOGIC,
    "contract": _CONTRACT,
    "catalog": _CATALOG,
    "journey": _JOURNEY,
    "policy": _POLICY,
    "outcome": _TYPES,
    "ports": _TYPES,
    "erasure": _TYPES,
    "commit": _TYPES,
    "experiments": _TYPES,
    "outcomes": _TYPES,
    "decide": _DECIDE,
    "service": _SERVICE,
    # The one reader of event files: the contract's parser and the catalog's display of paths.
    "eventfiles": _CATALOG | {"eventfiles"},
    "simulator": _SERVICE | {"simulator", "adapters", "eventfiles"},  # the service on in-memory adapters
    "settings": _BASE | {"settings"},
    # The adapters serialise what the core computed: never the decision function or anything above.
    "adapters": _TYPES | {"adapters"},
    "handlers": _RUNTIME,  # Powertools wiring; never the CLI or the local emulation
    "local": _RUNTIME | {"local", "simulator", "eventfiles"},
    # The report: the simulator or the production table, read into numbers and one HTML page.
    "report": _RUNTIME | {"simulator", "report", "eventfiles"},
    "cli": _RUNTIME | {"local", "simulator", "report", "cli", "eventfiles"},
}

# Arrows that break the table today, each with the work that removes it. Delete the entry with
# that work: the test fails while an entry is listed that no import needs any more.
KNOWN_EXCEPTIONS: Mapping[tuple[str, str], str] = {}


def layer_of(module: str) -> str:
    """The top-level module or package of `touchpoints` a dotted name belongs to ("" for the root)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def arrows(imports: list[Import], package: str) -> list[tuple[str, str, Import]]:
    """(from layer, to layer, import) for every import of the package's own modules between layers."""
    found = []
    for item in imports:
        if item.target == package or item.target.startswith(package + "."):
            source, target = layer_of(item.module), layer_of(item.target)
            if source != target:
                found.append((source, target, item))
    return found


def violations(
    imports: list[Import],
    package: str,
    allowed: Mapping[str, frozenset[str]],
    exceptions: Mapping[tuple[str, str], str],
) -> list[str]:
    """Every arrow the table does not allow, as `module:line imports target (from -> to)`."""
    problems = []
    for source, target, item in arrows(imports, package):
        if source not in allowed:
            problems.append(f"{item.module} has no row in ALLOWED: give its layer one")
        elif target not in allowed[source] and (source, target) not in exceptions:
            problems.append(f"{item.module}:{item.line} imports {item.target} ({source} -> {target})")
    return sorted(set(problems))


def _core_files() -> list[Path]:
    files: list[Path] = []
    for name in CORE:
        path = PACKAGE / name
        if path.is_dir():
            files.extend(sorted(path.rglob("*.py")))
        elif path.exists():
            files.append(path)
    return files


def test_core_modules_exist() -> None:
    # GIVEN the package layout of docs/ARCHITECTURE.md
    # WHEN we list the core's files
    files = _core_files()
    # THEN there is a core to check (this test must not pass vacuously)
    assert len(files) >= 5


@pytest.mark.parametrize("path", _core_files(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_core_module_imports_no_aws_library(path: Path) -> None:
    # GIVEN a module of the pure core
    # WHEN we read its imports (including ones inside functions)
    module = next(name for name, file in module_files(PACKAGE).items() if file == path)
    imported = {i.target for i in module_imports(path.read_text(encoding="utf-8"), module, is_package=False)}
    # THEN none of them is an AWS SDK, Powertools or moto
    offending = sorted(m for m in imported if m.split(".")[0] in FORBIDDEN)
    assert offending == [], f"{path.name} imports {offending}: AWS belongs in adapters/ and handlers/"


def test_every_import_between_the_packages_modules_points_down_the_table() -> None:
    # GIVEN every import written in the package (module level and inside functions)
    imports = package_imports(PACKAGE)
    # WHEN each arrow between two layers is checked against ALLOWED
    problems = violations(imports, "touchpoints", ALLOWED, KNOWN_EXCEPTIONS)
    # THEN there is none the table forbids (the scan saw the package: adapters import the ports)
    assert ("adapters", "ports") in {(s, t) for s, t, _ in arrows(imports, "touchpoints")}
    assert problems == [], "imports against the house's direction:\n" + "\n".join(problems)


def test_every_known_exception_is_still_needed() -> None:
    # GIVEN the arrows the package draws today
    drawn = {(s, t) for s, t, _ in arrows(package_imports(PACKAGE), "touchpoints")}
    # WHEN the known exceptions are compared with them
    stale = {edge: why for edge, why in KNOWN_EXCEPTIONS.items() if edge not in drawn}
    # THEN each is still drawn (delete an exception once its work is done)
    assert stale == {}


def test_every_layer_in_the_package_has_a_row() -> None:
    # GIVEN the package's top-level modules and packages
    layers = {layer_of(name) for name in module_files(PACKAGE)}
    # WHEN compared with the table
    # THEN each has a row (a new module is placed on a floor when it is added)
    assert layers - set(ALLOWED) == set()
    assert {"adapters", "handlers", "cli", "local", "decide", "service"} <= layers


# The scanner itself, on a small package made for it.
_SYNTHETIC = {
    "__init__.py": "",
    "low.py": "import os\nVALUE = 1\n",
    "mid.py": "from . import low\nfrom .low import VALUE\n",
    "high/__init__.py": "from .. import mid\nfrom . import leaf\n",
    "high/leaf.py": (
        "import pkg.low as low_alias\n"
        "def later():\n"
        "    from ..mid import low\n"
        "    from pkg.high import leaf\n"
        "    import json, pkg.mid\n"
    ),
}


def _synthetic(tmp_path: Path, extra: Mapping[str, str] | None = None) -> Path:
    root = tmp_path / "pkg"
    for name, text in {**_SYNTHETIC, **(extra or {})}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def test_the_scanner_resolves_relative_lazy_and_from_imports(tmp_path: Path) -> None:
    # GIVEN a package with absolute, relative (one and two dots), from-module and function-level imports
    root = _synthetic(tmp_path)
    # WHEN it is scanned
    found = {(i.module, i.target, i.line) for i in package_imports(root)}
    # THEN every import is seen with its absolute target: `from x import y` names the module x.y
    # when there is one, x when y is a name defined in x
    assert found == {
        ("pkg.low", "os", 1),
        ("pkg.mid", "pkg.low", 1),
        ("pkg.mid", "pkg.low", 2),
        ("pkg.high", "pkg.mid", 1),
        ("pkg.high", "pkg.high.leaf", 2),
        ("pkg.high.leaf", "pkg.low", 1),
        ("pkg.high.leaf", "pkg.mid", 3),
        ("pkg.high.leaf", "pkg.high.leaf", 4),
        ("pkg.high.leaf", "json", 5),
        ("pkg.high.leaf", "pkg.mid", 5),
    }
    assert set(module_files(root)) == {"pkg", "pkg.low", "pkg.mid", "pkg.high", "pkg.high.leaf"}


def test_the_check_fails_when_an_arrow_points_up(tmp_path: Path) -> None:
    # GIVEN the synthetic package's floors (low < mid < high), and one import added inside a function
    allowed = {
        "": frozenset(),
        "low": frozenset({"low"}),
        "mid": frozenset({"low"}),
        "high": frozenset({"low", "mid"}),
    }
    clean = package_imports(_synthetic(tmp_path / "clean"))
    upward = "import os\nVALUE = 1\ndef late():\n    from .high import leaf\n"
    broken = package_imports(_synthetic(tmp_path / "broken", {"low.py": upward}))
    # WHEN both are checked against the table
    # THEN the package as made passes, the added arrow fails naming its line, and an exception lets it pass
    assert violations(clean, "pkg", allowed, {}) == []
    assert violations(broken, "pkg", allowed, {}) == ["pkg.low:4 imports pkg.high.leaf (low -> high)"]
    assert violations(broken, "pkg", allowed, {("low", "high"): "why"}) == []
    assert violations(broken, "pkg", {"": frozenset()}, {}) == [
        "pkg.high has no row in ALLOWED: give its layer one",
        "pkg.high.leaf has no row in ALLOWED: give its layer one",
        "pkg.low has no row in ALLOWED: give its layer one",
        "pkg.mid has no row in ALLOWED: give its layer one",
    ]
