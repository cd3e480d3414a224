"""The compiled catalog: loads the same catalog as the YAML, and is never used when it could differ."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from touchpoints.catalog import (
    COMPILED_FILE,
    Catalog,
    CatalogError,
    load_catalog,
    load_compiled_catalog,
    write_compiled_catalog,
)
from touchpoints.catalog.compiled import main
from touchpoints.catalog.sources import POLICY_FILE, TEMPLATES_DIR, TESTS_DIR, rule_files
from touchpoints.contract import Event
from touchpoints.simulator import read_events, simulate

REPO = Path(__file__).resolve().parents[3]

EXTRA_RULE = """\
id: odd-but-valid
description: Every field a rule file may set, in a nested folder, a .yml file, and disabled.
on: [ShipmentDelayed, ReviewSubmitted]
when: {"and": [{">=": [{"var": "event.rating"}, 1.5]}, {"in": ["x", ["x", "y"]]}, true]}
then:
  - {channel: email, template: order-confirmation}
  - {channel: event, detail-type: SupportCaseRequested}
priority: -3
limit: {max: 2, per: 1d12h, scope: customer}
category: marketing
enabled: false
owner: someone@example.com
tags: [a, b]
"""


def _shipped(tmp_path: Path) -> Path:
    rules = tmp_path / "rules"
    shutil.copytree(REPO / "rules", rules)
    return rules


def _minimal(tmp_path: Path) -> Path:
    """A catalog without policy.yaml (every policy default) and one delayed rule."""
    rules = tmp_path / "minimal"
    (rules / "templates" / "hello").mkdir(parents=True)
    (rules / "templates" / "hello" / "en.yaml").write_text("subject: Hi\nbody: Hello {{ order.id }}\n")
    (rules / "hello.yaml").write_text(
        "id: hello\ndescription: Say hello a day later.\non: OrderPlaced\nafter: 1d\n"
        "then: [{channel: email, template: hello}]\n"
    )
    return rules


def _release(tmp_path: Path) -> Path:
    """The release tests' catalog: caps with `on_cap: defer` and per-channel caps, `expires_after`."""
    rules = tmp_path / "release"
    shutil.copytree(REPO / "tests" / "fixtures" / "release" / "rules", rules)
    return rules


def assert_same_catalog(compiled: Catalog, full: Catalog) -> None:
    """Field by field: the compiled conditions are new functions, so compare their generated code."""
    assert compiled.root == full.root
    assert compiled.version == full.version
    assert compiled.policy == full.policy
    assert compiled.policy.model_fields_set == full.policy.model_fields_set
    assert list(compiled.templates) == list(full.templates)
    assert compiled.templates == full.templates
    assert list(compiled.rules) == list(full.rules)
    for rule_id, expected in full.rules.items():
        got = compiled.rules[rule_id]
        assert got.rule == expected.rule, rule_id
        assert got.rule.model_fields_set == expected.rule.model_fields_set, rule_id
        assert got.rule.then == expected.rule.then
        assert (got.path, got.line) == (expected.path, expected.line)
        assert got.condition.rule == expected.condition.rule
        assert got.condition.source == expected.condition.source
        assert (got.reads, got.needs) == (expected.reads, expected.needs), rule_id
    assert {t: [c.id for c in rules] for t, rules in compiled.by_trigger.items()} == {
        t: [c.id for c in rules] for t, rules in full.by_trigger.items()
    }
    assert dict(compiled.trigger_needs) == dict(full.trigger_needs)


@pytest.mark.parametrize("make", [_shipped, _minimal, _release])
def test_the_compiled_file_loads_the_same_catalog_as_the_yaml(tmp_path: Path, make: object) -> None:
    # GIVEN a rules folder (the shipped one plus an unusual rule, or a minimal one) and its compiled file
    rules = make(tmp_path)  # type: ignore[operator]
    if make is _shipped:
        (rules / "extra" / "deep").mkdir(parents=True)
        (rules / "extra" / "deep" / "odd.yml").write_text(EXTRA_RULE)
    write_compiled_catalog(rules)
    # WHEN it is loaded both ways
    compiled = load_compiled_catalog(rules)
    full = load_catalog(rules, check_templates=False)
    # THEN the catalogs are equal in every part, version included
    assert compiled is not None
    assert_same_catalog(compiled, full)


