"""What erasing a customer means (`touchpoints forget`), for every store alike.

Both stores call these, so an erased order reads the same in memory and in DynamoDB.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from touchpoints.contract.redaction import ERASED

if TYPE_CHECKING:
    from touchpoints.journey import OrderJourney

__all__ = ["ERASED", "erase_event_fields", "erased_journey"]

_PERSONAL_FIELDS = ("email", "phone", "name")


def erased_journey(state: OrderJourney) -> OrderJourney:
    """The journey without the customer's email, phone and name or who signed for the parcels.

    Shared by both stores so that an erased order reads the same in memory and in DynamoDB.
    """
    customer = state.customer
    return state.model_copy(
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


def erase_event_fields(event: dict[str, Any], customer_id: str) -> bool:
    """Drop the customer's contact fields and `signed_by` from an event envelope dict, in place.

    Only a `customer` whose id is `customer_id` loses its fields (an order may have changed hands).
    Returns True if anything was removed, so a second erasure reports nothing new.
    """
    detail = event.get("detail")
    if not isinstance(detail, dict):
        return False
    changed = detail.pop("signed_by", None) is not None
    customer = detail.get("customer")
    if isinstance(customer, dict) and customer.get("id") == customer_id:
        for name in _PERSONAL_FIELDS:
            changed = customer.pop(name, None) is not None or changed
    return changed
