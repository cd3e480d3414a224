"""The facts contract: every path a rule or template may read (with its type), and which ones a rule reads.

The catalog's validator checks rule files and templates against the schema, so typos fail at
validate time; the journey builds exactly these facts; both import them from here, so the catalog
never depends on the journey.
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from touchpoints.contract.models import DETAIL_MODELS, Customer, Money

__all__ = [
    "FACTS_SCHEMA",
    "FactField",
    "FactNeeds",
    "FactType",
    "fact_field",
    "fact_needs",
    "fact_values",
    "facts_table_markdown",
    "is_fact_path",
    "is_nullable_fact",
    "merge_needs",
    "suggest_fact_path",
    "timestamp_fact_paths",
]

FactType = Literal["string", "number", "boolean", "timestamp", "object", "array"]


@dataclass(frozen=True, slots=True)
class FactField:
    """One fact path: its JSON type, what it means, and (for `event.*`) which detail-types carry it.

    `nullable` is True when the fact may be null (or absent) for some order: a customer without a
    name, an order not paid yet, an optional event field. A template that prints one must guard it
    (`touchpoints validate` says so at the line).
    """

    path: str
    type: FactType
    description: str
    detail_types: tuple[str, ...] = ()  # empty: every event / not an event path
    nullable: bool = False


def _strip_optional(annotation: Any) -> Any:
    """`X | None` and `Annotated[X, ...]` read as X: facts care about the JSON type only."""
    if get_origin(annotation) is Annotated:
        return _strip_optional(get_args(annotation)[0])
    if get_origin(annotation) in (Union, types.UnionType):
        args = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(args) == 1:
            return _strip_optional(args[0])
    return annotation


def _model_facts(prefix: str, model: type[BaseModel]) -> Iterable[tuple[str, FactType, str]]:
    """Walk a pydantic model's fields into (path, type, description), as `build_facts` dumps them."""
    for name, field in model.model_fields.items():
        yield from _annotation_facts(f"{prefix}.{name}", field.annotation, field.description or name)


def _annotation_facts(path: str, annotation: Any, description: str) -> Iterable[tuple[str, FactType, str]]:
    annotation = _strip_optional(annotation)
    origin = get_origin(annotation)
    if annotation is datetime:
        yield path, "timestamp", description
    elif annotation is bool:
        yield path, "boolean", description
    elif annotation in (int, float):
        yield path, "number", description
    elif annotation is str or origin is Literal:
        yield path, "string", description
    elif origin is list:
        (item,) = get_args(annotation)
        yield path, "array", description
        yield from _annotation_facts(f"{path}.*", item, f"one of {path.rsplit('.', 1)[-1]}")
    elif isinstance(annotation, type) and issubclass(annotation, Money):
        yield path, "object", description
        yield f"{path}.amount", "number", "amount as a number"
        yield f"{path}.amount_text", "string", 'amount exactly as sent, e.g. "59.90" (for display)'
        yield f"{path}.currency", "string", "ISO 4217 currency code"
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield path, "object", description
        yield from _model_facts(path, annotation)
    else:  # pragma: no cover - a new field type must be mapped here on purpose
        raise TypeError(f"no fact type for {path}: {annotation!r}")


def _money(path: str, description: str) -> list[tuple[str, FactType, str]]:
    return list(_annotation_facts(path, Money, description))


