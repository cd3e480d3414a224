"""The report as ONE self-contained HTML file: plotly.js, styles and script inline, nothing fetched.

Charts are Plotly figures drawn by the plotly.js bundled in the `plotly` package (the
`touchpoints[report]` extra), inlined once. The page reads on a laptop and a phone (one column
below 760 px, tables scroll sideways) and prints (SVG charts, timelines opened before printing).
"""

from __future__ import annotations

import html
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from touchpoints.outcomes import BINARY_OUTCOMES
from touchpoints.report.numbers import POLICY_REASONS, STATUSES

__all__ = ["OUTCOME_LABELS", "render_html"]

OUTCOME_LABELS: dict[str, str] = {
    "cancelled": "cancelled",
    "return_requested": "return requested",
    "review_low": "review of 2 stars or fewer",
    "review_high": "review of 4 stars or more",
    "survey_answered": "answered a survey",
    "support_case": "support case raised",
    "repeat_order": "ordered again",
}
_COLOURS = {
    "sent": "#2e7d32",
    "pending": "#66bb6a",
    "scheduled": "#f9a825",
    "held_out": "#5c6bc0",
    "suppressed": "#9e9e9e",
    "failed": "#c62828",
}
_CONFIG = {"displaylogo": False, "responsive": True, "displayModeBar": False}
_LAYOUT = {
    "barmode": "stack",
    "margin": {"l": 48, "r": 16, "t": 48, "b": 48},
    "legend": {"orientation": "h", "y": -0.2},
    "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12},
    "paper_bgcolor": "white",
    "plot_bgcolor": "white",
    "height": 360,
}

_STYLE = """
:root { --ink:#1f2933; --muted:#616e7c; --line:#e4e7eb; --accent:#3949ab; }
* { box-sizing: border-box; }
body { margin:0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--ink);
       line-height:1.45; background:#f7f8fa; }
main { max-width: 1180px; margin: 0 auto; padding: 16px; }
header h1 { margin: 8px 0 4px; font-size: 1.6rem; }
header p { margin: 0; color: var(--muted); }
section { background:white; border:1px solid var(--line); border-radius:8px; padding:16px;
          margin:16px 0; }
section h2 { margin-top:0; font-size:1.2rem; }
.cards { display:grid; grid-template-columns: repeat(auto-fit, minmax(130px, 1fr)); gap:10px; margin:12px 0; }
.card { background:white; border:1px solid var(--line); border-radius:8px; padding:10px 12px; }
.card b { display:block; font-size:1.4rem; }
.card span { color:var(--muted); font-size:.85rem; }
.grid { display:grid; grid-template-columns: 1fr 1fr; gap:16px; }
.scroll { overflow-x:auto; }
table { border-collapse: collapse; width:100%; font-size:.9rem; }
th, td { text-align:left; padding:4px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
td.n, th.n { text-align:right; font-variant-numeric: tabular-nums; }
.note { color:var(--muted); font-size:.9rem; }
.pill { display:inline-block; padding:0 6px; border-radius:9px; color:white; font-size:.8rem; }
.nodata { padding:10px; background:#fff8e1; border:1px solid #ffe082; border-radius:6px; }
details { border-top:1px solid var(--line); padding:6px 0; }
summary { cursor:pointer; font-weight:600; }
ol.timeline { margin:6px 0 0; padding-left:20px; }
ol.timeline li { margin:2px 0; }
.event { color:var(--muted); }
@media (max-width: 760px) { .grid { grid-template-columns: 1fr; } main { padding:8px; } }
@media print { body { background:white; } section { break-inside: avoid; border:none; }
                .noprint { display:none; } }
"""

