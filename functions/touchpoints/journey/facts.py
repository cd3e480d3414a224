"""Build the facts dict JsonLogic rules and templates read: event, order, customer, history, now.

Called once per event that some rule reads (100k times in a simulation), so it builds plain dicts
directly instead of going through `model_dump`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from pydantic import BaseModel

from touchpoints.contract import Customer, Event, Money, ShipmentDelayed, SurveyAnswered, format_timestamp
from touchpoints.contract.facts import FactNeeds
from touchpoints.journey.history import ContactEntry, History
from touchpoints.journey.state import OrderJourney, ReviewInfo, Shipment, SurveyInfo, event_stamp

__all__ = [
    "DEFAULT_CUSTOMER_FACTS",
    "build_facts",
    "build_facts_for",
    "survey_sentiment",
]

_HOUR = 3600.0
_DAY = timedelta(days=1)
_WEEK = timedelta(days=7)
_SHIPMENT_PROBLEMS = frozenset({"lost", "damaged", "returned_to_sender"})

DEFAULT_CUSTOMER_FACTS: dict[str, Any] = {
    "id": None,
    "email": None,
    "phone": None,
    "name": None,
    "locale": "en",
    "timezone": "UTC",
    "tier": "standard",
    "consent": {"marketing": False, "sms": False},
}


# Formatting a datetime costs microseconds and a journey's timestamps repeat on every event, so
# rendered strings are memoised (a bounded cache: cleared when full, no eviction bookkeeping).
_Z_CACHE: dict[datetime, str] = {}
_Z_CACHE_MAX = 65536


def _z(moment: datetime | None) -> str | None:
    """RFC 3339 UTC with a `Z` suffix, memoised."""
    if moment is None:
        return None
    text = _Z_CACHE.get(moment)
    if text is None:
        if len(_Z_CACHE) >= _Z_CACHE_MAX:
            _Z_CACHE.clear()
        text = format_timestamp(moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC))
        _Z_CACHE[moment] = text
    return text


def _hours(later: datetime | None, earlier: datetime | None) -> float | None:
    if later is None or earlier is None:
        return None
    return (later - earlier).total_seconds() / _HOUR


def _money(money: Money | None) -> dict[str, Any] | None:
    if money is None:
        return None
    return {"amount": float(money.amount), "amount_text": money.amount, "currency": money.currency}


def _plain(value: Any) -> Any:
    """JSON-compatible copy of a detail value: UTC `Z` times, money amounts as numbers."""
    if value is None or isinstance(value, str | int | float):
        return value
    if isinstance(value, datetime):
        return _z(value)
    if isinstance(value, Money):
        return _money(value)
    if isinstance(value, BaseModel):
        return {name: _plain(item) for name, item in value.__dict__.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _customer(customer: Customer | None) -> dict[str, Any]:
    if customer is None:
        facts = dict(DEFAULT_CUSTOMER_FACTS)
        facts["consent"] = dict(DEFAULT_CUSTOMER_FACTS["consent"])
        return facts
    return {
        "id": customer.id,
        "email": customer.email,
        "phone": customer.phone,
        "name": customer.name,
        "locale": customer.locale,
        "timezone": customer.timezone,
        "tier": customer.tier,
        "consent": {"marketing": customer.consent.marketing, "sms": customer.consent.sms},
    }


def _event(state: OrderJourney, event: Event) -> dict[str, Any]:
    detail = event.detail
    facts: dict[str, Any] = {name: _plain(value) for name, value in detail.__dict__.items()}
    facts["type"] = event.detail_type
    facts["id"] = event.id
    facts["time"] = _z(event.time)
    facts["source"] = event.source
    if isinstance(detail, ShipmentDelayed):
        previous = detail.previous_estimate or _estimate_before(state, event, detail.new_estimate)
        facts["previous_estimate"] = _z(previous)
        facts["delay_hours_vs_promise"] = _hours(detail.new_estimate, state.promised_delivery_by)
        facts["delay_hours_vs_previous"] = _hours(detail.new_estimate, previous)
    elif isinstance(detail, SurveyAnswered):
        facts["sentiment"] = survey_sentiment(detail.scale, detail.score)
    return facts


def _estimate_before(state: OrderJourney, event: Event, new_estimate: datetime) -> datetime | None:
    """The latest estimate announced before this event that differs from its new one."""
    stamp = event_stamp(event)
    for fact in reversed(state.estimates):
        if fact.stamp < stamp and fact.value != new_estimate:
            return fact.value
    return None


class _ParcelFacts(NamedTuple):
    """What the `order` keys about parcels read, from one pass over the parcels in dispatch order."""

    shipments: list[dict[str, Any]]
    exceptions: list[dict[str, Any]]
    latest: Shipment | None  # the last parcel dispatched


_Parcels = list[_ParcelFacts]
"""One build's parcel facts: empty until a key reads them, then computed once and shared (`_parcels`)."""


