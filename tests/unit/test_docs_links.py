"""The documentation stays walkable: every relative link lands on a file (and heading) that exists.

README.md is the front door, so it also stays small and names exactly the two Quickstart commands.
Anchors follow GitHub's heading slugs, because GitHub is where these pages are read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[2]
README_MAX_BYTES = 15 * 1024
QUICKSTART_COMMANDS = ["make demo", "make test"]

_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_INLINE_CODE = re.compile(r"(`+).*?\1")
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$")
_EXTERNAL = ("http://", "https://", "mailto:", "ftp://")
# github-slugger drops every character that is not a letter, a digit, `_`, `-` or a space.
_NOT_SLUG = re.compile(r"[^\w\- ]", re.UNICODE)


def doc_files(root: Path = ROOT) -> list[Path]:
    """The pages whose links must hold: README, the rule guide, docs/, bench/ and events/ pages."""
    files = [root / "README.md", root / "rules" / "README.md", *sorted((root / "docs").glob("*.md"))]
    for folder in ("bench", "events"):
        files.extend(
            path
            for path in sorted((root / folder).rglob("*.md"))
            if not any(part.startswith(".") for part in path.relative_to(root).parts)
        )
    return files


def _prose_lines(text: str) -> Iterator[str]:
    """The lines outside fenced code blocks (a `#` or `[x](y)` inside a code block is not markdown)."""
    in_fence = False
    for line in text.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if not in_fence:
            yield line


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: its text, lower-cased, punctuation dropped, spaces as `-`."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading: keep its text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    return _NOT_SLUG.sub("", text.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every heading anchor of a page, with GitHub's `-1`, `-2` suffixes for repeated headings."""
    seen: dict[str, int] = {}
    found: set[str] = set()
    for line in _prose_lines(path.read_text(encoding="utf-8")):
        match = _HEADING.match(line)
        if match is None:
            continue
        slug = github_slug(match.group(2))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def links(path: Path) -> Iterator[str]:
    """The link targets of a page: inline links, images and reference definitions, outside code."""
    for line in _prose_lines(path.read_text(encoding="utf-8")):
        reference = _REFERENCE.match(line)
        if reference is not None:
            yield reference.group(1)
            continue
        yield from _LINK.findall(_INLINE_CODE.sub("", line))


def broken_links(path: Path, root: Path = ROOT) -> list[str]:
    """Each relative link of `path` that points at no file, or at no heading of the file it names."""
    problems: list[str] = []
    for target in links(path):
        if target.startswith(_EXTERNAL):
            continue
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / unquote(file_part)).resolve() if file_part else path
        where = f"{path.relative_to(root)}: ({target})"
        if not linked.exists():
            problems.append(f"{where} points at a file that does not exist")
        elif root.resolve() not in (linked, *linked.parents):
            problems.append(f"{where} points outside the repository")
        elif anchor and linked.suffix == ".md" and unquote(anchor) not in anchors(linked):
            problems.append(f"{where} names a heading that {linked.name} does not have")
    return problems


def test_there_are_pages_to_check() -> None:
    # GIVEN the documentation folders
    # WHEN we list the pages
    files = doc_files()
    # THEN the front door, the rule guide and the docs/ pages are among them (no vacuous pass)
    names = {str(path.relative_to(ROOT)) for path in files}
    assert {"README.md", "rules/README.md", "docs/ARCHITECTURE.md", "docs/CONTRACT.md"} <= names
    assert len(files) >= 10


@pytest.mark.parametrize("path", doc_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_points_at_something_that_exists(path: Path) -> None:
    # GIVEN a documentation page
    # WHEN each relative link (and its #anchor) is resolved from the page's folder
    problems = broken_links(path)
    # THEN each lands on a file, and on a heading of that file when it names one
    assert problems == []


def test_the_checker_finds_a_broken_file_and_a_broken_anchor(tmp_path: Path) -> None:
    # GIVEN a page with one good link, one to a missing file and one to a missing heading
    (tmp_path / "other.md").write_text("# Other page\n\n## Deploy with `sam`\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n\n[good](other.md#deploy-with-sam) [gone](missing.md) [no heading](other.md#nope)\n"
        "```\n[in code](not-a-link.md)\n```\n`[inline](code.md)` [self](#page)\n",
        encoding="utf-8",
    )
    # WHEN the checker reads it
    problems = broken_links(page, root=tmp_path)
    # THEN exactly the two broken links are reported, and code is not read as links
    assert len(problems) == 2
    assert "(missing.md) points at a file that does not exist" in problems[0]
    assert "(other.md#nope) names a heading that other.md does not have" in problems[1]


def test_github_slugs_drop_punctuation_and_keep_spaces_as_dashes() -> None:
    # GIVEN headings with code, punctuation and an em dash WHEN slugged THEN GitHub's anchors come out
    assert github_slug("The contact policy (`policy.yaml`)") == "the-contact-policy-policyyaml"
    assert github_slug("`touchpoints simulate` — replay events") == "touchpoints-simulate--replay-events"
    assert github_slug("2. Decision records") == "2-decision-records"


def test_readme_is_a_front_door_of_at_most_15_kb() -> None:
    # GIVEN the README WHEN measured THEN it stays a front door, not a manual (the rest lives in docs/)
    size = len((ROOT / "README.md").read_bytes())
    assert size <= README_MAX_BYTES, f"README.md is {size} bytes; move detail to docs/"


def test_readme_quickstart_names_exactly_the_two_set_up_commands() -> None:
    # GIVEN the README's Quickstart section
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Quickstart\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```[a-z]*\n(.*?)```", section, re.DOTALL)
    assert block is not None
    # WHEN its command block is read (comments stripped)
    commands = [line.split("#", 1)[0].strip() for line in block.group(1).splitlines()]
    # THEN it names `make demo` and `make test`, and nothing else
    assert [command for command in commands if command] == QUICKSTART_COMMANDS