_SCRIPT = """
window.addEventListener('beforeprint', function () {
  document.querySelectorAll('details').forEach(function (d) { d.open = true; });
});
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _table(head: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Sequence[bool] | None = None) -> str:
    numeric = numeric or [False] * len(head)
    cls = [' class="n"' if flag else "" for flag in numeric]
    header = "".join(f"<th{c}>{_e(h)}</th>" for h, c in zip(head, cls, strict=True))
    body = "".join(
        "<tr>" + "".join(f"<td{c}>{_e(v)}</td>" for v, c in zip(row, cls, strict=True)) + "</tr>"
        for row in rows
    )
    return f'<div class="scroll"><table><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table></div>'


def _figure(figure: Any, div_id: str) -> str:
    import plotly.io as pio

    return str(pio.to_html(figure, full_html=False, include_plotlyjs=False, config=_CONFIG, div_id=div_id))


def _per_day_figure(rows: Sequence[dict[str, Any]], key: str, title: str) -> Any:
    """Stacked bars per UTC day, one stack per `key` value, with a menu to pick one rule (or all)."""
    import plotly.graph_objects as go

    rules = sorted({row["rule_id"] for row in rows})
    days = sorted({row["day"] for row in rows})
    values = (
        [s for s in STATUSES if any(r[key] == s for r in rows)]
        if key == "status"
        else sorted({row[key] for row in rows if row[key]})
    )
    figure = go.Figure()
    scopes = ["all rules", *rules]
    for scope in scopes:
        counts: dict[tuple[str, str], int] = defaultdict(int)
        for row in rows:
            if row[key] and (scope == "all rules" or row["rule_id"] == scope):
                counts[(row["day"], row[key])] += row["count"]
        for value in values:
            figure.add_bar(
                x=days,
                y=[counts.get((day, value), 0) for day in days],
                name=value,
                marker_color=_COLOURS.get(value),
                visible=scope == "all rules",
                legendgroup=value,
            )
    buttons = []
    for index, scope in enumerate(scopes):
        visible = [False] * (len(scopes) * len(values))
        visible[index * len(values) : (index + 1) * len(values)] = [True] * len(values)
        buttons.append({"label": scope, "method": "update", "args": [{"visible": visible}]})
    # The menu sits between the title and the bars, left-aligned, so a phone's width fits both.
    figure.update_layout(
        **{**_LAYOUT, "margin": {"l": 48, "r": 16, "t": 96, "b": 48}},
        title={"text": title, "y": 0.97, "yanchor": "top"},
        updatemenus=[{"buttons": buttons, "x": 0.0, "xanchor": "left", "y": 1.04, "yanchor": "bottom"}],
    )
    return figure


def _locale_figure(rows: Sequence[dict[str, Any]]) -> Any:
    import plotly.graph_objects as go

    locales = sorted({r["locale"] for r in rows})
    figure = go.Figure()
    for channel in sorted({r["channel"] for r in rows}):
        counts: dict[str, int] = defaultdict(int)
        for row in rows:
            if row["channel"] == channel:
                counts[row["locale"]] += row["count"]
        figure.add_bar(x=locales, y=[counts[locale] for locale in locales], name=channel)
    figure.update_layout(**_LAYOUT, title={"text": "Decisions per locale and channel"})
    return figure


def _policy_figure(policy: dict[str, Any]) -> Any:
    import plotly.graph_objects as go

    reasons = [r for r in POLICY_REASONS if policy["by_reason"].get(r)] or list(POLICY_REASONS[:4])
    figure = go.Figure(
        go.Bar(
            x=[policy["by_reason"].get(r, 0) for r in reasons],
            y=reasons,
            orientation="h",
            marker_color="#78909c",
        )
    )
    figure.update_layout(**{**_LAYOUT, "height": 300}, title={"text": "What the contact policy held back"})
    return figure


def _experiment_figure(experiment: dict[str, Any]) -> Any:
    import plotly.graph_objects as go

    shown = [name for name in BINARY_OUTCOMES if experiment["differences"][name]["enough_data"]]
    diffs = [experiment["differences"][name] for name in shown]
    figure = go.Figure(
        go.Scatter(
            x=[100 * d["difference"] for d in diffs],
            y=[OUTCOME_LABELS[name] for name in shown],
            mode="markers",
            marker={"size": 10, "color": "#3949ab"},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [100 * (d["high"] - d["difference"]) for d in diffs],
                "arrayminus": [100 * (d["difference"] - d["low"]) for d in diffs],
            },
        )
    )
    figure.add_vline(x=0, line_color="#9e9e9e")
    figure.update_layout(
        **{**_LAYOUT, "height": 320, "margin": {"l": 190, "r": 16, "t": 48, "b": 48}},
        title={"text": f"{experiment['name']}: treated minus holdout (points, 95% interval)"},
        xaxis_title="percentage points",
    )
    return figure


def _survey_figure(rows: Sequence[dict[str, Any]]) -> Any:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    figure = make_subplots(rows=1, cols=2, subplot_titles=("NPS per week", "CSAT per week (mean, 1-5)"))
    nps = [r for r in rows if r["scale"] == "nps"]
    csat = [r for r in rows if r["scale"] == "csat"]
    figure.add_trace(go.Bar(x=[r["week"] for r in nps], y=[r["nps"] for r in nps], name="NPS"), row=1, col=1)
    figure.add_trace(
        go.Scatter(
            x=[r["week"] for r in csat], y=[r["mean"] for r in csat], name="CSAT", mode="lines+markers"
        ),
        row=1,
        col=2,
    )
    figure.update_yaxes(range=[-100, 100], row=1, col=1)
    figure.update_yaxes(range=[1, 5], row=1, col=2)
    figure.update_layout(**_LAYOUT)
    return figure


def _diff_figure(diff: dict[str, Any]) -> Any:
    import plotly.graph_objects as go

    rules = list(diff["rules"])
    figure = go.Figure()
    for kind, colour in (("added", "#2e7d32"), ("removed", "#c62828"), ("changed", "#f9a825")):
        figure.add_bar(x=rules, y=[diff["rules"][r][kind] for r in rules], name=kind, marker_color=colour)
    figure.update_layout(**_LAYOUT, title={"text": "What the catalog change changes, per rule"})
    return figure


def _pct(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.1f}%"


def _experiment_section(experiment: dict[str, Any], index: int) -> str:
    arms = experiment["arms"]
    rows = []
    for name in BINARY_OUTCOMES:
        d = experiment["differences"][name]
        held, treated = arms["holdout"]["rates"][name], arms["treated"]["rates"][name]
        if d["enough_data"]:
            diff = f"{100 * d['difference']:+.1f} points [{100 * d['low']:+.1f}, {100 * d['high']:+.1f}]"
        else:
            diff = d["note"]
        rows.append([OUTCOME_LABELS[name], _pct(held["rate"]), _pct(treated["rate"]), diff])
    parts = [
        f"<h3>{_e(experiment['name'])} <small class='note'>on {_e(experiment['rule_id'])}: "
        f"{experiment['holdout_percent']:g}% held out, sticky by {_e(experiment['sticky'])}</small></h3>",
        f"<p>{arms['holdout']['units']} held out, {arms['treated']['units']} treated "
        f"(held-out share {_pct(experiment['held_out_share'])}). Each arm needs at least "
        f"{experiment['min_units']} before a difference is shown.</p>",
        _table(
            [
                "outcome within the window",
                "holdout",
                "treated",
                "difference (treated - holdout), 95% interval",
            ],
            rows,
            [False, True, True, False],
        ),
    ]
    if any(experiment["differences"][name]["enough_data"] for name in BINARY_OUTCOMES):
        parts.append(_figure(_experiment_figure(experiment), f"experiment-{index}"))
    else:
        parts.append('<p class="nodata">Not enough data yet: keep the experiment running.</p>')
    return "".join(parts)


def _timeline(order: dict[str, Any]) -> str:
    items = []
    for entry in order["entries"]:
        if entry["kind"] == "event":
            items.append(
                f'<li class="event">{_e(entry["at"])} · {_e(entry["type"])} {_e(entry["what"])}</li>'
            )
            continue
        colour = _COLOURS.get(entry["status"], "#607d8b")
        reason = f" ({_e(entry['reason'])})" if entry["reason"] else ""
        subject = f" · “{_e(entry['subject'])}”" if entry["subject"] else ""
        items.append(
            f"<li>{_e(entry['at'])} · <b>{_e(entry['rule_id'])}</b> {_e(entry['channel'])} "
            f'<span class="pill" style="background:{colour}">{_e(entry["status"])}</span>{reason}'
            f" {_e(entry['locale'])}{subject}</li>"
        )
    return (
        f"<details><summary>Order {_e(order['order_id'])} <span class='note'>customer "
        f"{_e(order['customer_id'])}, {len(order['entries'])} entries</span></summary>"
        f"<ol class='timeline'>{''.join(items)}</ol></details>"
    )


def _where(source: dict[str, Any]) -> str:
    """One line saying what the numbers come from."""
    if source.get("kind") == "table":
        return f"Production table {source.get('table')}, decisions since {source.get('since')}"
    paths = source.get("paths") or []
    text = "Simulation of " + (", ".join(Path(p).name for p in paths) if paths else "events")
    return text + (f", against the base catalog {Path(source['base']).name}" if source.get("base") else "")


def render_html(numbers: dict[str, Any]) -> str:
    """The whole page for the numbers of `build_numbers`."""
    from plotly.offline import get_plotlyjs

    summary = numbers["summary"]
    by_status = summary["by_status"]
    source = numbers["source"]
    where = _where(source)
    cards = [
        ("events", summary["events"] if summary["events"] is not None else "-"),
        ("orders", summary["orders"]),
        ("decisions", summary["decisions"]),
        *((status.replace("_", " "), by_status.get(status, 0)) for status in STATUSES),
    ]
    sections = [
        "<section><h2>Decisions per rule and day</h2><div class='grid'>"
        + _figure(_per_day_figure(numbers["per_day"], "status", "By status"), "per-day-status")
        + _figure(_per_day_figure(numbers["per_day"], "reason", "By reason"), "per-day-reason")
        + "</div>"
        + _table(
            ["rule", "total", *STATUSES],
            (
                [r["rule_id"], r["total"], *(r["by_status"].get(s, 0) for s in STATUSES)]
                for r in numbers["rules"]
            ),
            [False, True, *([True] * len(STATUSES))],
        )
        + "</section>",
        "<section><h2>Per locale and channel, and the contact policy at work</h2><div class='grid'>"
        + _figure(_locale_figure(numbers["locales"]), "locales")
        + _figure(_policy_figure(numbers["policy"]), "policy")
        + "</div>"
        + _table(
            ["rule", *POLICY_REASONS],
            (
                [rule, *(reasons.get(r, 0) for r in POLICY_REASONS)]
                for rule, reasons in numbers["policy"]["by_rule"].items()
            ),
            [False, *([True] * len(POLICY_REASONS))],
        )
        + f"<p class='note'>{numbers['policy']['held_out']} decisions held out by experiments (not counted "
        f"against the caps); {numbers['policy']['released_after_wait']} released after a wait. Deferred "
        "actions show as scheduled until they are released.</p></section>",
    ]
    experiments = numbers["experiments"]
    sections.append(
        "<section><h2>Experiments</h2>"
        + (
            "".join(_experiment_section(e, i) for i, e in enumerate(experiments))
            if experiments
            else "<p class='note'>No rule has an experiment. Add <code>experiment: {name, holdout: 10%}"
            "</code> to a rule to measure what its message changes.</p>"
        )
        + f"<p class='note'>Outcomes count within {numbers['window_days']:g} days after each unit's first "
        "decision; units are drawn by the experiment's hash, so both arms come from the same matches."
        "</p></section>"
    )
    if numbers["surveys"]:
        sections.append(
            "<section><h2>Survey answers per week</h2>"
            + _figure(_survey_figure(numbers["surveys"]), "surveys")
            + _table(
                ["week", "scale", "answers", "promoters", "passives", "detractors", "NPS / mean"],
                (
                    [
                        r["week"],
                        r["scale"],
                        r["answers"],
                        r["promoters"],
                        r["passives"],
                        r["detractors"],
                        r.get("nps", r["mean"]),
                    ]
                    for r in numbers["surveys"]
                ),
                [False, False, True, True, True, True, True],
            )
            + "</section>"
        )
    if numbers["diff"] is not None:
        diff = numbers["diff"]
        sections.append(
            f"<section><h2>Against the base catalog</h2><p>{diff['added']} added, {diff['removed']} removed, "
            f"{diff['changed']} changed.</p>"
            + (_figure(_diff_figure(diff), "diff") if diff["rules"] else "<p>No decision changes.</p>")
            + "</section>"
        )
    sections.append(
        "<section><h2>Orders, one by one</h2><p class='note'>A sample of orders (held-out and busiest "
        "first): what happened, what was decided, and the subject of each message.</p>"
        + "".join(_timeline(order) for order in numbers["orders"])
        + "</section>"
    )
    data = html.escape(json.dumps({"format": numbers["format"], "as_of": numbers["as_of"]}))
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>Touchpoints report</title><style>{_STYLE}</style>"
        f"<script>{get_plotlyjs()}</script></head><body><main>"
        f"<header data-report='{data}'><h1>Touchpoints report</h1><p>{_e(where)} · catalog "
        f"{_e(numbers['catalog_version'][:19])} · as of {_e(numbers['as_of'])}</p>"
        "<div class='cards'>"
        + "".join(f"<div class='card'><b>{_e(v)}</b><span>{_e(k)}</span></div>" for k, v in cards)
        + "</div></header>"
        + "".join(sections)
        + f"</main><script>{_SCRIPT}</script></body></html>"
    )