_ORDER: list[tuple[str, FactType, str]] = [
    ("order", "object", "the order's journey: everything known so far"),
    ("order.id", "string", "order id"),
    ("order.status", "string", "new, placed, payment_failed, paid, shipped, delivered or cancelled"),
    ("order.placed_at", "timestamp", "when the order was placed"),
    ("order.paid_at", "timestamp", "when the payment succeeded"),
    ("order.shipped_at", "timestamp", "when the first parcel was dispatched"),
    ("order.delivered_at", "timestamp", "when a parcel was last delivered"),
    ("order.cancelled_at", "timestamp", "when the order was cancelled"),
    ("order.cancel_reason", "string", "why the order was cancelled"),
    ("order.promised_ship_by", "timestamp", "dispatch promised at checkout"),
    ("order.promised_delivery_by", "timestamp", "delivery promised at checkout"),
    ("order.estimated_delivery", "timestamp", "the latest delivery estimate announced"),
    ("order.previous_estimated_delivery", "timestamp", "the estimate before the latest different one"),
    *_money("order.total", "order total"),
    ("order.items", "array", "order lines"),
    ("order.items.*", "object", "one order line"),
    ("order.items.*.sku", "string", "stock keeping unit"),
    ("order.items.*.name", "string", "product name"),
    ("order.items.*.quantity", "number", "units ordered"),
    *_money("order.items.*.unit_price", "price of one unit"),
    ("order.items_count", "number", "units ordered, all lines together"),
    ("order.sales_channel", "string", "web, app, marketplace, ..."),
    ("order.payment_id", "string", "id of the successful payment"),
    ("order.payment_failures", "number", "distinct failed payment attempts"),
    ("order.last_payment_failure_reason", "string", "reason code of the latest failed payment"),
    ("order.last_payment_failure_at", "timestamp", "when the latest payment failed"),
    ("order.retry_url", "string", "where the customer can pay again (latest failed payment)"),
    ("order.carrier", "string", "carrier of the latest dispatched parcel"),
    ("order.tracking_number", "string", "tracking number of the latest dispatched parcel"),
    ("order.tracking_url", "string", "tracking page of the latest dispatched parcel"),
    ("order.shipments", "array", "parcels, in dispatch order"),
    ("order.shipments.*", "object", "one parcel"),
    ("order.shipments.*.shipment_id", "string", "shipment id"),
    ("order.shipments.*.status", "string", "pending, dispatched, delayed, exception or delivered"),
    ("order.shipments.*.carrier", "string", "carrier name"),
    ("order.shipments.*.tracking_number", "string", "tracking number"),
    ("order.shipments.*.tracking_url", "string", "tracking page"),
    ("order.shipments.*.dispatched_at", "timestamp", "when it left the warehouse"),
    ("order.shipments.*.estimated_delivery", "timestamp", "its latest delivery estimate"),
    ("order.shipments.*.delay_reason", "string", "why it is late"),
    ("order.shipments.*.delivered_at", "timestamp", "when it arrived"),
    ("order.shipments.*.signed_by", "string", "who signed for it"),
    ("order.shipments.*.exceptions", "array", "what went wrong with it"),
    ("order.shipments.*.exceptions.*", "object", "one exception"),
    ("order.shipments.*.exceptions.*.kind", "string", "lost, damaged, returned_to_sender or failed_attempt"),
    ("order.shipments.*.exceptions.*.note", "string", "carrier's note"),
    ("order.shipments.*.exceptions.*.at", "timestamp", "when it was reported"),
    ("order.shipment_exceptions", "array", "every parcel's exceptions, oldest first"),
    ("order.shipment_exceptions.*", "object", "one exception"),
    ("order.shipment_exceptions.*.shipment_id", "string", "the parcel"),
    ("order.shipment_exceptions.*.kind", "string", "lost, damaged, returned_to_sender or failed_attempt"),
    ("order.shipment_exceptions.*.note", "string", "carrier's note"),
    ("order.shipment_exceptions.*.at", "timestamp", "when it was reported"),
    ("order.returns", "array", "returns requested, oldest first"),
    ("order.returns.*", "object", "one return"),
    ("order.returns.*.return_id", "string", "return id"),
    (
        "order.returns.*.reason",
        "string",
        "damaged, wrong_item, not_as_described, late, changed_mind or other",
    ),
    ("order.returns.*.at", "timestamp", "when it was requested"),
    ("order.returns.*.skus", "array", "returned SKUs"),
    ("order.returns.*.skus.*", "string", "one returned SKU"),
    ("order.reviews", "array", "reviews, oldest first"),
    ("order.reviews.*", "object", "one review"),
    ("order.reviews.*.review_id", "string", "review id"),
    ("order.reviews.*.rating", "number", "stars, 1-5"),
    ("order.reviews.*.at", "timestamp", "when it was written"),
    ("order.reviews.*.title", "string", "review title"),
    ("order.reviews.*.sku", "string", "reviewed SKU"),
    ("order.latest_rating", "number", "rating of the latest review"),
    ("order.surveys", "array", "survey answers, one per scale (the latest), oldest first"),
    ("order.surveys.*", "object", "one survey answer"),
    ("order.surveys.*.scale", "string", "nps (score 0-10) or csat (score 1-5)"),
    ("order.surveys.*.score", "number", "the answer on its scale"),
    ("order.surveys.*.channel", "string", "where it came in: email, sms, web, app, phone, other"),
    ("order.surveys.*.at", "timestamp", "when it was answered"),
    ("order.latest_survey_scale", "string", "scale of the latest survey answer (nps or csat)"),
    ("order.latest_survey_score", "number", "score of the latest survey answer, on its scale"),
    (
        "order.survey_sentiment",
        "string",
        "latest answer: detractor (nps 0-6, csat 1-2), passive (nps 7-8, csat 3), promoter (nps 9+, csat 4+)",
    ),
    ("order.has_survey_answer", "boolean", "the customer answered a survey about the order"),
    (
        "order.hours_late_to_ship",
        "number",
        "hours past promised_ship_by (now if not shipped, else shipped_at)",
    ),
    (
        "order.delivery_delay_hours",
        "number",
        "hours the (actual, else estimated) delivery is past promised_delivery_by; negative = early",
    ),
    ("order.hours_since_delivery", "number", "hours from delivered_at to now"),
    ("order.is_paid", "boolean", "a payment succeeded"),
    ("order.is_shipped", "boolean", "a parcel was dispatched"),
    ("order.is_delivered", "boolean", "a parcel was delivered"),
    ("order.is_cancelled", "boolean", "the order was cancelled"),
    ("order.has_return", "boolean", "a return was requested"),
    ("order.has_shipment_problem", "boolean", "a parcel was lost, damaged or returned to sender"),
    ("order.has_review", "boolean", "the customer wrote a review"),
]