def _parcels(state: OrderJourney, now: datetime, cell: _Parcels) -> _ParcelFacts:
    """The parcel facts of this build: six `order` keys read them, most rules read none of them."""
    if not cell:
        cell.append(_parcel_facts(state, now))
    return cell[0]


def _parcel_facts(state: OrderJourney, now: datetime) -> _ParcelFacts:
    shipments = sorted(
        state.shipments.values(),
        key=lambda s: (s.dispatched_at is None, s.dispatched_at or now, s.shipment_id),
    )
    shipment_facts: list[dict[str, Any]] = []
    exceptions: list[dict[str, Any]] = []
    latest: Shipment | None = None
    for shipment in shipments:
        issues = []
        for issue in shipment.exceptions:
            issues.append({"kind": issue.kind, "note": issue.note, "at": _z(issue.at)})
            exceptions.append(
                {
                    "shipment_id": shipment.shipment_id,
                    "kind": issue.kind,
                    "note": issue.note,
                    "at": _z(issue.at),
                }
            )
        shipment_facts.append(
            {
                "shipment_id": shipment.shipment_id,
                "status": shipment.status,
                "carrier": shipment.carrier,
                "tracking_number": shipment.tracking_number,
                "tracking_url": shipment.tracking_url,
                "dispatched_at": _z(shipment.dispatched_at),
                "estimated_delivery": _z(shipment.estimated_delivery),
                "delay_reason": shipment.delay_reason,
                "delivered_at": _z(shipment.delivered_at),
                "signed_by": shipment.signed_by,
                "exceptions": issues,
            }
        )
        if shipment.dispatched_at is not None:
            latest = shipment
    exceptions.sort(key=lambda item: item["at"] or "")
    return _ParcelFacts(shipment_facts, exceptions, latest)


def _reviews(state: OrderJourney) -> list[ReviewInfo]:
    return sorted(state.reviews.values(), key=lambda r: (r.at, r.review_id))


def _surveys(state: OrderJourney) -> list[SurveyInfo]:
    return sorted(state.surveys.values(), key=lambda answer: (answer.at, answer.scale))


def survey_sentiment(scale: str, score: int) -> str:
    """detractor (nps 0-6, csat 1-2), passive (nps 7-8, csat 3) or promoter (nps 9-10, csat 4-5).

    NPS's own bands; CSAT's "satisfied" (4-5) counts as promoting, 1-2 as detracting. One place,
    shared by the facts rules read and the report's survey numbers.
    """
    if scale == "nps":
        return "detractor" if score <= 6 else "passive" if score <= 8 else "promoter"
    return "detractor" if score <= 2 else "passive" if score == 3 else "promoter"


def _latest_survey(state: OrderJourney) -> SurveyInfo | None:
    return _surveys(state)[-1] if state.surveys else None


def _hours_late_to_ship(state: OrderJourney, now: datetime) -> float | None:
    if state.promised_ship_by is None:
        return None
    return _hours(state.shipped_at or now, state.promised_ship_by)


def _has_shipment_problem(state: OrderJourney) -> bool:
    return any(
        issue.kind in _SHIPMENT_PROBLEMS
        for shipment in state.shipments.values()
        for issue in shipment.exceptions
    )


_OrderFact = Callable[[OrderJourney, datetime, _Parcels], Any]

