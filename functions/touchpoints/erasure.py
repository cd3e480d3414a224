"""What erasing a customer means (`touchpoints forget`), for every store alike.

Both stores call these, so an erased order reads the same in memory and in DynamoDB. Erasure
first collects the customer's values from everything it is about to touch (`personal_values`:
emails, phones, names, who signed for a parcel), then scrubs every text of every item with them:
the contact fields are dropped, and each value, wherever it was copied (a carrier's note, a
review title, a payment link, a provider's error quoting the address), becomes `[erased]`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from touchpoints.contract.redaction import ERASED, erase, erase_values

if TYPE_CHECKING:
    from touchpoints.journey import OrderJourney

__all__ = [
    "ERASED",
    "FREE_TEXT_KEYS",
    "erase_event_fields",
    "erased_journey",
    "personal_values",
    "scrub_text",
]

_PERSONAL_FIELDS = ("email", "phone", "name")

FREE_TEXT_KEYS = frozenset({"note", "title", "body", "retry_url", "tracking_url", "error", "address"})
"""Keys whose text a person or a provider wrote: besides the customer's values, any address or
phone number in them (masked or not) and each word of the customer's name is erased too."""

_WORD = re.compile(r"[^\W\d_]{3,}")


def personal_values(
    customer_id: str, states: Iterable[OrderJourney | None], events: Iterable[Mapping[str, Any]]
) -> frozenset[str]:
    """The customer's emails, phones (with and without `+`), names and signatures in these items.

    `events` are envelope dicts. Only a customer whose id is `customer_id` gives values (an order
    may have changed hands); every `signed_by` of these orders counts (the parcels were theirs).
    """
    found: set[str] = set()

    def add(value: object) -> None:
        if isinstance(value, str) and value.strip():
            found.add(value)
            if value.startswith("+"):
                found.add(value[1:])

    for state in states:
        if state is None:
            continue
        if state.customer is not None and state.customer.id == customer_id:
            for name in _PERSONAL_FIELDS:
                add(getattr(state.customer, name))
        for shipment in state.shipments.values():
            add(shipment.signed_by)
    for event in events:
        detail = event.get("detail")
        if not isinstance(detail, Mapping):
            continue
        add(detail.get("signed_by"))
        customer = detail.get("customer")
        if isinstance(customer, Mapping) and customer.get("id") == customer_id:
            for name in _PERSONAL_FIELDS:
                add(customer.get(name))
    return frozenset(found)


def _name_words(values: Iterable[str]) -> frozenset[str]:
    """Each word of the names among `values` (at least three letters): a note may say "left with Jane"."""
    return frozenset(word for value in values if "@" not in value for word in _WORD.findall(value))


def erase_text(text: str, values: Iterable[str]) -> str:
    """A free text erased: the customer's values, each word of their names, any address or phone."""
    values = frozenset(values)
    return erase(text, values | _name_words(values))


def _scrub(value: Any, values: frozenset[str], customer_id: str, key: str | None = None) -> Any:
    """A JSON value with every string scrubbed: free texts by `erase_text`, the rest by `erase_values`.

    Another customer's own object (an order that changed hands) is left as it is, and a text never
    grows longer than it was: what the contract's length limits accepted still parses.
    """
    if isinstance(value, str):
        scrubbed = erase_text(value, values) if key in FREE_TEXT_KEYS else erase_values(value, values)
        return scrubbed[: len(value)] if scrubbed != value else value
    if isinstance(value, list):
        return [_scrub(item, values, customer_id, key) for item in value]
    if isinstance(value, dict):
        if key == "customer" and value.get("id") != customer_id:
            return value
        return {name: _scrub(item, values, customer_id, name) for name, item in value.items()}
    return value


def scrub_text(name: str, text: str, values: Iterable[str]) -> str:
    """One text attribute of a stored item scrubbed as `_scrub` would (an action row's `error`, ...)."""
    known = frozenset(values)
    return erase_text(text, known) if name in FREE_TEXT_KEYS else erase_values(text, known)


def erased_journey(state: OrderJourney, values: Iterable[str] = ()) -> OrderJourney:
    """The journey without the customer's email, phone and name, who signed, or their values in any text.

    Called only for a journey whose customer is the one erased. Shared by both stores so that an
    erased order reads the same in memory and in DynamoDB.
    """
    from touchpoints.journey import OrderJourney

    customer = state.customer
    blanked = state.model_copy(
        update={
            "customer": customer.model_copy(update=dict.fromkeys(_PERSONAL_FIELDS))
            if customer is not None
            else None,
            "shipments": {
                sid: shipment.model_copy(update={"signed_by": None})
                for sid, shipment in state.shipments.items()
            },
        }
    )
    known = frozenset(values)
    if not known:
        return blanked
    dumped = blanked.model_dump(mode="json")
    owner = customer.id if customer is not None else ""
    scrubbed = _scrub(dumped, known, owner)
    return blanked if scrubbed == dumped else OrderJourney.model_validate(scrubbed)


def erase_event_fields(event: dict[str, Any], customer_id: str, values: Iterable[str] = ()) -> bool:
    """Drop the customer's contact fields, `signed_by` and a survey `comment` from an envelope; scrub texts.

    Only a `customer` whose id is `customer_id` loses its fields (an order may have changed hands);
    every text of the detail loses the customer's `values`. Changes `event` in place and returns
    True if anything changed, so a second erasure reports nothing new.
    """
    detail = event.get("detail")
    if not isinstance(detail, dict):
        return False
    changed = detail.pop("signed_by", None) is not None
    changed = detail.pop("comment", None) is not None or changed  # a survey answer's own words
    customer = detail.get("customer")
    if isinstance(customer, dict) and customer.get("id") == customer_id:
        for name in _PERSONAL_FIELDS:
            changed = customer.pop(name, None) is not None or changed
    known = frozenset(values)
    if known:
        scrubbed = _scrub(detail, known, customer_id)
        if scrubbed != detail:
            event["detail"] = scrubbed
            changed = True
    return changed
