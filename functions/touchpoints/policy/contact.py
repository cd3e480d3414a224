"""The contact policy: which matched actions may go out now, later, or not at all, and why."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from touchpoints.policy.quiet_hours import customer_zone, quiet_until

if TYPE_CHECKING:
    from touchpoints.catalog import ContactPolicy, Rule
    from touchpoints.contract import Customer, DecisionReason, DecisionStatus
    from touchpoints.journey import ContactEntry

__all__ = [
    "EXPIRED",
    "GROUP_EXCLUSION",
    "NO_CONSENT",
    "NO_CONTACT",
    "POLICY_ORDER",
    "QUIET_HOURS",
    "RATE_LIMIT",
    "RESOLVED",
    "RULE_LIMIT",
    "ContactLedger",
    "Verdict",
    "address_for",
    "capped_until",
    "evaluate_action",
    "exceeds_cap",
    "exceeds_rule_limit",
    "has_consent",
    "is_expired",
    "is_group_taken",
]

RULE_LIMIT: Final = "rule_limit"
GROUP_EXCLUSION: Final = "group_exclusion"
NO_CONTACT: Final = "no_contact"
NO_CONSENT: Final = "no_consent"
RATE_LIMIT: Final = "rate_limit"
QUIET_HOURS: Final = "quiet_hours"
RESOLVED: Final = "resolved"
"""A waiting action decided again at its release: its rule no longer matches (the situation resolved)."""
EXPIRED: Final = "expired"
"""An action not sent within its rule's `expires_after` of its decision."""

POLICY_ORDER: tuple[str, ...] = (RULE_LIMIT, GROUP_EXCLUSION, NO_CONTACT, NO_CONSENT, RATE_LIMIT, QUIET_HOURS)
"""The fixed order the checks run in; the first that objects gives the record its reason."""

_NOT_COUNTED = frozenset({"suppressed"})
_NOT_CAPPED = frozenset({"suppressed", "held_out"})
"""A held-out action counts for its rule's limit and its group as if sent, but the customer saw nothing."""


@dataclass(frozen=True)
class Verdict:
    """The policy's answer for one action: `pending` now, `scheduled` for `send_at`, or `suppressed`."""

    status: DecisionStatus
    reason: DecisionReason | None
    send_at: datetime


@dataclass
class ContactLedger:
    """The contacts the policy counts: the order's and the customer's history plus this decision's own.

    Entries added during a decision (`add`) count for the next actions of the same decision, so
    two rules matching one event cannot both slip under a cap of one.
    """

    order: list[ContactEntry] = field(default_factory=list)
    customer: list[ContactEntry] = field(default_factory=list)

    @classmethod
    def of(cls, order: Iterable[ContactEntry], customer: Iterable[ContactEntry]) -> ContactLedger:
        """A ledger over copies of the history lists (the history itself is never mutated)."""
        return cls(order=list(order), customer=list(customer))

    def add(self, entry: ContactEntry) -> None:
        """Count a contact decided now (never a suppressed one) for the rest of this decision."""
        if entry.status in _NOT_COUNTED:
            return
        self.order.append(entry)
        if entry.customer_id is not None:
            self.customer.append(entry)


def _since(now: datetime, window: timedelta | None) -> datetime | None:
    """The start of the window (an entry counts when `entry.at > since`), or None for no window.

    Computed once per check, not per entry: the loops below run over a customer's whole ledger,
    which grows over a long replay.
    """
    return None if window is None else now - window


def exceeds_rule_limit(rule: Rule, event_id: str, ledger: ContactLedger, now: datetime) -> bool:
    """True when the rule already fired `limit.max` times in its scope and window.

    A firing is one (rule, trigger event): a rule acting on email and sms at once fired once.
    The current firing (`event_id`) is not counted against itself.
    """
    limit = rule.limit
    if limit is None:
        return False
    entries = ledger.customer if limit.scope == "customer" else ledger.order
    rule_id = rule.id
    since = _since(now, limit.per)
    firings = {
        entry.event_id
        for entry in entries
        if entry.rule_id == rule_id
        and entry.event_id != event_id
        and entry.status not in _NOT_COUNTED
        and (since is None or entry.at > since)
    }
    return len(firings) >= limit.max


