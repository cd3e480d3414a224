"""Each experiment's arms: units, outcome rates, and the difference with its 95% interval.

The unit is what the experiment is sticky on (an order, or a customer): its first decision of the
rule, whatever the policy then did with it (intention to treat: a treated order whose message was
suppressed by a cap is still treated). The arm comes from the assignment itself
(`touchpoints.experiments.arm_for`), never from the record's status, so the two arms are drawn
from the same matches. Outcomes are `touchpoints.outcomes.outcome_of` from that first decision.

The difference is treated minus holdout, with Newcombe's hybrid score interval
(statsmodels `confint_proportions_2indep`), which behaves at rates near 0 where the Wald
interval does not. Below `MIN_UNITS` in either arm the report says "not enough data yet".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from touchpoints.experiments import HOLDOUT, TREATED, arm_for, sticky_key
from touchpoints.outcomes import BINARY_OUTCOMES, Outcome, outcome_of

if TYPE_CHECKING:
    from datetime import timedelta

    from touchpoints.catalog import Catalog, Experiment
    from touchpoints.contract import DecisionRecord
    from touchpoints.journey import OrderJourney

__all__ = ["MIN_UNITS", "NOT_ENOUGH_DATA", "difference", "experiment_numbers", "experiment_units"]

MIN_UNITS: Final = 100
"""Units each arm needs before a difference is shown: below it, "not enough data yet".

A 10% holdout reaches it after about 1,000 matches. Even then an interval is wide (with 100 units
an arm's rate is known to about +/- 10 points); the interval, not a verdict, is what the page shows.
"""

NOT_ENOUGH_DATA: Final = "not enough data yet"


def experiment_units(
    experiment: Experiment, records: Sequence[DecisionRecord]
) -> dict[str, tuple[str, DecisionRecord]]:
    """sticky key -> (arm, first decision of the rule for that unit), from the rule's records."""
    units: dict[str, tuple[str, DecisionRecord]] = {}
    for record in sorted(records, key=lambda r: (r.decided_at, r.order_id, r.action_id)):
        key = sticky_key(experiment, record.order_id, record.customer_id)
        if key not in units:
            units[key] = (arm_for(experiment, record.order_id, record.customer_id), record)
    return units


def difference(treated: tuple[int, int], holdout: tuple[int, int]) -> dict[str, Any]:
    """Treated rate minus holdout rate, with a 95% interval; `enough_data` False below `MIN_UNITS`."""
    (t_count, t_units), (h_count, h_units) = treated, holdout
    enough = t_units >= MIN_UNITS and h_units >= MIN_UNITS
    result: dict[str, Any] = {"enough_data": enough, "difference": None, "low": None, "high": None}
    if not enough:
        result["note"] = NOT_ENOUGH_DATA
        return result
    from statsmodels.stats.proportion import confint_proportions_2indep

    low, high = confint_proportions_2indep(
        t_count, t_units, h_count, h_units, method="newcomb", compare="diff", alpha=0.05
    )
    result.update(
        difference=_round(t_count / t_units - h_count / h_units),
        low=_round(float(low)),
        high=_round(float(high)),
    )
    return result


def _round(value: float) -> float:
    return 0.0 if math.isclose(value, 0.0, abs_tol=1e-12) else round(value, 6)


def _arm(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    units = len(outcomes)
    rates = {
        name: {
            "count": (count := sum(bool(getattr(o, name)) for o in outcomes)),
            "rate": _round(count / units) if units else None,
        }
        for name in BINARY_OUTCOMES
    }
    scores: dict[str, dict[str, Any]] = {}
    for scale in ("nps", "csat"):
        answered = [
            o.survey_score for o in outcomes if o.survey_scale == scale and o.survey_score is not None
        ]
        scores[scale] = {
            "answers": len(answered),
            "mean": _round(sum(answered) / len(answered)) if answered else None,
        }
    return {
        "units": units,
        "held_out_records": sum(o.status == "held_out" for o in outcomes),
        "rates": rates,
        "survey_score": scores,
    }


def experiment_numbers(
    catalog: Catalog,
    records: Sequence[DecisionRecord],
    journeys: Mapping[str, OrderJourney],
    *,
    by_order: Mapping[str, Sequence[DecisionRecord]],
    by_customer: Mapping[str, Sequence[OrderJourney]],
    window: timedelta,
) -> list[dict[str, Any]]:
    """One entry per rule with an experiment: the arms and, per outcome, the difference."""
    found: list[dict[str, Any]] = []
    for rule_id in sorted(catalog.rules):
        experiment = catalog.rules[rule_id].rule.experiment
        if experiment is None:
            continue
        units = experiment_units(experiment, [r for r in records if r.rule_id == rule_id])
        outcomes: dict[str, list[Outcome]] = {HOLDOUT: [], TREATED: []}
        for arm, record in units.values():
            outcomes[arm].append(
                outcome_of(
                    record,
                    journeys.get(record.order_id),
                    order_records=by_order.get(record.order_id, ()),
                    customer_orders=by_customer,
                    window=window,
                )
            )
        arms = {arm: _arm(items) for arm, items in outcomes.items()}
        total = len(units)
        found.append(
            {
                "name": experiment.name,
                "rule_id": rule_id,
                "holdout_percent": experiment.holdout,
                "sticky": experiment.sticky,
                "units": total,
                "held_out_share": _round(arms[HOLDOUT]["units"] / total) if total else None,
                "arms": arms,
                "min_units": MIN_UNITS,
                "differences": {
                    name: difference(
                        (arms[TREATED]["rates"][name]["count"], arms[TREATED]["units"]),
                        (arms[HOLDOUT]["rates"][name]["count"], arms[HOLDOUT]["units"]),
                    )
                    for name in BINARY_OUTCOMES
                },
            }
        )
    return found
