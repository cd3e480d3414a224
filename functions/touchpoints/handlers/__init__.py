"""Lambda handlers: thin Powertools adapters around `touchpoints.service`."""

from __future__ import annotations

from touchpoints.handlers.runtime import Runtime, build_runtime, get_runtime, set_runtime

__all__ = ["Runtime", "build_runtime", "get_runtime", "set_runtime"]