_HISTORY: list[tuple[str, FactType, str]] = [
    ("history", "object", "actions already taken (suppressed ones excluded)"),
    ("history.rules", "object", "this order's actions by rule id"),
    ("history.rules.*", "object", "one rule's actions on this order"),
    ("history.rules.*.count", "number", "how many actions the rule took for this order"),
    ("history.rules.*.last_at", "timestamp", "send time of its latest action"),
    ("history.groups", "object", "this order's actions by group"),
    ("history.groups.*", "object", "one group's actions on this order"),
    ("history.groups.*.count", "number", "how many actions of the group were taken for this order"),
    ("history.groups.*.last_at", "timestamp", "send time of the group's latest action"),
    ("history.order", "object", "all actions taken for this order"),
    ("history.order.count", "number", "how many"),
    ("history.order.last_at", "timestamp", "send time of the latest"),
    ("history.customer", "object", "the customer's contacts across orders"),
    ("history.customer.sent_24h", "number", "contacts sent or due in the 24 hours before now (and later)"),
    ("history.customer.sent_7d", "number", "contacts sent or due in the 7 days before now (and later)"),
    ("history.customer.last_at", "timestamp", "send time of the latest contact"),
]


def _is_optional(annotation: Any) -> bool:
    """True for `X | None` (possibly inside Annotated)."""
    if get_origin(annotation) is Annotated:
        return _is_optional(get_args(annotation)[0])
    return get_origin(annotation) in (Union, types.UnionType) and type(None) in get_args(annotation)


def _nullable_paths(prefix: str, model: type[BaseModel], optional: bool = False) -> Iterable[str]:
    """The paths under `model` that may be null: optional fields and everything under one."""
    for name, field in model.model_fields.items():
        path = f"{prefix}.{name}"
        annotation = field.annotation
        nullable = optional or _is_optional(annotation) or not field.is_required()
        if nullable:
            yield path
        inner = _strip_optional(annotation)
        if get_origin(inner) is list:
            (inner,) = get_args(inner)
            path = f"{path}.*"
        if isinstance(inner, type) and issubclass(inner, Money):
            if nullable:
                yield from (f"{path}.amount", f"{path}.amount_text", f"{path}.currency")
        elif isinstance(inner, type) and issubclass(inner, BaseModel):
            yield from _nullable_paths(path, inner, nullable)


