"""The immutable operator registry: OperatorSpec, OperatorRegistry and the built-in table.

The table names every json-logic-js 2.x operator (no `method`) plus the date/time ones; the
implementations live by family in the `ops_*` modules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final, Literal

from touchpoints.logic.errors import OperatorRegistryError
from touchpoints.logic.ops_arithmetic import op_add, op_div, op_max, op_min, op_mod, op_mul, op_sub
from touchpoints.logic.ops_compare import (
    op_eq,
    op_ge,
    op_gt,
    op_le,
    op_lt,
    op_ne,
    op_not,
    op_strict_eq,
    op_strict_ne,
    op_truthy,
)
from touchpoints.logic.ops_data import op_log, op_missing, op_missing_some, op_var
from touchpoints.logic.ops_datetime import (
    op_add_hours,
    op_after,
    op_before,
    op_days_between,
    op_hours_between,
)
from touchpoints.logic.ops_sequences import op_cat, op_in, op_merge, op_substr

__all__ = [
    "BUILTIN_SPECS",
    "SPECIAL_FORMS",
    "OperatorKind",
    "OperatorRegistry",
    "OperatorSpec",
    "default_operators",
]

OperatorKind = Literal["eager", "data", "special"]

# Operators whose arguments are not all evaluated up front (short-circuit or scoped logic):
# the compiler implements them itself, so a registry can never replace them.
SPECIAL_FORMS: Final = frozenset({"if", "?:", "and", "or", "map", "filter", "reduce", "all", "none", "some"})


@dataclass(frozen=True, slots=True)
class OperatorSpec:
    """One operator: its implementation and arity. `kind` says how the compiler calls it.

    eager: `fn(*evaluated_args)`; data: `fn(data, *evaluated_args)`; special: the compiler's own code.
    """

    name: str
    fn: Callable[..., Any] | None
    min_args: int
    max_args: int | None
    kind: OperatorKind = "eager"

    def arity_text(self) -> str:
        """The arity as people read it: "2", "2-3", "1+"."""
        if self.max_args is None:
            return f"{self.min_args}+"
        if self.max_args == self.min_args:
            return str(self.min_args)
        return f"{self.min_args}-{self.max_args}"


class OperatorRegistry(Mapping[str, OperatorSpec]):
    """An immutable name -> OperatorSpec table; `with_operator` returns a new registry."""

    __slots__ = ("_specs",)

    def __init__(self, specs: Mapping[str, OperatorSpec]) -> None:
        self._specs: Mapping[str, OperatorSpec] = MappingProxyType(dict(specs))

    def __getitem__(self, name: str) -> OperatorSpec:
        return self._specs[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)

    def __repr__(self) -> str:
        return f"OperatorRegistry({sorted(self._specs)})"

    def with_operator(
        self,
        name: str,
        fn: Callable[..., Any],
        *,
        min_args: int = 0,
        max_args: int | None = None,
    ) -> OperatorRegistry:
        """A new registry where `name` calls `fn(*evaluated_args)`; this one is left unchanged."""
        if not isinstance(name, str) or not name:
            raise OperatorRegistryError(f"operator name must be a non-empty string, got {name!r}")
        if name in SPECIAL_FORMS or name in {"var", "missing", "missing_some"}:
            raise OperatorRegistryError(
                f"operator {name!r} is built into the compiler and cannot be replaced"
            )
        if not callable(fn):
            raise OperatorRegistryError(f"operator {name!r}: implementation must be callable, got {fn!r}")
        if min_args < 0 or (max_args is not None and max_args < min_args):
            raise OperatorRegistryError(
                f"operator {name!r}: bad arity bounds min_args={min_args}, max_args={max_args}"
            )
        specs = dict(self._specs)
        specs[name] = OperatorSpec(name, fn, min_args, max_args, "eager")
        return OperatorRegistry(specs)

    def without_operator(self, name: str) -> OperatorRegistry:
        """A new registry lacking `name` (rules using it then fail to compile with UnknownOperatorError)."""
        if name not in self._specs:
            raise OperatorRegistryError(f"operator {name!r} is not in the registry")
        return OperatorRegistry({key: spec for key, spec in self._specs.items() if key != name})


def _spec(
    name: str, fn: Callable[..., Any] | None, low: int, high: int | None, kind: OperatorKind = "eager"
) -> OperatorSpec:
    return OperatorSpec(name, fn, low, high, kind)


BUILTIN_SPECS: Final[Mapping[str, OperatorSpec]] = MappingProxyType(
    {
        spec.name: spec
        for spec in (
            _spec("var", op_var, 0, 2, "data"),
            _spec("missing", op_missing, 0, None, "data"),
            _spec("missing_some", op_missing_some, 2, 2, "data"),
            _spec("if", None, 1, None, "special"),
            _spec("?:", None, 1, None, "special"),
            _spec("and", None, 1, None, "special"),
            _spec("or", None, 1, None, "special"),
            _spec("map", None, 2, 2, "special"),
            _spec("filter", None, 2, 2, "special"),
            _spec("reduce", None, 2, 3, "special"),
            _spec("all", None, 2, 2, "special"),
            _spec("none", None, 2, 2, "special"),
            _spec("some", None, 2, 2, "special"),
            _spec("==", op_eq, 2, 2),
            _spec("===", op_strict_eq, 2, 2),
            _spec("!=", op_ne, 2, 2),
            _spec("!==", op_strict_ne, 2, 2),
            _spec(">", op_gt, 2, 2),
            _spec(">=", op_ge, 2, 2),
            _spec("<", op_lt, 2, 3),
            _spec("<=", op_le, 2, 3),
            _spec("!", op_not, 1, 1),
            _spec("!!", op_truthy, 1, 1),
            _spec("+", op_add, 0, None),
            _spec("-", op_sub, 1, 2),
            _spec("*", op_mul, 1, None),
            _spec("/", op_div, 2, 2),
            _spec("%", op_mod, 2, 2),
            _spec("max", op_max, 0, None),
            _spec("min", op_min, 0, None),
            _spec("merge", op_merge, 0, None),
            _spec("in", op_in, 2, 2),
            _spec("cat", op_cat, 0, None),
            _spec("substr", op_substr, 2, 3),
            _spec("log", op_log, 1, 1),
            _spec("hours_between", op_hours_between, 2, 2),
            _spec("days_between", op_days_between, 2, 2),
            _spec("before", op_before, 2, 2),
            _spec("after", op_after, 2, 2),
            _spec("add_hours", op_add_hours, 2, 2),
        )
    }
)

_DEFAULT: Final = OperatorRegistry(BUILTIN_SPECS)


def default_operators() -> OperatorRegistry:
    """Every json-logic-js 2.x operator (no `method`) plus the date/time operators; immutable."""
    return _DEFAULT
