"""The compiled catalog: a rules folder, validated at build time, as one JSON file the Lambda loads fast.

`touchpoints validate` checks the catalog in CI, and the catalog layer's build (`sam build` runs
`make build-CatalogLayer`, which runs `python -m touchpoints.catalog DIR`) validates it once
more, templates included, and writes `catalog.compiled.json` next to the rules: the validated
rules, policy and templates, the catalog's version (the content hash of its files) and a
fingerprint of the code that wrote it.
At a cold start `load_compiled_catalog` reads that file instead of parsing YAML and validating
every rule file with pydantic (so neither ruamel.yaml nor the rule models' validators are needed)
and only compiles the `when` conditions, as any load does.

A compiled file is used only when it provably describes these sources: its recorded version must
equal the hash of the files in the folder now (hashed exactly as a full load hashes them), the
template folders must be the same, and it must come from this code. Otherwise, or when the file
is missing or unreadable, the caller does the normal full load, so a stale or foreign file can
never change what the Lambda decides; at worst it is not used.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Mapping
from datetime import time, timedelta
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from touchpoints.catalog.catalog import Catalog, CompiledRule
from touchpoints.catalog.loader import load_catalog
from touchpoints.catalog.model import (
    ActionSpec,
    Cap,
    ChannelCap,
    ContactPolicy,
    Experiment,
    GroupPolicy,
    Limit,
    Locales,
    QuietHours,
    Rule,
)
from touchpoints.catalog.problems import CatalogError, Problem, display_path
from touchpoints.catalog.sources import (
    POLICY_FILE,
    TEMPLATES_DIR,
    YAML_SUFFIXES,
    content_version,
    discover_rules,
)
from touchpoints.catalog.templates import Template
from touchpoints.errors import TouchpointsError
from touchpoints.logic import compile as compile_logic

__all__ = [
    "COMPILED_FILE",
    "code_fingerprint",
    "compile_catalog",
    "load_compiled_catalog",
    "source_version",
    "write_compiled_catalog",
]

COMPILED_FILE = "catalog.compiled.json"
"""The compiled catalog's file name, at the root of the rules folder (of the layer, /opt in Lambda)."""

_FORMAT = 1
_Model = TypeVar("_Model", bound=BaseModel)

# The modules whose code decides what a rules folder validates to (the facts a rule may read
# included); a compiled file written by other code (a layer built from another commit than the
# function) is not used. Paths inside the touchpoints package.
_CODE = (
    "catalog/catalog.py",
    "catalog/checks.py",
    "catalog/compiled.py",
    "catalog/durations.py",
    "catalog/errortext.py",
    "catalog/loader.py",
    "catalog/model.py",
    "catalog/sandbox.py",
    "catalog/sources.py",
    "catalog/templates.py",
    "catalog/yamlsource.py",
    "contract/facts.py",
    "contract/limits.py",
    "contract/models.py",
)


def code_fingerprint() -> str | None:
    """sha256 of the code that validates rule files (None when its sources are not shipped)."""
    digest = hashlib.sha256()
    package = Path(__file__).parent.parent
    try:
        for name in _CODE:
            digest.update((package / name).read_bytes())
    except OSError:
        return None
    return digest.hexdigest()