def _event_facts() -> list[FactField]:
    """`event.*`: the envelope's own fields, every detail model's fields, and derived delay hours."""
    every: list[FactField] = [
        FactField("event", "object", "the event being decided on: its detail plus type, id, time, source"),
        FactField("event.type", "string", "detail-type, e.g. ShipmentDelayed"),
        FactField("event.id", "string", "event id"),
        FactField("event.time", "timestamp", "when it happened"),
        FactField("event.source", "string", "sending platform, e.g. shop.logistics"),
    ]
    seen: dict[str, tuple[FactType, list[str], list[str]]] = {}
    for detail_type, model in DETAIL_MODELS.items():
        for path, fact_type, description in _model_facts("event", model):
            _, carriers, descriptions = seen.setdefault(path, (fact_type, [], []))
            carriers.append(detail_type)
            if description not in descriptions:
                descriptions.append(description)
    nullable = {path for model in DETAIL_MODELS.values() for path in _nullable_paths("event", model)}
    every_type = len(DETAIL_MODELS)
    for path, (fact_type, carriers, descriptions) in seen.items():
        only = () if len(carriers) == every_type else tuple(carriers)
        every.append(FactField(path, fact_type, " / ".join(descriptions), only, path in nullable))
    delayed = ("ShipmentDelayed",)
    every.append(
        FactField(
            "event.delay_hours_vs_promise",
            "number",
            "hours new_estimate is past order.promised_delivery_by (null without a promise)",
            delayed,
            nullable=True,
        )
    )
    every.append(
        FactField(
            "event.delay_hours_vs_previous",
            "number",
            "hours new_estimate is past previous_estimate (null without one)",
            delayed,
            nullable=True,
        )
    )
    every.append(
        FactField(
            "event.sentiment",
            "string",
            "detractor (nps 0-6, csat 1-2), passive (nps 7-8, csat 3) or promoter (nps 9-10, csat 4-5)",
            ("SurveyAnswered",),
        )
    )
    return every


# The `order`, `customer` and `history` facts that are null (or absent) for some orders: what an
# order has not done yet, what a platform may not send, a rule that never acted.
_NULLABLE_ORDER = (
    "placed_at paid_at shipped_at delivered_at cancelled_at cancel_reason promised_ship_by "
    "promised_delivery_by estimated_delivery previous_estimated_delivery total total.amount "
    "total.amount_text total.currency sales_channel payment_id last_payment_failure_reason "
    "last_payment_failure_at retry_url carrier tracking_number tracking_url latest_rating "
    "hours_late_to_ship delivery_delay_hours hours_since_delivery"
)
_NULLABLE_SHIPMENT = (
    "carrier tracking_number tracking_url dispatched_at estimated_delivery delay_reason "
    "delivered_at signed_by"
)
_NULLABLE = frozenset(
    {
        *(f"order.{name}" for name in _NULLABLE_ORDER.split()),
        *(f"order.shipments.*.{name}" for name in _NULLABLE_SHIPMENT.split()),
        "order.shipments.*.exceptions.*.note",
        "order.shipment_exceptions.*.note",
        "order.returns.*.skus",
        "order.reviews.*.title",
        "order.reviews.*.sku",
        "customer.id",
        "customer.email",
        "customer.phone",
        "customer.name",
        "history.rules.*",
        "history.rules.*.count",
        "history.rules.*.last_at",
        "history.groups.*",
        "history.groups.*.count",
        "history.groups.*.last_at",
        "history.order.last_at",
        "history.customer.last_at",
    }
)


def _build_schema() -> dict[str, FactField]:
    fields = [
        *_event_facts(),
        *(FactField(path, kind, text, nullable=path in _NULLABLE) for path, kind, text in _ORDER),
        FactField("customer", "object", "the customer (latest known; defaults when unknown)"),
        *(
            FactField(path, kind, text, nullable=path in _NULLABLE)
            for path, kind, text in _model_facts("customer", Customer)
        ),
        *(FactField(path, kind, text, nullable=path in _NULLABLE) for path, kind, text in _HISTORY),
        FactField("now", "timestamp", "the decision's clock (never the machine's)"),
    ]
    return {field.path: field for field in fields}


