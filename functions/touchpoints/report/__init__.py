"""`touchpoints report`: what the rules did and what it changed, from a simulation or the production table.

`from_simulation` / `from_table` gather a `ReportInput`; `build_numbers` computes every number
(the `--json` output); `render_html` draws them into one self-contained page. Plotly and
statsmodels come with the optional extra `touchpoints[report]` (the Lambda package does not ship
this package) and are imported only when the page is drawn or an experiment is measured.
"""

from __future__ import annotations

from touchpoints.report.arms import MIN_UNITS, NOT_ENOUGH_DATA, difference, experiment_units
from touchpoints.report.html import render_html
from touchpoints.report.inputs import ReportInput, from_simulation, from_table, simulate_with_dispatch
from touchpoints.report.numbers import build_numbers

__all__ = [
    "MIN_UNITS",
    "NOT_ENOUGH_DATA",
    "ReportInput",
    "build_numbers",
    "difference",
    "experiment_units",
    "from_simulation",
    "from_table",
    "render_html",
    "simulate_with_dispatch",
]
