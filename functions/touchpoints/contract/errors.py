"""The error a malformed event raises, with every field at fault in plain words."""

from __future__ import annotations

from dataclasses import dataclass

from touchpoints.errors import TouchpointsError

__all__ = ["FieldProblem", "InvalidEventError"]


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One field at fault: its dotted path in the envelope (`detail.order_id`) and what is wrong."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class InvalidEventError(TouchpointsError):
    """Raised by `parse_event` when an event is not valid JSON or breaks the event contract.

    One error per event lists every problem, so a platform team fixes them all in one round trip.
    """

    def __init__(self, event_id: str | None, detail_type: str | None, problems: list[FieldProblem]) -> None:
        self.event_id = event_id
        self.detail_type = detail_type
        self.problems = problems
        super().__init__(self._render())

    def _render(self) -> str:
        head = f"event {self.event_id}" if self.event_id else "event without id"
        if self.detail_type:
            head += f" ({self.detail_type})"
        return head + ": " + "; ".join(str(problem) for problem in self.problems)
