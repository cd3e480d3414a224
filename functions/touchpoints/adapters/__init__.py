"""Adapters: the in-memory twins of the ports and (imported lazily) their AWS implementations.

The ports themselves are the core's (`touchpoints.ports`); this package only implements them.
"""

from __future__ import annotations

import importlib
from typing import Any

from touchpoints.adapters.memory import InMemoryChannel, InMemoryDecisionStore, InMemoryTimerService

__all__ = [
    "DynamoDBDecisionStore",
    "EventBridgeChannel",
    "InMemoryChannel",
    "InMemoryDecisionStore",
    "InMemoryTimerService",
    "SchedulerTimerService",
    "SesEmailChannel",
    "SnsSmsChannel",
    "SqsDeadLetterQueue",
]

# AWS implementations are imported on first use only, so that importing the in-memory twins (the
# simulator, `touchpoints test`) never pulls boto3 in. name -> module inside this package.
_LAZY: dict[str, str] = {
    "DynamoDBDecisionStore": "dynamodb",
    "SesEmailChannel": "channels",
    "SnsSmsChannel": "channels",
    "EventBridgeChannel": "channels",
    "SchedulerTimerService": "scheduler",
    "SqsDeadLetterQueue": "dead_letters",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