def source_version(rules_dir: Path | str) -> tuple[str, list[str]] | None:
    """The version a full load of this folder would give it, and its template folders' names.

    The same files a load reads, hashed the same way (`content_version`), plus the YAML files a
    load would reject (a template file outside a folder, a folder named like a rule file), so that
    adding one changes the version.
    None when the folder cannot be read.
    """
    root = Path(rules_dir)
    contents: dict[str, bytes] = {}
    folders: list[str] = []
    try:
        if not root.is_dir():
            return None
        policy = root / POLICY_FILE
        if policy.exists():
            contents[POLICY_FILE] = policy.read_bytes()
        templates = root / TEMPLATES_DIR
        if templates.is_dir():
            for entry in sorted(templates.iterdir()):
                if entry.name.startswith("."):
                    continue
                if entry.is_file():
                    if entry.suffix in YAML_SUFFIXES:
                        contents[entry.relative_to(root).as_posix()] = entry.read_bytes()
                    continue
                folders.append(entry.name)
                for path in entry.iterdir():
                    if path.is_file() and path.suffix in YAML_SUFFIXES:
                        contents[path.relative_to(root).as_posix()] = path.read_bytes()
        files, misnamed = discover_rules(root)
        for path in files:
            contents[path.relative_to(root).as_posix()] = path.read_bytes()
        for folder in misnamed:  # refused by a full load: its presence must change the version
            contents[folder.relative_to(root).as_posix() + "/"] = b""
    except OSError:
        return None
    return content_version(contents), folders


# -- writing -------------------------------------------------------------------------------------


def compile_catalog(catalog: Catalog) -> dict[str, Any]:
    """The catalog as JSON-ready data: each model's explicitly set fields (defaults come from the code).

    CatalogError if the catalog's folder no longer holds what it was loaded from.
    """
    root = catalog.root
    found = source_version(root)
    if found is None or found[0] != catalog.version:
        raise CatalogError(
            [Problem(display_path(root), 1, "the rules changed while being compiled: compile again")]
        )
    return {
        "format": _FORMAT,
        "code": code_fingerprint(),
        "version": catalog.version,
        "template_folders": found[1],
        "policy": _encode(catalog.policy),
        "templates": [
            {
                "file": _template_file(root, template),
                "fields": _encode(template, skip=("path",)),
            }
            for template in catalog.templates.values()
        ],
        "rules": [
            {
                "file": compiled.path.relative_to(root).as_posix(),
                "line": compiled.line,
                "fields": _encode(compiled.rule),
            }
            for compiled in catalog.rules.values()
        ],
    }


def write_compiled_catalog(rules_dir: Path | str, out: Path | str | None = None) -> Path:
    """Validate the folder in full (templates linted too) and write its compiled file; returns its path.

    CatalogError (every problem, `file:line: message`) when the folder does not validate: a
    catalog layer is never built from rules that `touchpoints validate` would refuse.
    """
    root = Path(rules_dir)
    document = compile_catalog(load_catalog(root))
    target = Path(out) if out is not None else root / COMPILED_FILE
    target.write_text(json.dumps(document, ensure_ascii=False, sort_keys=True, indent=1) + "\n", "utf-8")
    return target


def _template_file(root: Path, template: Template) -> str:
    folder = root / TEMPLATES_DIR / template.name
    for suffix in YAML_SUFFIXES:
        if (folder / f"{template.locale}{suffix}").is_file():
            return f"{TEMPLATES_DIR}/{template.name}/{template.locale}{suffix}"
    raise CatalogError([Problem(display_path(folder), 1, f"no file for locale {template.locale}")])


