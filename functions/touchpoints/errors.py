"""The one exception base every Touchpoints error derives from."""

from __future__ import annotations

__all__ = ["TouchpointsError"]


class TouchpointsError(Exception):
    """Base of every error Touchpoints raises on purpose; anything else is a bug."""