# The `order` section, defined once: every key, in the order the full section lists them, with how
# it is computed from the journey `s` at `now` (`p`: the parcel facts, shared within one build).
# The full section and a rule's few keys are both built from this table, so they cannot disagree.
# A rule reading three flags calls three of these (bench/simulate: most rules); the full section
# calls them all, ~2.5 us more than one dict display would take, once per rendered message.
_ORDER_FACTS: dict[str, _OrderFact] = {
    "id": lambda s, now, p: s.order_id,
    "status": lambda s, now, p: s.status,
    "placed_at": lambda s, now, p: _z(s.placed_at),
    "paid_at": lambda s, now, p: _z(s.paid_at),
    "shipped_at": lambda s, now, p: _z(s.shipped_at),
    "delivered_at": lambda s, now, p: _z(s.delivered_at),
    "cancelled_at": lambda s, now, p: _z(s.cancelled_at),
    "cancel_reason": lambda s, now, p: s.cancel_reason,
    "promised_ship_by": lambda s, now, p: _z(s.promised_ship_by),
    "promised_delivery_by": lambda s, now, p: _z(s.promised_delivery_by),
    "estimated_delivery": lambda s, now, p: _z(s.estimated_delivery),
    "previous_estimated_delivery": lambda s, now, p: _z(s.previous_estimated_delivery),
    "total": lambda s, now, p: _money(s.total),
    "items": lambda s, now, p: [
        {"sku": item.sku, "name": item.name, "quantity": item.quantity, "unit_price": _money(item.unit_price)}
        for item in s.items
    ],
    "items_count": lambda s, now, p: sum(item.quantity for item in s.items),
    "sales_channel": lambda s, now, p: s.sales_channel,
    "payment_id": lambda s, now, p: s.payment_id,
    "payment_failures": lambda s, now, p: s.payment_failures,
    "last_payment_failure_reason": lambda s, now, p: s.last_payment_failure_reason,
    "last_payment_failure_at": lambda s, now, p: _z(s.last_payment_failure_at),
    "retry_url": lambda s, now, p: s.retry_url,
    "carrier": lambda s, now, p: latest.carrier if (latest := _parcels(s, now, p).latest) else None,
    "tracking_number": lambda s, now, p: (
        latest.tracking_number if (latest := _parcels(s, now, p).latest) else None
    ),
    "tracking_url": lambda s, now, p: latest.tracking_url if (latest := _parcels(s, now, p).latest) else None,
    "shipments": lambda s, now, p: _parcels(s, now, p).shipments,
    "shipment_exceptions": lambda s, now, p: _parcels(s, now, p).exceptions,
    "returns": lambda s, now, p: [
        {"return_id": r.return_id, "reason": r.reason, "at": _z(r.at), "skus": r.skus}
        for r in sorted(s.returns.values(), key=lambda r: (r.at, r.return_id))
    ],
    "reviews": lambda s, now, p: [
        {"review_id": r.review_id, "rating": r.rating, "at": _z(r.at), "title": r.title, "sku": r.sku}
        for r in _reviews(s)
    ],
    "latest_rating": lambda s, now, p: _reviews(s)[-1].rating if s.reviews else None,
    "surveys": lambda s, now, p: [
        {"scale": a.scale, "score": a.score, "channel": a.channel, "at": _z(a.at)} for a in _surveys(s)
    ],
    "latest_survey_scale": lambda s, now, p: latest.scale if (latest := _latest_survey(s)) else None,
    "latest_survey_score": lambda s, now, p: latest.score if (latest := _latest_survey(s)) else None,
    "survey_sentiment": lambda s, now, p: (
        survey_sentiment(latest.scale, latest.score) if (latest := _latest_survey(s)) else None
    ),
    "hours_late_to_ship": lambda s, now, p: _hours_late_to_ship(s, now),
    "delivery_delay_hours": lambda s, now, p: _hours(
        s.delivered_at or s.estimated_delivery, s.promised_delivery_by
    ),
    "hours_since_delivery": lambda s, now, p: _hours(now, s.delivered_at),
    "is_paid": lambda s, now, p: s.paid_at is not None,
    "is_shipped": lambda s, now, p: s.shipped_at is not None,
    "is_delivered": lambda s, now, p: s.delivered_at is not None,
    "is_cancelled": lambda s, now, p: s.cancelled_at is not None,
    "has_return": lambda s, now, p: bool(s.returns),
    "has_shipment_problem": lambda s, now, p: _has_shipment_problem(s),
    "has_review": lambda s, now, p: bool(s.reviews),
    "has_survey_answer": lambda s, now, p: bool(s.surveys),
}
_ORDER_ITEMS = tuple(_ORDER_FACTS.items())


