"""JsonLogic compiled to Python: json-logic-js 2.x semantics, an explicit operator registry, date/time."""

from __future__ import annotations

from touchpoints.logic.compiler import (
    CompiledLogic,
    compile,
    evaluate,
    explain,
    variable_references,
    variables,
)
from touchpoints.logic.errors import (
    ArityError,
    EvaluationError,
    InvalidRuleError,
    LogicError,
    OperatorRegistryError,
    UnknownOperatorError,
)
from touchpoints.logic.explain import Trace
from touchpoints.logic.js import truthy
from touchpoints.logic.nodes import VarRef
from touchpoints.logic.reads import read_paths
from touchpoints.logic.registry import OperatorRegistry, OperatorSpec, default_operators

__all__ = [
    "ArityError",
    "CompiledLogic",
    "EvaluationError",
    "InvalidRuleError",
    "LogicError",
    "OperatorRegistry",
    "OperatorRegistryError",
    "OperatorSpec",
    "Trace",
    "UnknownOperatorError",
    "VarRef",
    "compile",
    "default_operators",
    "evaluate",
    "explain",
    "read_paths",
    "truthy",
    "variable_references",
    "variables",
]
