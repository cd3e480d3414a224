"""Business keys: which fact an event reports, whatever its EventBridge id (docs/events.md).

EventBridge keeps an event's `id` only across its own redeliveries. A platform that sends the
same fact again (a webhook retry, an SDK's automatic PutEvents retry, a replayed export) gets a
new id. So an event is identified by its *business key*: its detail-type, its order and the
values of the fields its detail model declares in `key_fields` (OrderPlaced: the order;
ShipmentDelayed: the parcel and the new estimate; ...). A platform that has its own id of the
occurrence may also send it as `detail.idempotency_key`: then the event has a second key, scoped
to its source. An event is a duplicate when *any* of its keys was already applied to its order.

Keys are compared as digests (`key_digest`): fixed-width, free of personal data, usable as
DynamoDB sort keys (`ORDER#<id> / KEY#<digest>`, the idempotency markers) and in the journey's
window of recent keys. The action ids derive from the business key (`outcome.action_id_for`),
so two copies of one fact can never create two actions, even when they race.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from touchpoints.timestamps import format_seconds

if TYPE_CHECKING:
    from touchpoints.contract.models import DetailBase

__all__ = ["KEY_DIGEST_LENGTH", "business_key", "computed_once", "event_keys", "key_digest", "timer_key"]

KEY_DIGEST_LENGTH = 32
"""Hex characters of a key digest (128 bits, like an action id)."""


def _parts(detail_type: str, detail: DetailBase) -> list[str]:
    """The detail-type, the order id and the key values, as text (instants in whole UTC seconds)."""
    fields = type(detail).key_fields
    if not fields:
        raise TypeError(f"{type(detail).__name__} declares no business key (key_fields)")
    parts = [detail_type, detail.order_id]
    for name in fields:
        if name != "order_id":
            value = getattr(detail, name)
            parts.append(format_seconds(value) if isinstance(value, datetime) else str(value))
    return parts


def _digest(parts: list[str]) -> str:
    """The digest of key parts: joined by U+001F, each part escaped if it holds that or a backslash.

    Unambiguous (different parts, different text) and cheaper than JSON, which mattered: every
    event and every timer computes one (bench/simulate). A backslash-free join is only ever
    produced by parts that held neither character, so it cannot equal an escaped one.
    """
    text = "\x1f".join(parts)
    if "\\" in text or text.count("\x1f") != len(parts) - 1:
        text = "\x1f".join(part.replace("\\", "\\\\").replace("\x1f", "\\u001f") for part in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:KEY_DIGEST_LENGTH]


def business_key(detail_type: str, detail: DetailBase) -> str:
    """The readable business key: a JSON array of the detail-type, the order id and the key values.

    For logs and people; the markers, the journey and the action ids use its digest
    (`event_keys`). Instants are whole UTC seconds (as a timer's envelope carries its due time).
    It names ids and times only, never a personal field (a unit test checks every declaration).
    """
    return json.dumps(_parts(detail_type, detail), separators=(",", ":"), ensure_ascii=False)


def key_digest(parts: list[str]) -> str:
    """The fixed-width digest a key is stored and compared as, from its parts (see `business_key`)."""
    return _digest(parts)


def event_keys(detail_type: str, source: str, detail: DetailBase) -> tuple[str, ...]:
    """The digests of an event's keys: its business key first, then its idempotency key if it has one."""
    declared = _digest(_parts(detail_type, detail))
    supplied = detail.idempotency_key
    if supplied is None:
        return (declared,)
    return (declared, _digest(["idempotency_key", source, detail.order_id, supplied]))


def timer_key(order_id: str, rule_id: str, trigger_event_id: str, due_at: datetime) -> str:
    """The business-key digest the TimerFired of this timer will have, before it exists as an event.

    The parts `business_key` takes from TimerFired's `key_fields` (a unit test checks both agree).
    """
    return _digest(["TimerFired", order_id, rule_id, trigger_event_id, format_seconds(due_at)])


_T = TypeVar("_T")


class computed_once(Generic[_T]):
    """`functools.cached_property` without its lock: the value is stored in the instance's `__dict__`.

    Python 3.11's `cached_property` takes an RLock on every first access (a third of the cost of
    naming each of the simulator's timers); the values cached here are pure functions of frozen
    fields, so computing one twice in a race would give the same text. A non-data descriptor:
    once computed, the value is a plain `__dict__` hit, with no call at all (an event's keys are
    asked for eight times per event). Kept here, below every user of it (`Event.key_digests`,
    `TimerRequest.name`); pydantic models list it in `ignored_types`.
    """

    def __init__(self, func: Callable[[Any], _T]) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    @overload
    def __get__(self, instance: None, owner: type) -> computed_once[_T]: ...

    @overload
    def __get__(self, instance: object, owner: type) -> _T: ...

    def __get__(self, instance: object | None, owner: type) -> _T | computed_once[_T]:
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.func(instance)
        return value
