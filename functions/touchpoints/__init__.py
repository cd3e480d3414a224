"""Touchpoints: proactive customer-care messages driven by an order's journey."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
