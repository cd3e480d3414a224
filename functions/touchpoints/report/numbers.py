"""The report's numbers (what `--json` writes and the page draws), from one `ReportInput`.

Sections: per rule and day, decisions by status and reason; per locale and channel; the contact
policy at work (what each reason held back); each experiment's arms (report.arms); NPS and CSAT
per ISO week; with a base catalog, the diff per rule; and a timeline for a sample of orders.
Everything is computed from the final records and the journey states, so a simulation and the
production table holding the same decisions give the same numbers.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from touchpoints.journey.facts import survey_sentiment
from touchpoints.outcomes import orders_by_customer
from touchpoints.report.arms import experiment_numbers
from touchpoints.report.timeline import timelines
from touchpoints.timestamps import format_day, format_timestamp

if TYPE_CHECKING:
    from touchpoints.contract import DecisionRecord
    from touchpoints.journey import OrderJourney
    from touchpoints.report.inputs import ReportInput

__all__ = ["FORMAT", "POLICY_REASONS", "STATUSES", "build_numbers", "survey_weeks"]

FORMAT: Final = 1
"""The version of the report's JSON shape."""

STATUSES: tuple[str, ...] = ("sent", "pending", "scheduled", "held_out", "suppressed", "failed")
"""Every status, in the order the page stacks them."""

POLICY_REASONS: tuple[str, ...] = (
    "rule_limit",
    "group_exclusion",
    "rate_limit",
    "quiet_hours",
    "no_consent",
    "no_contact",
    "resolved",
    "expired",
    "template_error",
)
"""Reasons the contact policy (and the release of waiting actions) gives for not sending now."""


def _counts(values: Sequence[str]) -> dict[str, int]:
    return dict(sorted(Counter(values).items()))


def _rules(records: Sequence[DecisionRecord]) -> list[dict[str, Any]]:
    by_rule: dict[str, list[DecisionRecord]] = defaultdict(list)
    for record in records:
        by_rule[record.rule_id].append(record)
    return [
        {
            "rule_id": rule_id,
            "total": len(items),
            "by_status": _counts([r.status for r in items]),
            "by_reason": _counts([r.reason for r in items if r.reason]),
        }
        for rule_id, items in sorted(by_rule.items())
    ]


def _per_day(records: Sequence[DecisionRecord]) -> list[dict[str, Any]]:
    """One row per (UTC day, rule, status, reason) with its count: the stacked bars' data."""
    counts = Counter((format_day(r.decided_at), r.rule_id, r.status, r.reason or "") for r in records)
    return [
        {"day": day, "rule_id": rule_id, "status": status, "reason": reason or None, "count": count}
        for (day, rule_id, status, reason), count in sorted(counts.items())
    ]


def _locales(records: Sequence[DecisionRecord]) -> list[dict[str, Any]]:
    counts = Counter((r.locale, r.channel, r.status) for r in records)
    return [
        {"locale": locale, "channel": channel, "status": status, "count": count}
        for (locale, channel, status), count in sorted(counts.items())
    ]


def _policy(records: Sequence[DecisionRecord]) -> dict[str, Any]:
    """What each reason held back: suppressed, deferred (scheduled) and failed records by reason and rule."""
    by_reason: dict[str, int] = dict.fromkeys(POLICY_REASONS, 0)
    by_rule: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for record in records:
        if record.reason is None:
            continue
        by_reason[record.reason] = by_reason.get(record.reason, 0) + 1
        by_rule[record.rule_id][record.reason] += 1
    return {
        "by_reason": by_reason,
        "by_rule": {rule: dict(sorted(reasons.items())) for rule, reasons in sorted(by_rule.items())},
        "held_out": sum(r.status == "held_out" for r in records),
        # Waited (quiet hours, a deferring cap) and then released: records that carry `released_at`
        # (docs/CONTRACT.md section 4); a record without the field counts as not released.
        "released_after_wait": sum(getattr(r, "released_at", None) is not None for r in records),
    }


def survey_weeks(journeys: Sequence[OrderJourney]) -> list[dict[str, Any]]:
    """NPS (promoters minus detractors, in points) and CSAT (mean, share 4-5) per ISO week of the answer."""
    weeks: dict[tuple[str, str], list[int]] = defaultdict(list)
    for journey in journeys:
        for answer in journey.surveys.values():
            iso = answer.at.isocalendar()
            weeks[(f"{iso.year}-W{iso.week:02d}", answer.scale)].append(answer.score)
    rows: list[dict[str, Any]] = []
    for (week, scale), scores in sorted(weeks.items()):
        bands = Counter(survey_sentiment(scale, score) for score in scores)
        n = len(scores)
        row: dict[str, Any] = {
            "week": week,
            "scale": scale,
            "answers": n,
            "promoters": bands["promoter"],
            "passives": bands["passive"],
            "detractors": bands["detractor"],
            "mean": round(sum(scores) / n, 4),
        }
        if scale == "nps":
            row["nps"] = round(100.0 * (bands["promoter"] - bands["detractor"]) / n, 2)
        else:
            row["satisfied_share"] = round(bands["promoter"] / n, 4)
        rows.append(row)
    return rows


def _diff(diff: Any) -> dict[str, Any] | None:
    if diff is None:
        return None
    return {
        "added": len(diff.added),
        "removed": len(diff.removed),
        "changed": len(diff.changed),
        "rules": diff.per_rule(),
    }


def build_numbers(
    data: ReportInput, *, timeline_orders: int = 30, orders: Sequence[str] = ()
) -> dict[str, Any]:
    """The report as JSON-compatible data: the same numbers for a simulation and for the table."""
    records = data.records
    in_view = {record.order_id for record in records}
    by_order: dict[str, list[DecisionRecord]] = defaultdict(list)
    for record in records:
        by_order[record.order_id].append(record)
    by_customer = orders_by_customer(data.journeys.values())
    viewed = [data.journeys[order_id] for order_id in sorted(in_view) if order_id in data.journeys]
    return {
        "format": FORMAT,
        "source": data.source,
        "catalog_version": data.catalog.version,
        "as_of": format_timestamp(data.as_of),
        "window_days": data.window.total_seconds() / 86400,
        "summary": {
            "events": data.events,
            "orders": len(in_view),
            "decisions": len(records),
            "by_status": _counts([r.status for r in records]),
            "first_decided_at": format_timestamp(min(r.decided_at for r in records)) if records else None,
            "last_decided_at": format_timestamp(max(r.decided_at for r in records)) if records else None,
        },
        "rules": _rules(records),
        "per_day": _per_day(records),
        "locales": _locales(records),
        "policy": _policy(records),
        "experiments": experiment_numbers(
            data.catalog,
            records,
            data.journeys,
            by_order=by_order,
            by_customer=by_customer,
            window=data.window,
        ),
        "surveys": survey_weeks(viewed),
        "diff": _diff(data.diff),
        "orders": timelines(data, by_order, limit=timeline_orders, chosen=orders),
    }
