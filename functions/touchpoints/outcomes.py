"""What the order and the customer did next, after a decision: the outcomes an experiment compares.

Not to be confused with `outcome.py` (what `decide` returns). For each decision record, sent or
held out, `outcome_of` reads the journey states the rules read (the order's and the customer's
other orders) and the order's other decisions, and says what happened in the window after the
decision (default 30 days): cancelled, a return requested, a review of 2 stars or fewer / 4 or
more, a survey answer, a support case raised, a repeat order by the same customer. One pure
function, used by `touchpoints report` on a simulation and on the production table alike.

The window is `(decided_at, decided_at + window]`: what happened at the very moment of the decision
is its trigger (the review an apology answers), not its outcome.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from touchpoints.contract import DecisionRecord
    from touchpoints.journey import OrderJourney

__all__ = [
    "BINARY_OUTCOMES",
    "DEFAULT_WINDOW",
    "Outcome",
    "orders_by_customer",
    "outcome_of",
]

DEFAULT_WINDOW: Final = timedelta(days=30)
"""How long after a decision its outcomes are counted (`touchpoints report --window`)."""

BINARY_OUTCOMES: tuple[str, ...] = (
    "cancelled",
    "return_requested",
    "review_low",
    "review_high",
    "survey_answered",
    "support_case",
    "repeat_order",
)
"""The yes/no outcomes, in the order reports show them; `survey_score` is a number on its scale."""

_RAISED = frozenset({"pending", "sent"})
"""A support case counts when its event action went (or is going) out, not when it was held back."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What followed one decision within `(start, end]`."""

    action_id: str
    order_id: str
    customer_id: str | None
    rule_id: str
    status: str
    start: datetime
    end: datetime
    cancelled: bool
    return_requested: bool
    review_low: bool
    review_high: bool
    survey_answered: bool
    survey_scale: str | None
    survey_score: int | None
    support_case: bool
    repeat_order: bool

    def to_dict(self) -> dict[str, Any]:
        """The JSON-compatible outcome (times as given: the caller formats them)."""
        return asdict(self)


def orders_by_customer(journeys: Iterable[OrderJourney]) -> dict[str, list[OrderJourney]]:
    """Each customer's orders (by the journey's latest customer), for `outcome_of`'s repeat orders."""
    found: dict[str, list[OrderJourney]] = {}
    for journey in journeys:
        if journey.customer is not None:
            found.setdefault(journey.customer.id, []).append(journey)
    return found


def _inside(moment: datetime | None, start: datetime, end: datetime) -> bool:
    return moment is not None and start < moment <= end


def outcome_of(
    record: DecisionRecord,
    journey: OrderJourney | None,
    *,
    order_records: Sequence[DecisionRecord] = (),
    customer_orders: Mapping[str, Sequence[OrderJourney]] | None = None,
    window: timedelta = DEFAULT_WINDOW,
) -> Outcome:
    """What the order and its customer did in the `window` after `record` was decided.

    `journey` is the order's state (None: nothing is known, every outcome is no), `order_records`
    the order's decision records (for support cases raised), `customer_orders` every customer's
    orders (`orders_by_customer`, for a repeat order: another order of the same customer placed
    in the window).
    """
    start = record.decided_at
    end = start + window
    cancelled = return_requested = review_low = review_high = repeat_order = False
    scale: str | None = None
    score: int | None = None
    if journey is not None:
        cancelled = _inside(journey.cancelled_at, start, end)
        return_requested = any(_inside(r.at, start, end) for r in journey.returns.values())
        ratings = [r.rating for r in journey.reviews.values() if _inside(r.at, start, end)]
        review_low = any(rating <= 2 for rating in ratings)
        review_high = any(rating >= 4 for rating in ratings)
        answers = sorted(
            (a for a in journey.surveys.values() if _inside(a.at, start, end)), key=lambda a: (a.at, a.scale)
        )
        if answers:
            scale, score = answers[-1].scale, answers[-1].score
        customer_id = journey.customer.id if journey.customer is not None else record.customer_id
        if customer_id is not None and customer_orders is not None:
            repeat_order = any(
                other.order_id != journey.order_id and _inside(other.placed_at, start, end)
                for other in customer_orders.get(customer_id, ())
            )
    support_case = any(
        other.channel == "event"
        and other.detail_type == "SupportCaseRequested"
        and other.status in _RAISED
        and _inside(other.decided_at, start, end)
        for other in order_records
    )
    return Outcome(
        action_id=record.action_id,
        order_id=record.order_id,
        customer_id=record.customer_id,
        rule_id=record.rule_id,
        status=record.status,
        start=start,
        end=end,
        cancelled=cancelled,
        return_requested=return_requested,
        review_low=review_low,
        review_high=review_high,
        survey_answered=score is not None,
        survey_scale=scale,
        survey_score=score,
        support_case=support_case,
        repeat_order=repeat_order,
    )
