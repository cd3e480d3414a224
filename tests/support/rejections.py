"""What ProcessEvents logged about the records it rejected, for tests that check the readable reasons."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager


class Rejections(logging.Handler):
    """Collects the handler's "event rejected" log records (message id -> reason)."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.reasons: dict[str, str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() == "event rejected":
            self.reasons[str(getattr(record, "message_id", ""))] = str(getattr(record, "reason", ""))


@contextmanager
def collect_rejections() -> Iterator[Rejections]:
    """Listen to ProcessEvents' own logger (Powertools' logger does not propagate to caplog's root)."""
    from touchpoints.handlers import process_events

    collector = Rejections()
    logger = process_events.logger._logger
    logger.addHandler(collector)
    try:
        yield collector
    finally:
        logger.removeHandler(collector)
