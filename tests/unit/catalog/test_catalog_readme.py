"""The ops guide stays true: its facts table is the generated one, and its examples validate."""

from __future__ import annotations

import re
from pathlib import Path

from ruamel.yaml import YAML

from touchpoints.catalog import Rule
from touchpoints.catalog.yamlsource import to_plain
from touchpoints.logic import compile as compile_logic

BEGIN = "<!-- facts-table:begin -->"
END = "<!-- facts-table:end -->"


def _guide(repo_root: Path) -> str:
    return (repo_root / "rules" / "README.md").read_text(encoding="utf-8")


def test_readme_holds_the_current_facts_table(repo_root: Path) -> None:
    # GIVEN the generated facts table and the ops guide
    table = (repo_root / "docs" / "facts-table.md").read_text(encoding="utf-8").strip()
    guide = _guide(repo_root)
    # WHEN the part between the markers is read
    assert guide.count(BEGIN) == 1
    assert guide.count(END) == 1
    embedded = guide.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    # THEN it is exactly the current table (paste docs/facts-table.md again when the facts change)
    assert embedded == table


def test_readme_rule_example_is_a_valid_rule(repo_root: Path) -> None:
    # GIVEN the annotated rule in "A rule, field by field"
    guide = _guide(repo_root)
    section = guide.split("## A rule, field by field", 1)[1]
    example = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert example is not None
    # WHEN it is parsed as a rule file
    rule = Rule.model_validate(to_plain(YAML(typ="safe").load(example.group(1))))
    # THEN it is valid and its condition compiles
    assert rule.id == "late-shipment-notice"
    compile_logic(rule.when)


def test_readme_when_examples_compile(repo_root: Path) -> None:
    # GIVEN every one-line `when:` example in the guide
    lines = re.findall(r"^when: (\{.*\})", _guide(repo_root), re.MULTILINE)
    assert len(lines) >= 5
    # WHEN each is parsed and compiled
    # THEN none has an unknown operator or a wrong arity
    for line in lines:
        condition = to_plain(YAML(typ="safe").load("when: " + line.split("  #")[0]))["when"]
        compile_logic(condition)


def test_readme_policy_example_is_a_valid_policy(repo_root: Path) -> None:
    from touchpoints.catalog import ContactPolicy

    # GIVEN the annotated policy.yaml in "The contact policy"
    section = _guide(repo_root).split("## The contact policy (`policy.yaml`)", 1)[1]
    example = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert example is not None
    # WHEN it is parsed as the policy / THEN it is valid, a deferring cap with a text cap included
    policy = ContactPolicy.model_validate(to_plain(YAML(typ="safe").load(example.group(1))))
    assert policy.caps["service"].on_cap == "defer"
    assert policy.caps["service"].channels["sms"].max == 1


def test_readme_story_example_is_a_valid_expectation(repo_root: Path, tmp_path: Path) -> None:
    from touchpoints.cli.rule_tests import load_test_file

    # GIVEN the `expect_story` example of the Test section
    section = _guide(repo_root).split("`expect_story` pins the whole story", 1)[1]
    example = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert example is not None
    # WHEN it is the expectation of a case in a test file
    case = (
        "cases:\n  - name: story\n    events:\n      - {type: OrderPlaced, time: 2026-03-02T02:00:00Z}\n"
        + example.group(1)
    )
    path = tmp_path / "story.yaml"
    path.write_text(case, encoding="utf-8")
    # THEN the file loads, with the story's two steps
    (loaded,) = load_test_file(path)
    assert [step["status"] for step in loaded.expect_story[0]["steps"]] == ["scheduled", "suppressed"]