def test_the_compiled_catalog_decides_like_the_yaml_on_the_sample_events(tmp_path: Path) -> None:
    # GIVEN the shipped rules, compiled, and every sample event
    rules = _shipped(tmp_path)
    write_compiled_catalog(rules)
    compiled = load_compiled_catalog(rules)
    assert compiled is not None
    events = [e for e in read_events([REPO / "events"]) if isinstance(e, Event)]
    assert len(events) > 20
    # WHEN both catalogs replay them (timers fired)
    got = [r.model_dump() for r in simulate(events, compiled)]
    expected = [r.model_dump() for r in simulate(events, load_catalog(rules, check_templates=False))]
    # THEN every decision record is the same, catalog version included
    assert got == expected
    assert len(expected) > 10


@pytest.mark.parametrize(
    "change",
    [
        "edit a rule",
        "add a rule",
        "remove a rule",
        "edit the policy",
        "edit a template",
        "add a template folder",
        "add a stray template file",
    ],
)
def test_a_stale_compiled_file_is_not_used(tmp_path: Path, change: str) -> None:
    # GIVEN a compiled rules folder
    rules = _shipped(tmp_path)
    write_compiled_catalog(rules)
    assert load_compiled_catalog(rules) is not None
    # WHEN its sources change afterwards
    rule = rules / "orders" / "order-confirmation.yaml"
    if change == "edit a rule":
        rule.write_text(rule.read_text().replace("priority:", "# edited\npriority:"))
    elif change == "add a rule":
        (rules / "orders" / "another.yaml").write_text(rule.read_text().replace("order-confirmation", "x"))
    elif change == "remove a rule":
        rule.unlink()
    elif change == "edit the policy":
        (rules / POLICY_FILE).write_text((rules / POLICY_FILE).read_text() + "\n# edited\n")
    elif change == "edit a template":
        template = rules / TEMPLATES_DIR / "order-confirmation" / "en.yaml"
        template.write_text(template.read_text() + "\n")
    elif change == "add a template folder":
        (rules / TEMPLATES_DIR / "new-template").mkdir()
    else:
        (rules / TEMPLATES_DIR / "stray.yaml").write_text("subject: a\nbody: b\n")
    # THEN the compiled file is refused, and the full load is what the runtime gets
    assert load_compiled_catalog(rules) is None


def test_changes_that_do_not_change_the_catalog_keep_the_compiled_file(tmp_path: Path) -> None:
    # GIVEN a compiled rules folder
    rules = _shipped(tmp_path)
    write_compiled_catalog(rules)
    # WHEN only files a load never reads change (rule tests, README, hidden files)
    (rules / TESTS_DIR / "orders.yaml").write_text("# edited\n")
    (rules / "README.md").write_text("edited\n")
    (rules / "orders" / ".draft.yaml").write_text("id: nope\n")
    # THEN the compiled file is still used, with the version a full load gives
    compiled = load_compiled_catalog(rules)
    assert compiled is not None
    assert compiled.version == load_catalog(rules, check_templates=False).version


@pytest.mark.parametrize(
    ("damage", "value"),
    [
        ("format", 999),
        ("code", "0" * 64),
        ("version", "sha256:" + "0" * 64),
        ("rules", [{"file": "x.yaml"}]),
        ("policy", {"caps": {"service": {"max": 1, "per": "not a duration"}}}),
    ],
)
def test_a_foreign_or_damaged_compiled_file_is_not_used(tmp_path: Path, damage: str, value: object) -> None:
    # GIVEN a compiled file written by other code, for other sources, or damaged
    rules = _shipped(tmp_path)
    target = write_compiled_catalog(rules)
    document = json.loads(target.read_text())
    document[damage] = value
    target.write_text(json.dumps(document))
    # THEN it is refused (the caller falls back to the full load)
    assert load_compiled_catalog(rules) is None


@pytest.mark.parametrize("content", ["", "{not json", "[]", '"text"'])
def test_an_unreadable_compiled_file_is_not_used(tmp_path: Path, content: str) -> None:
    rules = _shipped(tmp_path)
    (rules / COMPILED_FILE).write_text(content)
    assert load_compiled_catalog(rules) is None


def test_no_compiled_file_or_no_folder_means_the_full_load(tmp_path: Path) -> None:
    assert load_compiled_catalog(_shipped(tmp_path)) is None
    assert load_compiled_catalog(tmp_path / "missing") is None


def test_a_catalog_that_does_not_validate_is_never_compiled(tmp_path: Path) -> None:
    # GIVEN a rules folder with a template the lint refuses (the Lambda's own load skips that lint)
    rules = _shipped(tmp_path)
    template = rules / TEMPLATES_DIR / "order-confirmation" / "en.yaml"
    template.write_text("subject: Hi {{ order.nonexistent_fact }}\nbody: b\nsms: s\n")
    # WHEN it is compiled THEN the build fails with the problem, and no file is written
    with pytest.raises(CatalogError, match=r"order-confirmation/en.yaml:\d+: .*nonexistent_fact"):
        write_compiled_catalog(rules)
    assert not (rules / COMPILED_FILE).exists()