FACTS_SCHEMA: Mapping[str, FactField] = _build_schema()

# Patterns with "*" segments, grouped by segment count, for the wildcard match of is_fact_path.
_PATTERNS: dict[int, list[tuple[tuple[str, ...], FactField]]] = {}
for _field in FACTS_SCHEMA.values():
    if "*" in _field.path:
        _segments = tuple(_field.path.split("."))
        _PATTERNS.setdefault(len(_segments), []).append((_segments, _field))


def _lookup(path: str) -> FactField | None:
    exact = FACTS_SCHEMA.get(path)
    if exact is not None:
        return exact
    segments = path.split(".")
    for pattern, field in _PATTERNS.get(len(segments), ()):
        if all(want in ("*", got) for want, got in zip(pattern, segments, strict=True)):
            return field
    return None


def is_fact_path(path: str, detail_types: Iterable[str] | None = None) -> bool:
    """True when `path` names a fact (`*` segments match any key or array index).

    With `detail_types` (a rule's `on`), an `event.*` path must be carried by at least one of them,
    so a ShipmentDelayed rule reading `event.rating` is caught at validate time.
    """
    field = _lookup(path)
    if field is None:
        return False
    if detail_types is None or not field.detail_types:
        return True
    return any(detail_type in field.detail_types for detail_type in detail_types)


def is_nullable_fact(path: str) -> bool:
    """True when the fact `path` names may be null or absent for some order (`FactField.nullable`).

    A path under a nullable fact is nullable too (`order.total.amount` of an order not placed yet);
    an unknown path is not (it is reported as unknown elsewhere).
    """
    segments = path.split(".")
    for length in range(2, len(segments) + 1):
        field = _lookup(".".join(segments[:length]))
        if field is not None and field.nullable:
            return True
    return False


def suggest_fact_path(path: str) -> str | None:
    """The closest fact path, for a "did you mean" hint; None when nothing is close."""
    segments = path.split(".")
    candidates = [candidate for candidate in FACTS_SCHEMA if "*" not in candidate]
    for pattern, _ in _PATTERNS.get(len(segments), ()):
        # `history.rules.my-rule.cont` should suggest `history.rules.my-rule.count`, not the pattern
        filled = (got if want == "*" else want for want, got in zip(pattern, segments, strict=True))
        candidates.append(".".join(filled))
    matches = difflib.get_close_matches(path, candidates, n=1, cutoff=0.6)
    return matches[0] if matches else None


@lru_cache(maxsize=1)
def _timestamps() -> frozenset[str]:
    return frozenset(
        path for path, field in FACTS_SCHEMA.items() if field.type == "timestamp" and "*" not in path
    )


def timestamp_fact_paths() -> set[str]:
    """Concrete (wildcard-free) timestamp facts: what a rule's `at:` may name."""
    return set(_timestamps())


def facts_table_markdown() -> str:
    """The facts table for rule authors (docs/facts-table.md), generated so it never drifts."""
    lines = [
        "<!-- generated by touchpoints.contract.facts.facts_table_markdown(); do not edit by hand -->",
        "",
        "# Facts a rule can read",
        "",
        "Every `var` in a rule's `when` and every `{{ … }}` in a template reads one of these paths.",
        "Timestamps are RFC 3339 strings in UTC (`2026-03-01T10:00:00Z`); money amounts are numbers",
        "(`amount_text` keeps the exact decimal string for display). `*` stands for any key or array",
        "index (`history.rules.late-shipment-notice.count`, `order.shipments.0.carrier`). A missing",
        "fact reads as `null`; *may be null* marks the facts a template must guard before printing",
        '(`{% if customer.name %}…{% endif %}` or `customer.name | default("there")`).',
        "",
        "| path | type | description |",
        "| --- | --- | --- |",
    ]
    for path, field in FACTS_SCHEMA.items():
        description = field.description.replace("|", "\\|")
        if field.detail_types:
            description += f" *(only {', '.join(field.detail_types)})*"
        if field.nullable:
            description += " *(may be null)*"
        lines.append(f"| `{path}` | {field.type} | {description} |")
    return "\n".join(lines) + "\n"