def _encode(model: BaseModel, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    return {name: _value(getattr(model, name)) for name in sorted(model.model_fields_set) if name not in skip}


def _value(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return _encode(value)
    if isinstance(value, timedelta):
        return [value.days, value.seconds, value.microseconds]
    if isinstance(value, time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_value(item) for item in value]
    if isinstance(value, dict):
        return {key: _value(item) for key, item in value.items()}
    return value


# -- loading -------------------------------------------------------------------------------------


def load_compiled_catalog(rules_dir: Path | str) -> Catalog | None:
    """The catalog from the folder's compiled file, or None: no file, unreadable, stale or from other code.

    None means "do the full load" (`load_catalog`), which also reports any problem properly.
    """
    root = Path(rules_dir)
    try:
        document = json.loads((root / COMPILED_FILE).read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict) or document.get("format") != _FORMAT:
        return None
    code = code_fingerprint()
    if code is None or document.get("code") != code:
        return None
    found = source_version(root)
    if found is None or [document.get("version"), document.get("template_folders")] != list(found):
        return None
    try:
        return _decode(root, document, found[0])
    except (KeyError, TypeError, ValueError, AttributeError, TouchpointsError):
        return None  # a damaged file: the full load decides


def _decode(root: Path, document: Mapping[str, Any], version: str) -> Catalog:
    policy = _policy(document["policy"])
    templates: dict[tuple[str, str], Template] = {}
    for entry in document["templates"]:
        fields = entry["fields"]
        template = Template.model_construct(
            _fields_set={*fields, "path"}, **fields, path=display_path(root / entry["file"])
        )
        templates[(template.name, template.locale)] = template
    rules: dict[str, CompiledRule] = {}
    for entry in document["rules"]:
        rule = _rule(entry["fields"])
        rules[rule.id] = CompiledRule(
            rule, compile_logic(rule.when), root / entry["file"], int(entry["line"])
        )
    return Catalog(root, rules, policy, templates, version)


def _timedelta(value: Any) -> timedelta:
    days, seconds, microseconds = value
    return timedelta(days=days, seconds=seconds, microseconds=microseconds)


def _optional(decode: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else decode(value)


def _construct(model: type[_Model], fields: Mapping[str, Any], decoders: Mapping[str, Any]) -> _Model:
    """The model from its encoded set fields, without validation (they were validated at build time)."""
    values = {name: decoders[name](value) if name in decoders else value for name, value in fields.items()}
    return model.model_construct(_fields_set=set(values), **values)


def _limit(fields: Mapping[str, Any]) -> Limit:
    return _construct(Limit, fields, {"per": _optional(_timedelta)})


def _cap(fields: Mapping[str, Any]) -> Cap:
    return _construct(
        Cap,
        fields,
        {
            "per": _optional(_timedelta),
            "channels": lambda channels: {
                name: _construct(ChannelCap, cap, {"per": _timedelta}) for name, cap in channels.items()
            },
        },
    )


def _action(fields: Mapping[str, Any]) -> ActionSpec:
    return _construct(ActionSpec, fields, {})


def _experiment(fields: Mapping[str, Any]) -> Experiment:
    return _construct(Experiment, fields, {})


def _rule(fields: Mapping[str, Any]) -> Rule:
    return _construct(
        Rule,
        fields,
        {
            "after": _optional(_timedelta),
            "offset": _optional(_timedelta),
            "then": lambda actions: [_action(action) for action in actions],
            "limit": _optional(_limit),
            "experiment": _optional(_experiment),
            "expires_after": _optional(_timedelta),
        },
    )


def _policy(fields: Mapping[str, Any]) -> ContactPolicy:
    return _construct(
        ContactPolicy,
        fields,
        {
            "caps": lambda caps: {name: _cap(cap) for name, cap in caps.items()},
            "quiet_hours": _optional(
                lambda hours: _construct(
                    QuietHours, hours, dict.fromkeys(("start", "end"), time.fromisoformat)
                )
            ),
            "groups": lambda groups: {
                name: _construct(GroupPolicy, group, {"window": _timedelta}) for name, group in groups.items()
            },
            "locales": lambda locales: _construct(Locales, locales, {}),
        },
    )


# -- command line (the layer build) --------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """`python -m touchpoints.catalog RULES_DIR [--out FILE]`: validate and write the compiled file."""
    import argparse  # only the layer build runs this

    parser = argparse.ArgumentParser(
        prog="python -m touchpoints.catalog",
        description="Validate a rules folder and write its compiled catalog (for the Lambda's cold start).",
    )
    parser.add_argument("rules_dir", type=Path)
    parser.add_argument("--out", type=Path, default=None, help=f"default: RULES_DIR/{COMPILED_FILE}")
    args = parser.parse_args(argv)
    try:
        target = write_compiled_catalog(args.rules_dir, args.out)
    except CatalogError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"cannot write the compiled catalog: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {display_path(target)}")
    return 0