def test_the_command_line_writes_the_file_or_names_the_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = _shipped(tmp_path)
    out = tmp_path / "elsewhere.json"
    assert main([str(rules), "--out", str(out)]) == 0
    assert out.is_file()
    assert "wrote" in capsys.readouterr().out
    (rules / "orders" / "order-confirmation.yaml").write_text("id: Bad Id\n")
    assert main([str(rules)]) == 1
    assert "order-confirmation.yaml:1: " in capsys.readouterr().err
    assert not (rules / COMPILED_FILE).exists()


def test_build_runtime_uses_the_compiled_file_without_yaml_or_rule_validators(tmp_path: Path) -> None:
    # GIVEN a layer folder with its compiled file
    rules = _shipped(tmp_path)
    write_compiled_catalog(rules)
    code = (
        "import sys\n"
        "from touchpoints.handlers.runtime import build_runtime\n"
        "from touchpoints.catalog import Rule, ContactPolicy, Template\n"
        "runtime = build_runtime()\n"
        "assert len(runtime.catalog.rules) > 5\n"
        "print('ruamel' in sys.modules, Rule.__pydantic_complete__, ContactPolicy.__pydantic_complete__,"
        " Template.__pydantic_complete__, runtime.catalog.version)\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO / "functions"),
        "RULES_DIR": str(rules),
        "TABLE_NAME": "t",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    # WHEN a cold start builds the runtime
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    # THEN ruamel.yaml was never imported, no catalog model built its validators, same version
    expected = load_catalog(rules, check_templates=False).version
    assert done.stdout.split() == ["False", "False", "False", "False", expected]
    # AND without the file the same runtime does the full load (and imports ruamel.yaml)
    (rules / COMPILED_FILE).unlink()
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.split()[0] == "True"
    assert done.stdout.split()[-1] == expected


def _rule_files_by_rglob(root: Path) -> list[Path]:
    """The definition rule_files had before it walked with os.walk (kept to prove them equal)."""
    found = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if not path.is_file() or path.suffix not in (".yaml", ".yml"):
            continue
        if any(part.startswith(".") for part in relative.parts):
            continue
        if relative.parts[0] in (TESTS_DIR, TEMPLATES_DIR) or relative.as_posix() == POLICY_FILE:
            continue
        found.append(path)
    return found


def test_rule_files_finds_what_a_recursive_glob_finds(tmp_path: Path) -> None:
    # GIVEN a folder with every kind of entry discovery must include or skip
    root = _shipped(tmp_path)
    for relative in [
        "a/b/c/deep.yaml",
        "a/policy.yaml",
        "a/tests/nested-tests-folder-is-rules.yaml",
        "a/templates/nested-templates-folder-is-rules.yml",
        ".hidden/x.yaml",
        "a/.hidden/x.yaml",
        "a/.x.yaml",
        "a/notes.txt",
        "a/x.YAML",
        "a/x.yaml.bak",
        "tests/extra.yaml",
        "templates.yaml",
    ]:
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text("id: x\n")
    (root / "a" / "folder.yaml").mkdir()
    (root / "linked").symlink_to(root / "a", target_is_directory=True)
    (root / "a" / "broken.yaml").symlink_to(root / "nowhere.yaml")
    (root / "a" / "alias.yaml").symlink_to(root / "a" / "policy.yaml")
    # THEN os.walk's discovery is exactly the glob's, in the same order
    assert list(rule_files(root)) == _rule_files_by_rglob(root)
    assert list(rule_files(Path(os.path.relpath(root)))) == _rule_files_by_rglob(Path(os.path.relpath(root)))


def test_a_folder_named_like_a_rule_file_makes_the_compiled_file_unused(tmp_path: Path) -> None:
    # GIVEN a compiled layer, then an (empty) folder named like a rule file added to its rules
    rules = _shipped(tmp_path)
    write_compiled_catalog(rules)
    (rules / "orders" / "old.yaml").mkdir()
    # WHEN the runtime loads the catalog
    # THEN the compiled file is not used: the full load decides, and it names the folder
    assert load_compiled_catalog(rules) is None
    with pytest.raises(CatalogError, match=r"orders/old.yaml:1: 'old.yaml' is a folder, not a rule file"):
        load_catalog(rules)