def _order(state: OrderJourney, now: datetime) -> dict[str, Any]:
    parcels: _Parcels = []
    return {key: fact(state, now, parcels) for key, fact in _ORDER_ITEMS}


def _order_subset(state: OrderJourney, now: datetime, keys: frozenset[str]) -> dict[str, Any]:
    parcels: _Parcels = []
    return {key: _ORDER_FACTS[key](state, now, parcels) for key in keys if key in _ORDER_FACTS}


def _tally(entries: list[ContactEntry], key: str) -> dict[str, dict[str, Any]]:
    counts: dict[str, list[Any]] = {}
    for entry in entries:
        name = entry.rule_id if key == "rule" else entry.group
        if name is None:
            continue
        seen = counts.get(name)
        if seen is None:
            counts[name] = [1, entry.at]
        else:
            seen[0] += 1
            if entry.at > seen[1]:
                seen[1] = entry.at
    return {name: {"count": count, "last_at": _z(last)} for name, (count, last) in counts.items()}


def _history(history: History, now: datetime) -> dict[str, Any]:
    if not history.order and not history.customer:
        return {
            "rules": {},
            "groups": {},
            "order": {"count": 0, "last_at": None},
            "customer": {"sent_24h": 0, "sent_7d": 0, "last_at": None},
        }
    day_ago = now - _DAY
    week_ago = now - _WEEK
    sent_24h = sent_7d = 0
    last_customer: datetime | None = None
    for entry in history.customer:
        at = entry.at
        if at > week_ago:
            sent_7d += 1
            if at > day_ago:
                sent_24h += 1
        if last_customer is None or at > last_customer:
            last_customer = at
    last_order = max((entry.at for entry in history.order), default=None)
    return {
        "rules": _tally(history.order, "rule"),
        "groups": _tally(history.order, "group"),
        "order": {"count": len(history.order), "last_at": _z(last_order)},
        "customer": {"sent_24h": sent_24h, "sent_7d": sent_7d, "last_at": _z(last_customer)},
    }


def build_facts(state: OrderJourney, event: Event, history: History, now: datetime) -> dict[str, Any]:
    """The facts of one decision: `state` is the journey *after* `event` was applied; `now` is injected.

    The customer is the journey's latest one, else the event's, else the documented defaults.
    """
    customer = state.customer if state.customer is not None else event.customer
    return {
        "event": _event(state, event),
        "order": _order(state, now),
        "customer": _customer(customer),
        "history": _history(history, now),
        "now": _z(now),
    }


def build_facts_for(
    state: OrderJourney, event: Event, history: History, now: datetime, needs: FactNeeds | None
) -> dict[str, Any]:
    """`build_facts`, restricted to what `needs` names: every value read is the one `build_facts` gives.

    The simulator decides most events on two or three order flags; building the whole facts dict
    (every shipment, review and RFC 3339 string) for them was a third of its time. Sections and
    keys not named are simply absent, so a rule must only read what its `needs` say.
    """
    if needs is None:
        return build_facts(state, event, history, now)
    facts: dict[str, Any] = {}
    for section, keys in needs.items():
        if section == "order":
            facts["order"] = _order(state, now) if keys is None else _order_subset(state, now, keys)
        elif section == "event":
            facts["event"] = _event(state, event) if keys is None else _event_subset(state, event, keys)
        elif section == "customer":
            facts["customer"] = _customer(state.customer if state.customer is not None else event.customer)
        elif section == "history":
            facts["history"] = _history(history, now)
        elif section == "now":
            facts["now"] = _z(now)
    return facts


_EVENT_OWN_KEYS = frozenset({"type", "id", "time", "source"})


def _event_subset(state: OrderJourney, event: Event, keys: frozenset[str]) -> dict[str, Any]:
    detail = event.detail
    if isinstance(detail, ShipmentDelayed | SurveyAnswered):  # derived facts: the full section, then pick
        full = _event(state, event)
        return {key: full[key] for key in keys if key in full}
    fields = detail.__dict__
    facts: dict[str, Any] = {}
    for key in keys:
        if key in _EVENT_OWN_KEYS:
            facts[key] = (
                event.detail_type
                if key == "type"
                else event.id
                if key == "id"
                else _z(event.time)
                if key == "time"
                else event.source
            )
        elif key in fields:
            facts[key] = _plain(fields[key])
    return facts
