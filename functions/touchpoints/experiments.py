"""Holdout experiments: which arm an order or customer is in, as a pure function of names and ids.

A rule with `experiment: {name, holdout, sticky}` holds out a share of its matches: they are
recorded `held_out` and never sent, so what the customers did next can be compared with the ones
who got the message (touchpoints.outcomes, `touchpoints report`). The arm is a hash of the
experiment's name and the sticky key (the order id, or the customer id), never a random draw: a
replay, `touchpoints simulate`, `touchpoints report` and production put every unit in the same arm,
and a customer-sticky experiment keeps all of a customer's orders together.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Final, Literal

if TYPE_CHECKING:
    from touchpoints.catalog import Experiment

__all__ = ["HOLDOUT", "TREATED", "Arm", "arm_for", "bucket", "sticky_key"]

Arm = Literal["holdout", "treated"]
HOLDOUT: Final = "holdout"
TREATED: Final = "treated"

_SCALE = float(1 << 64)


def bucket(name: str, key: str) -> float:
    """A number in [0, 100): sha256 of `name`, a unit separator and `key`, its first 8 bytes scaled.

    Uniform over keys whatever they look like (sequential ids included), stable across Python
    versions and machines (no `hash()`, which is salted per process).
    """
    digest = hashlib.sha256(f"{name}\x1f{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE * 100.0


def sticky_key(experiment: Experiment, order_id: str, customer_id: str | None) -> str:
    """What the experiment draws on: the order id, or the customer id (the order id when unknown).

    An order whose customer is not known yet is drawn by its own id, prefixed so that it can
    never collide with a customer id of the same spelling.
    """
    if experiment.sticky == "customer" and customer_id:
        return f"customer:{customer_id}"
    return f"order:{order_id}"


def arm_for(experiment: Experiment, order_id: str, customer_id: str | None) -> Arm:
    """`holdout` for a `holdout` percent share of the sticky keys, else `treated`."""
    key = sticky_key(experiment, order_id, customer_id)
    return HOLDOUT if bucket(experiment.name, key) < experiment.holdout else TREATED