def is_group_taken(
    rule: Rule, event_id: str, ledger: ContactLedger, policy: ContactPolicy, now: datetime
) -> bool:
    """True when another firing of the rule's exclusion group already acted on this order in the window.

    A group not declared in the policy has no window: one action of it per order, ever.
    """
    if rule.group is None:
        return False
    name, rule_id = rule.group, rule.id
    group = policy.groups.get(name)
    since = _since(now, group.window if group is not None else None)
    return any(
        entry.group == name
        and not (entry.rule_id == rule_id and entry.event_id == event_id)
        and entry.status not in _NOT_COUNTED
        and (since is None or entry.at > since)
        for entry in ledger.order
    )


def is_expired(rule: Rule, decided_at: datetime, moment: datetime) -> bool:
    """True when sending at `moment` would be later than the rule's `expires_after` allows.

    Counted from the action's first decision (`decided_at`), whatever held it since: quiet
    hours, a cap, a stuck dispatch. Exactly at the limit is still in time.
    """
    expires_after = rule.expires_after
    return expires_after is not None and moment > decided_at + expires_after


def address_for(channel: str, customer: Customer | None) -> str | None:
    """The address a channel needs (email or phone), or None when the customer has none."""
    if customer is None:
        return None
    if channel == "email":
        return customer.email
    if channel == "sms":
        return customer.phone
    return None


def has_consent(category: str, channel: str, customer: Customer) -> bool:
    """Marketing needs `consent.marketing`; any text message needs `consent.sms`."""
    if category == "marketing" and not customer.consent.marketing:
        return False
    return not (channel == "sms" and not customer.consent.sms)


def exceeds_cap(
    category: str, policy: ContactPolicy, ledger: ContactLedger, now: datetime, channel: str | None = None
) -> bool:
    """True when the customer already has as many messages as a cap of this category allows.

    The category's own cap counts every channel; with `channel`, that channel's cap inside the
    category counts too. Transactional messages are never capped; `event` actions are not
    messages and never count, nor do held-out ones (an experiment's holdout arm got no message).
    """
    return capped_until(category, channel, policy, ledger, now) is not None


def capped_until(
    category: str,
    channel: str | None,
    policy: ContactPolicy,
    ledger: ContactLedger,
    now: datetime,
    *,
    is_release: bool = False,
) -> datetime | None:
    """None when no cap of the category (or of `channel` in it) is full at `now`, else when all have room.

    A message counts while `at > now - per`; a full cap (`count >= max`) has room again once
    enough of its oldest messages left the window: at the `(count - max + 1)`-th oldest's `at +
    per`. With two full caps (the category's and the channel's) the later of the two moments.

    Waiting (`scheduled`) messages are a queue. A fresh decision counts those not yet due (from
    their send time on): they were first, it waits behind them. A release (`is_release`) counts
    only messages that are going out: every other waiting one is behind it, or due with it and
    decided next, counting this one. Counted both ways, two texts deferred by one cap would push
    each other back for ever.
    """
    if category == "transactional":
        return None
    cap = next((value for key, value in policy.caps.items() if key == category), None)
    if cap is None:
        return None
    until: datetime | None = None
    if cap.max is not None and cap.per is not None:
        until = _room_at(ledger.customer, category, None, cap.max, cap.per, now, is_release)
    if channel is not None and cap.channels:
        channel_cap = next((value for key, value in cap.channels.items() if key == channel), None)
        if channel_cap is not None:
            moment = _room_at(
                ledger.customer, category, channel, channel_cap.max, channel_cap.per, now, is_release
            )
            if moment is not None and (until is None or moment > until):
                until = moment
    return until


