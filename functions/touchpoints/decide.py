"""The decision function (pure): journey state + event + catalog + history + clock -> decisions."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from touchpoints.construct import construct
from touchpoints.contract import DecisionRecord, mask_address
from touchpoints.contract.timers import TIMER_TYPE
from touchpoints.experiments import HOLDOUT, arm_for
from touchpoints.journey import ContactEntry, History, apply_event, build_facts_for, note_timers
from touchpoints.logic import truthy
from touchpoints.outcome import Decision, TimerRequest, action_id_for
from touchpoints.policy import (
    EXPIRED,
    RESOLVED,
    ContactLedger,
    Verdict,
    address_for,
    evaluate_action,
    is_expired,
)
from touchpoints.policy.contact import GROUP_EXCLUSION, RULE_LIMIT
from touchpoints.timestamps import to_utc

if TYPE_CHECKING:
    from touchpoints.catalog import Catalog, CompiledRule, Rule
    from touchpoints.contract import Channel, Customer, Event
    from touchpoints.contract.facts import FactNeeds
    from touchpoints.journey import OrderJourney

__all__ = ["decide", "waiting_actions"]


def decide(
    state: OrderJourney | None,
    event: Event,
    catalog: Catalog,
    history: History,
    now: datetime,
    *,
    trigger: Event | None = None,
) -> Decision:
    """Decide what this event means for the customer, deterministically and without side effects.

    1. An event whose business key is among the journey's recent keys is a duplicate: nothing
       changes (older copies are the store's to catch: `service.process_event`).
    2. The journey reduces the event; facts are built once, on the new state, at `now`.
    3. Rules indexed under the event's detail-type are evaluated. A rule with `after`/`at`
       decides nothing yet but asks for a timer (or decides now when that moment is past).
    4. Matched rules go through the contact policy, highest priority first (ties: rule id).
    5. A TimerFired event is a firing decided now: its delayed rule's first decision, or the
       release of the actions that waited for it (quiet hours, a cap). Both go through the same
       steps 3-4 on the state, facts and ledger of `now`; a released action keeps its action
       id and first `decided_at`, gains `released_at`, and ends `suppressed` / `resolved` when
       its rule no longer matches. `trigger` is the event a released action was first decided
       on (the service loads it): the rule's `event.*` facts are that event's, as they were
       then (without it, the TimerFired's). A timer the order is not waiting for (its decision
       was never committed, or it fired already) decides nothing. The new state lists the
       timers asked for.
    6. An action not sent within its rule's `expires_after` of its first decision (held by
       quiet hours or a cap past it) ends `suppressed` / `expired`.
    """
    new_state = apply_event(state, event)
    if new_state is state:  # the reducer hands back the very state for a key it already applied
        return Decision(state=state, is_duplicate=True)
    builder = _Builder(new_state, event, catalog, history, now, trigger)
    fired: str | None = None
    if event.detail_type == TIMER_TYPE:
        builder.on_timer()
        fired = event.key_digests[0]
    else:
        builder.on_event()
    if builder.timers or fired is not None:
        asked = ((timer.key, timer.due_at) for timer in builder.timers)
        new_state = note_timers(new_state, asked, fired=fired, now=now, fresh=True)
    # Decision(...) without the frozen dataclass's per-field setattr (one per event and timer).
    decision = _new(Decision)
    decision.__dict__.update(
        state=new_state,
        records=builder.records,
        timers=builder.timers,
        contacts=builder.contacts,
        is_duplicate=False,
    )
    return decision


_new = object.__new__


def waiting_actions(history: History, timer: Event, now: datetime) -> list[ContactEntry]:
    """The `scheduled` actions a TimerFired releases at `now`: of its rule and firing, due by `now`.

    The service asks before deciding a timer, to load the event those actions were first decided
    on (`decide(..., trigger=...)`); most timers are delayed rules' and release nothing.
    """
    detail: Any = timer.detail
    return _due(_of_firing(history, detail.rule_id, detail.trigger_event_id), _released_by(timer, now))


def _of_firing(history: History, rule_id: str, firing: str) -> list[ContactEntry]:
    """The order's actions of one firing (a rule on one event), whatever their status."""
    return [entry for entry in history.order if entry.rule_id == rule_id and entry.event_id == firing]


