"""Errors raised while compiling or evaluating JsonLogic, each carrying a JSON pointer to its node."""

from __future__ import annotations

from touchpoints.errors import TouchpointsError

__all__ = [
    "ArityError",
    "EvaluationError",
    "InvalidRuleError",
    "LogicError",
    "OperatorRegistryError",
    "UnknownOperatorError",
]


class LogicError(TouchpointsError):
    """Base of every JsonLogic error; `.pointer` locates the offending node ("" = the whole rule)."""

    def __init__(self, message: str, pointer: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.pointer = pointer

    def __str__(self) -> str:
        where = self.pointer or "/"
        return f"{self.message} (at {where})"


class UnknownOperatorError(LogicError):
    """Raised at compile time when a one-key object names an operator the registry does not hold."""


class ArityError(LogicError):
    """Raised at compile time when an operator gets fewer or more arguments than its arity table allows."""


class InvalidRuleError(LogicError):
    """Raised at compile time when a rule holds a value JSON cannot carry (a date, a set, an object key)."""


class EvaluationError(LogicError):
    """Raised while evaluating when json-logic-js would throw, or a custom operator fails."""


class OperatorRegistryError(LogicError):
    """Raised when a registry change is refused (bad name, bad arity bounds, replacing a special form)."""
