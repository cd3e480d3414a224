"""Build a bigger catalog for the benchmark: the playbook plus renamed copies of its rules, up to N rules.

python bench/simulate/make_catalog.py --rules rules --count 50 --out /tmp/rules-50
"""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path


def build(source: Path, count: int, out: Path) -> int:
    """Copy `source` to `out` and add copies of its rule files (new ids) until it holds `count` rules."""
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(source, out, ignore=shutil.ignore_patterns("tests"))
    rule_files = sorted(
        p for p in out.rglob("*.yaml") if "templates" not in p.parts and p.name != "policy.yaml"
    )
    total = len(rule_files)
    copy = 0
    while total < count:
        copy += 1
        for path in rule_files:
            if total >= count:
                break
            text = re.sub(r"(?m)^id: (\S+)", rf"id: \1-copy{copy}", path.read_text(encoding="utf-8"), count=1)
            path.with_name(f"{path.stem}-copy{copy}.yaml").write_text(text, encoding="utf-8")
            total += 1
    return total


def main() -> None:
    """Command line: --rules DIR --count N --out DIR."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=Path, default=Path("rules"))
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    print(f"{build(args.rules, args.count, args.out)} rules in {args.out}")


if __name__ == "__main__":
    main()
