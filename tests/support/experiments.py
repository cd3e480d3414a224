"""A copy of the shipped catalog with a holdout experiment on one rule, for experiment and report tests."""

from __future__ import annotations

import shutil
from pathlib import Path

__all__ = ["REPO_RULES", "rules_with_experiment"]

REPO_RULES = Path(__file__).resolve().parents[2] / "rules"


def rules_with_experiment(
    target: Path,
    *,
    rule_file: str = "shipping/delivery-delay-apology.yaml",
    name: str = "delay-apology-holdout",
    holdout: str = "10%",
    sticky: str = "order",
) -> Path:
    """`target` = the shipped rules with `experiment: {name, holdout, sticky}` added to one rule file."""
    shutil.copytree(REPO_RULES, target)
    path = target / rule_file
    text = path.read_text(encoding="utf-8").rstrip("\n")
    path.write_text(
        text + f"\nexperiment: {{name: {name}, holdout: {holdout}, sticky: {sticky}}}\n", encoding="utf-8"
    )
    return target