# -- which facts a rule reads ---------------------------------------------------------------------

FactNeeds = Mapping[str, frozenset[str] | None]
"""Which facts a set of rules reads: top-level section -> the keys read in it (None = all of it).

The catalog computes it once per rule and per trigger; the journey's facts builder builds only
what it names. Shared by both, so it is never mutated: `merge_needs` returns a new mapping.
"""


def fact_needs(paths: Iterable[str]) -> FactNeeds | None:
    """The sections and keys that literal fact paths read; None when a path is the whole data ("")."""
    needs: dict[str, set[str] | None] = {}
    for path in paths:
        if path == "":
            return None
        section, dot, rest = path.partition(".")
        if not dot:
            needs[section] = None
            continue
        keys = needs.get(section, set())
        if keys is not None:
            keys.add(rest.partition(".")[0])
            needs[section] = keys
    return {section: None if keys is None else frozenset(keys) for section, keys in needs.items()}


def merge_needs(first: FactNeeds | None, second: FactNeeds | None) -> FactNeeds | None:
    """The facts two sets of rules read together (None, the whole data, absorbs everything)."""
    if first is None or second is None:
        return None
    merged = dict(first)
    for section, keys in second.items():
        if section not in merged:
            merged[section] = keys
        else:
            current = merged[section]
            merged[section] = None if current is None or keys is None else current | keys
    return merged


# -- what a fact can be: its type and, for enumerated facts, its values ---------------------------------

_JOURNEY_VALUES: Mapping[str, tuple[str, ...]] = {
    "order.status": ("new", "placed", "payment_failed", "paid", "shipped", "delivered", "cancelled"),
    "order.shipments.*.status": ("pending", "dispatched", "delayed", "exception", "delivered"),
}
"""Values of the journey's own enumerated facts (its reducer keeps them; a test checks both agree)."""

_COPIED_VALUES: Mapping[str, str] = {
    "order.cancel_reason": "OrderCancelled:event.reason",
    "order.last_payment_failure_reason": "PaymentFailed:event.reason_code",
    "order.shipments.*.delay_reason": "ShipmentDelayed:event.reason",
    "order.shipments.*.exceptions.*.kind": "ShipmentException:event.kind",
    "order.shipment_exceptions.*.kind": "ShipmentException:event.kind",
    "order.returns.*.reason": "ReturnRequested:event.reason",
}
"""Journey facts that copy an event field: they take the values of that field's Literal."""


def fact_field(path: str) -> FactField | None:
    """The schema entry of a fact path (`*` segments match any key or index), None when it is no fact."""
    return _lookup(path)


@lru_cache(maxsize=1)
def _literal_values() -> dict[str, tuple[str, ...]]:
    """path -> allowed values, for every fact whose model field is a Literal (over all detail-types)."""
    found: dict[str, set[str]] = {}

    def walk(prefix: str, model: type[BaseModel], detail_type: str = "") -> None:
        for name, field in model.model_fields.items():
            annotation = _strip_optional(field.annotation)
            path = f"{prefix}.{name}"
            if get_origin(annotation) is Literal:
                options = {str(v) for v in get_args(annotation)}
                found.setdefault(path, set()).update(options)
                found.setdefault(f"{detail_type}:{path}", set()).update(options)  # one type's values
            elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
                walk(path, annotation, detail_type)

    for detail_type, model in DETAIL_MODELS.items():
        walk("event", model, detail_type)
    walk("customer", Customer)
    values = {path: tuple(sorted(options)) for path, options in found.items()}
    values.update(_JOURNEY_VALUES)
    return values


def fact_values(path: str) -> tuple[str, ...] | None:
    """The values an enumerated fact can take (`customer.tier`: standard, silver, gold, platinum), else None.

    `event.reason` is the union over the event types that carry it (a ReturnRequested and an
    OrderCancelled reason differ); the validator narrows nothing further, so it never refuses a
    value some trigger can carry.
    """
    values = _literal_values()
    field = _lookup(path)
    if field is None:
        return None
    copied = _COPIED_VALUES.get(field.path)
    if copied is not None:
        return values.get(copied)
    return values.get(field.path)