def _room_at(
    entries: list[ContactEntry],
    category: str,
    channel: str | None,
    most: int,
    per: timedelta,
    now: datetime,
    is_release: bool,
) -> datetime | None:
    """When a cap of `most` per `per` has room again, or None when it has room now (see `capped_until`).

    Counted first, the common case: under the cap, no list is built. Only a full cap collects
    and sorts the send times of what it counted.
    """
    since = now - per
    count = 0
    for entry in entries:  # `_counts`, inlined: this loop runs over the ledger for every capped action
        at = entry.at
        if (
            at > since
            and entry.category == category
            and entry.channel != "event"
            and (channel is None or entry.channel == channel)
            and (status := entry.status) not in _NOT_CAPPED
            and not (status == "scheduled" and (is_release or at <= now))
        ):
            count += 1
    if count < most:
        return None
    times = sorted(entry.at for entry in entries if _counts(entry, category, channel, since, now, is_release))
    return times[count - most] + per


def _counts(
    entry: ContactEntry, category: str, channel: str | None, since: datetime, now: datetime, is_release: bool
) -> bool:
    """Whether a cap counts this entry: of the category (and channel), in the window, going out.

    A waiting (`scheduled`) entry counts for a fresh decision until its own release is due, and
    never for a release (the queue of `capped_until`).
    """
    at = entry.at
    if at <= since or entry.category != category or entry.channel == "event":
        return False
    if channel is not None and entry.channel != channel:
        return False
    status = entry.status
    if status in _NOT_CAPPED:
        return False
    return not (status == "scheduled" and (is_release or at <= now))


def _on_cap(category: str, policy: ContactPolicy) -> str:
    """What the category's cap does to a message over it: `drop` (the default) or `defer`."""
    cap = next((value for key, value in policy.caps.items() if key == category), None)
    return cap.on_cap if cap is not None else "drop"


def _quiet_applies(category: str, channel: str) -> bool:
    """Quiet hours hold back marketing on any channel, and text messages that are not transactional."""
    return category == "marketing" or (channel == "sms" and category != "transactional")


def evaluate_action(
    rule: Rule,
    channel: str,
    customer: Customer | None,
    *,
    event_id: str,
    ledger: ContactLedger,
    policy: ContactPolicy,
    now: datetime,
    is_release: bool = False,
) -> Verdict:
    """Run the checks of `POLICY_ORDER` for one action of a matched rule and return the verdict.

    rule limit -> exclusion group -> address -> consent -> caps -> quiet hours. The `event`
    channel reaches another system, not the customer: it skips address, consent, caps and quiet
    hours. A full cap drops the message (`suppressed`) or, with the category's `on_cap: defer`,
    schedules it for when the cap has room (`scheduled`, both with reason `rate_limit`);
    `is_release` when a waiting action is decided again (the caps' queue, `capped_until`). The
    caller records the verdict and adds non-suppressed ones to the ledger.
    """
    if exceeds_rule_limit(rule, event_id, ledger, now):
        return Verdict("suppressed", RULE_LIMIT, now)
    if is_group_taken(rule, event_id, ledger, policy, now):
        return Verdict("suppressed", GROUP_EXCLUSION, now)
    if channel == "event":
        return Verdict("pending", None, now)
    if customer is None or address_for(channel, customer) is None:
        return Verdict("suppressed", NO_CONTACT, now)
    if not has_consent(rule.category, channel, customer):
        return Verdict("suppressed", NO_CONSENT, now)
    room_at = capped_until(rule.category, channel, policy, ledger, now, is_release=is_release)
    if room_at is not None:
        if _on_cap(rule.category, policy) == "defer":
            return Verdict("scheduled", RATE_LIMIT, room_at)
        return Verdict("suppressed", RATE_LIMIT, now)
    quiet = policy.quiet_hours
    if quiet is not None and _quiet_applies(rule.category, channel):
        until = quiet_until(now, quiet.start, quiet.end, customer_zone(customer.timezone))
        if until is not None:
            return Verdict("scheduled", QUIET_HOURS, until)
    return Verdict("pending", None, now)
