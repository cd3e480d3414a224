"""Adapters: the ports the domain needs, their in-memory twins, and (lazily) the AWS implementations."""

from __future__ import annotations

import importlib
from typing import Any

from touchpoints.adapters.memory import InMemoryChannel, InMemoryDecisionStore, InMemoryTimerService
from touchpoints.adapters.ports import (
    Channel,
    ChannelError,
    ConflictError,
    DecisionStore,
    DuplicateEventError,
    OutboundMessage,
    StoredOrder,
    StoreError,
    TimerError,
    TimerService,
)

__all__ = [
    "Channel",
    "ChannelError",
    "ConflictError",
    "DecisionStore",
    "DuplicateEventError",
    "InMemoryChannel",
    "InMemoryDecisionStore",
    "InMemoryTimerService",
    "OutboundMessage",
    "StoreError",
    "StoredOrder",
    "TimerError",
    "TimerService",
]

# AWS implementations are imported on first use only, so that the pure core (which imports the
# ports from this package) never pulls boto3 in. name -> module inside this package.
_LAZY: dict[str, str] = {
    "DynamoDBDecisionStore": "dynamodb",
    "SesEmailChannel": "channels",
    "SnsSmsChannel": "channels",
    "EventBridgeChannel": "channels",
    "SchedulerTimerService": "scheduler",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