def _due(entries: list[ContactEntry], by: datetime) -> list[ContactEntry]:
    """The waiting (`scheduled`) ones among `entries` whose time has come (`at` before `by`)."""
    return [entry for entry in entries if entry.status == "scheduled" and entry.at < by]


_SECOND = timedelta(seconds=1)


def _released_by(timer: Event, now: datetime) -> datetime:
    """What a timer releases: actions due by `now`, and the one it was set for in any case.

    A timer's `due_at` is its action's send time in whole seconds (a schedule's resolution), so
    an action due in that second is released even if the clock reads a moment earlier.
    """
    detail: Any = timer.detail
    due: datetime = detail.due_at
    return max(now + _MICROSECOND, due + _SECOND)


_MICROSECOND = timedelta(microseconds=1)


class _Builder:
    """Collects the records, timers and contacts of one decision (internal, one per `decide` call)."""

    def __init__(
        self,
        state: OrderJourney,
        event: Event,
        catalog: Catalog,
        history: History,
        now: datetime,
        trigger: Event | None = None,
    ) -> None:
        self.state = state
        self.event = event
        self.key = event.key_digests[0]  # the business key every new action id derives from
        self.trigger = trigger
        self._facts_event = event
        self.catalog = catalog
        self.history = history
        self.now = now
        self.customer: Customer | None = state.customer if state.customer is not None else event.customer
        self.records: list[DecisionRecord] = []
        self.timers: list[TimerRequest] = []
        self.contacts: list[ContactEntry] = []
        self._ledger: ContactLedger | None = None
        self._facts: dict[str, Any] | None = None
        self._needs: FactNeeds | None = None
        self._timer_names: set[str] = set()

    @property
    def ledger(self) -> ContactLedger:
        """The policy's ledger, copied from the history on first use (most events match no rule)."""
        if self._ledger is None:
            self._ledger = ContactLedger.of(self.history.order, self.history.customer)
        return self._ledger

    @property
    def facts(self) -> dict[str, Any]:
        """The facts of this moment, built on first use and only the parts the rules at hand read."""
        if self._facts is None:
            self._facts = build_facts_for(self.state, self._facts_event, self.history, self.now, self._needs)
        return self._facts

    # -- trigger events -------------------------------------------------------------------------

    def on_event(self) -> None:
        rules = self.catalog.rules_for(self.event.detail_type)
        if not rules:
            return
        self._needs = self.catalog.needs_for(self.event.detail_type)
        matched: list[CompiledRule] = []
        for compiled in rules:
            rule = compiled.rule
            if not rule.enabled:
                continue
            if rule.after is not None or rule.at is not None:
                due = self._due_at(rule)
                if due is None:
                    continue
                if due > self.now:
                    self._add_timer(rule.id, self.event.id, due)
                    continue
            if self._matches(compiled):
                matched.append(compiled)
        self._act(matched, trigger=self.event.detail_type, event_id=self.event.id)

    def _due_at(self, rule: Rule) -> datetime | None:
        """When a delayed rule decides: trigger time + `after`, or the `at` fact (+ `offset`)."""
        if rule.after is not None:
            return self.event.time + rule.after
        value = _lookup(self.facts, rule.at or "")
        moment = to_utc(value)
        if moment is None:
            return None
        return moment + rule.offset if rule.offset is not None else moment

    def _matches(self, compiled: CompiledRule) -> bool:
        return truthy(compiled.condition(self.facts))

    # -- timers ---------------------------------------------------------------------------------

    def on_timer(self) -> None:
        """A timer's firing: the first decision of a delayed rule, or the release of what waited for it.

        A firing that already has actions in the order's history (its `trigger_event_id` names
        the firing itself) is never decided afresh: its timer releases the actions due by now
        and nothing else, so a second timer of one firing can never send a second message.
        """
        detail: Any = self.event.detail
        rule_id: str = detail.rule_id
        firing: str = detail.trigger_event_id
        if self.key not in self.state.timers:
            return  # the order is not waiting for it (the commit after scheduling failed): inert
        compiled = self.catalog.rules.get(rule_id)
        if compiled is None:
            return  # the rule left the catalog: nothing to decide on, not an error
        decided = _of_firing(self.history, rule_id, firing)
        if decided:
            waiting = _due(decided, _released_by(self.event, self.now))
            if waiting:
                self._release(compiled, waiting)
            return
        rule = compiled.rule
        if not rule.enabled or not rule.is_delayed:
            return  # switched off, or a timer that is not this rule's to decide on
        self._needs = compiled.needs
        if self._matches(compiled):
            self._act([compiled], trigger=rule.on[0], event_id=self.event.id)

    def _release(self, compiled: CompiledRule, waiting: list[ContactEntry]) -> None:
        """Decide the waiting actions of one firing again, exactly as that firing would be decided now.

        The rule's `when` on the facts of now (`event.*` from the event they were decided on),
        then the policy (limit, group, address, consent, caps, quiet hours) on the ledger of now,
        without the waiting actions themselves: an action never counts against itself. A rule
        that no longer matches (or was switched off) suppresses them as `resolved`.
        """
        rule = compiled.rule
        own = {entry.action_id for entry in waiting}
        self.history = _without(self.history, own)
        trigger = self.trigger
        if trigger is not None and trigger.id == waiting[0].event_id:
            self._facts_event = trigger
        self._needs = compiled.needs
        detail_type = self._facts_event.detail_type
        matches = rule.enabled and self._matches(compiled)
        self._act(
            [compiled],
            trigger=rule.on[0] if detail_type == TIMER_TYPE else detail_type,
            event_id=waiting[0].event_id,
            waiting={entry.channel: entry for entry in waiting},
            resolved=not matches,
        )

    # -- policy ---------------------------------------------------------------------------------

    def _act(
        self,
        matched: list[CompiledRule],
        *,
        trigger: str,
        event_id: str,
        waiting: Mapping[Channel, ContactEntry] | None = None,
        resolved: bool = False,
    ) -> None:
        """Put matched rules through the policy in the catalog's order (priority, then id).

        `event_id` names the firing (the action ids derive from it). `waiting`, for a release:
        the actions decided again, by channel (only those channels are decided; each keeps its
        first decision time and always leaves a contact, replacing its `scheduled` entry).
        """
        for compiled in matched:
            rule = compiled.rule
            channels: list[Channel] = [action.channel for action in rule.then]
            gone: tuple[Channel, ...] = ()
            if waiting is not None:  # a channel the rule no longer has is no longer its action
                gone = tuple(channel for channel in waiting if channel not in channels)
                channels = [channel for channel in channels if channel in waiting]
                channels.extend(gone)
            for channel in channels:
                entry = waiting.get(channel) if waiting is not None else None
                decided_at = (entry.decided_at or self.now) if entry is not None else self.now
                verdict = self._verdict(
                    rule,
                    channel,
                    event_id,
                    decided_at,
                    resolved=resolved or channel in gone,
                    is_release=entry is not None,
                )
                verdict = self._hold_out(rule, verdict)
                record = self._record(
                    rule,
                    channel,
                    verdict,
                    event_id=event_id,
                    trigger=trigger,
                    decided_at=decided_at,
                    released_at=self.now if entry is not None else None,
                    action_id=entry.action_id if entry is not None else None,
                )
                self.records.append(record)
                if verdict.status == "suppressed" and entry is None:
                    continue
                contact = self._contact(rule, record)
                self.contacts.append(contact)
                self.ledger.add(contact)
                if verdict.status == "scheduled":
                    self._add_timer(rule.id, event_id, verdict.send_at)

    def _verdict(
        self,
        rule: Rule,
        channel: Channel,
        event_id: str,
        decided_at: datetime,
        *,
        resolved: bool,
        is_release: bool,
    ) -> Verdict:
        """The policy's verdict, unless the rule no longer matches or the action would go out too late."""
        now = self.now
        if resolved:
            return Verdict("suppressed", RESOLVED, now)
        if is_expired(rule, decided_at, now):
            return Verdict("suppressed", EXPIRED, now)
        verdict = evaluate_action(
            rule,
            channel,
            self.customer,
            event_id=event_id,
            ledger=self.ledger,
            policy=self.catalog.policy,
            now=now,
            is_release=is_release,
        )
        if verdict.status == "scheduled" and is_expired(rule, decided_at, verdict.send_at):
            return Verdict("suppressed", EXPIRED, now)
        return verdict

    def _hold_out(self, rule: Rule, verdict: Verdict) -> Verdict:
        """`held_out` instead of the message when the order is in the rule's experiment's holdout arm.

        The rule's limit and its group object first (the holdout arm would not have had those
        either), as do a release that no longer holds (`resolved`) or comes too late (`expired`);
        what comes after them (address, consent, caps, quiet hours) concerns a message the holdout
        arm never gets. A held-out action then counts for the limit and the group as if sent, and
        not for the caps (policy.contact).
        """
        experiment = rule.experiment
        if experiment is None or verdict.reason in (RULE_LIMIT, GROUP_EXCLUSION, RESOLVED, EXPIRED):
            return verdict
        customer_id = self.customer.id if self.customer is not None else None
        if arm_for(experiment, self.event.order_id, customer_id) != HOLDOUT:
            return verdict
        return Verdict("held_out", None, self.now)

    def _add_timer(self, rule_id: str, trigger_event_id: str, due: datetime) -> None:
        timer = TimerRequest(self.event.order_id, rule_id, trigger_event_id, due.astimezone(UTC))
        if timer.name not in self._timer_names:
            self._timer_names.add(timer.name)
            self.timers.append(timer)

    def _record(
        self,
        rule: Rule,
        channel: Channel,
        verdict: Verdict,
        *,
        event_id: str,
        trigger: str,
        decided_at: datetime,
        released_at: datetime | None,
        action_id: str | None = None,
    ) -> DecisionRecord:
        customer = self.customer
        spec = next((a for a in rule.then if a.channel == channel), None)
        template = spec.template if spec is not None else None
        wanted = customer.locale if customer is not None else self.catalog.policy.locales.default
        locale = self.catalog.locale_for(template, wanted) if template else wanted
        address = address_for(channel, customer)
        # Every field is computed here from validated inputs: construct without re-validating.
        return construct(
            DecisionRecord,
            {
                "action_id": action_id or action_id_for(self.key, rule.id, channel),
                "order_id": self.event.order_id,
                "customer_id": customer.id if customer is not None else None,
                "rule_id": rule.id,
                "trigger": trigger,
                "event_id": event_id,
                "channel": channel,
                "template": template,
                "locale": locale,
                "status": verdict.status,
                "reason": verdict.reason,
                "decided_at": decided_at,
                "send_at": verdict.send_at,
                "released_at": released_at,
                "catalog_version": self.catalog.version,
                "address": mask_address(address) if address else None,
                "detail_type": spec.detail_type if spec is not None else None,
                "message_id": None,
                "error": None,
            },
        )

    def _contact(self, rule: Rule, record: DecisionRecord) -> ContactEntry:
        return construct(
            ContactEntry,
            {
                "action_id": record.action_id,
                "order_id": record.order_id,
                "customer_id": record.customer_id,
                "rule_id": record.rule_id,
                "event_id": record.event_id,
                "channel": record.channel,
                "category": rule.category,
                "group": rule.group,
                "status": record.status,
                "at": record.send_at,
                "decided_at": record.decided_at,
            },
        )


def _without(history: History, actions: set[str]) -> History:
    """The history without these actions: what a fresh decision of their firing would have seen."""
    return construct(
        History,
        {
            "order": [entry for entry in history.order if entry.action_id not in actions],
            "customer": [entry for entry in history.customer if entry.action_id not in actions],
        },
    )


def _lookup(facts: dict[str, Any], path: str) -> Any:
    """Read a dotted fact path (`order.promised_ship_by`); None when any segment is missing."""
    value: Any = facts
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value
