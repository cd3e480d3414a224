"""How long the store keeps what it writes: the contact ledger's window, and the audit rows' lifetime.

The contact policy decides on the ledger; this module says which part of the ledger it can ever
look at, so that every store prunes the same entries (the core plans the pruning, see
`touchpoints.commit`). It is derived from the catalog once, at cold start or when a replay begins.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from touchpoints.catalog import Catalog
    from touchpoints.journey import ContactEntry

__all__ = [
    "DEFAULT_LEDGER_WINDOW",
    "DEFAULT_RECORD_TTL",
    "HISTORY_FACTS_WINDOW",
    "Retention",
    "retention_for",
]

DEFAULT_LEDGER_WINDOW = timedelta(days=35)
"""The ledger window of a Retention built without a catalog (tests; a catalog always sets its own)."""

DEFAULT_RECORD_TTL = timedelta(days=400)
"""How long event markers and decision records live (DynamoDB TTL): the audit trail's year and a bit."""


@dataclass(frozen=True)
class Retention:
    """How long the contact ledger keeps an entry, and how long markers and decision records live.

    `window` is the longest window any cap, group, limit or `history.customer` fact looks back
    (plus a day); entries of the rules in `keep_rules` (a lifetime customer-scoped limit, no `per`)
    that count against it are kept for good: at most `limit.max` firings of such a rule ever pass
    the policy, so they stay few however many contacts the customer gets (a suppressed one never
    counts and goes with the window, like every other entry).
    `record_ttl` is the lifetime of event markers (from the event's time) and action rows (from
    their decision time).
    """

    window: timedelta = DEFAULT_LEDGER_WINDOW
    keep_rules: frozenset[str] = frozenset()
    record_ttl: timedelta = DEFAULT_RECORD_TTL

    def prune(self, entries: Iterable[ContactEntry]) -> list[ContactEntry]:
        """Drop entries older than the window before the newest entry (the clock is the data's).

        What is left is bounded by the contacts of one window (plus the lifetime-limited rules'
        few firings), whatever the customer's number of orders and contacts
        (tests/integration/test_ledger_bounded.py). A list with nothing to drop comes back as it
        is (not copied): treat it as read-only.
        """
        kept = entries if isinstance(entries, list) else list(entries)
        if len(kept) < 2:
            return kept  # no entry, or only the newest
        newest = earliest = kept[0].at
        for entry in kept:
            at = entry.at
            if at > newest:
                newest = at
            elif at < earliest:
                earliest = at
        oldest = newest - self.window
        if earliest >= oldest:
            return kept  # nothing is old enough to go (the common case): the list itself
        keep = self.keep_rules
        return [
            entry
            for entry in kept
            if entry.at >= oldest or (entry.rule_id in keep and entry.status != "suppressed")
        ]


HISTORY_FACTS_WINDOW = timedelta(days=7)
"""The longest look back of the facts a rule may read about the ledger (`history.customer.sent_7d`)."""


def retention_for(catalog: Catalog) -> Retention:
    """The retention the catalog needs: its longest cap (channels too), group, limit or history-facts
    window, plus a day."""
    windows: list[timedelta] = [HISTORY_FACTS_WINDOW]
    keep: set[str] = set()
    policy: Any = catalog.policy
    for cap in getattr(policy, "caps", {}).values():
        windows.extend(cap.windows)
    for group in getattr(policy, "groups", {}).values():
        window = getattr(group, "window", None)
        if isinstance(window, timedelta):
            windows.append(window)
    for compiled in catalog.rules.values():
        limit = compiled.rule.limit
        if limit is None:
            continue
        if limit.per is not None:
            windows.append(limit.per)
        elif limit.scope == "customer":
            keep.add(compiled.rule.id)
    return Retention(window=max(windows) + timedelta(days=1), keep_rules=frozenset(keep))
