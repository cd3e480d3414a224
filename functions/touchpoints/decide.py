"""The decision function (pure): journey state + event + catalog + history + clock -> decisions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from touchpoints.construct import construct
from touchpoints.contract import DecisionRecord, mask_address
from touchpoints.contract.timers import TIMER_TYPE
from touchpoints.journey import ContactEntry, apply_event, build_facts_for, note_timers
from touchpoints.logic import truthy
from touchpoints.outcome import Decision, TimerRequest, action_id_for
from touchpoints.policy import ContactLedger, Verdict, address_for, evaluate_action, has_consent
from touchpoints.policy.contact import NO_CONSENT, NO_CONTACT
from touchpoints.timestamps import to_utc

if TYPE_CHECKING:
    from touchpoints.catalog import Catalog, CompiledRule, Rule
    from touchpoints.contract import Channel, Customer, DecisionReason, DecisionStatus, Event
    from touchpoints.contract.facts import FactNeeds
    from touchpoints.journey import History, OrderJourney

__all__ = ["decide"]


def decide(
    state: OrderJourney | None,
    event: Event,
    catalog: Catalog,
    history: History,
    now: datetime,
) -> Decision:
    """Decide what this event means for the customer, deterministically and without side effects.

    1. An event whose business key is among the journey's recent keys is a duplicate: nothing
       changes (older copies are the store's to catch: `service.process_event`).
    2. The journey reduces the event; facts are built once, on the new state, at `now`.
    3. Rules indexed under the event's detail-type are evaluated. A rule with `after`/`at`
       decides nothing yet but asks for a timer (or decides now when that moment is past).
    4. Matched rules go through the contact policy, highest priority first (ties: rule id).
    5. A TimerFired event either releases actions deferred by quiet hours (same action ids) or
       evaluates its delayed rule on the facts of that moment; one the order is not waiting for
       (its decision was never committed) decides nothing. The new state lists the timers asked for.
    """
    new_state = apply_event(state, event)
    if new_state is state:  # the reducer hands back the very state for a key it already applied
        return Decision(state=state, is_duplicate=True)
    builder = _Builder(new_state, event, catalog, history, now)
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


class _Builder:
    """Collects the records, timers and contacts of one decision (internal, one per `decide` call)."""

    def __init__(
        self, state: OrderJourney, event: Event, catalog: Catalog, history: History, now: datetime
    ) -> None:
        self.state = state
        self.event = event
        self.key = event.key_digests[0]  # the business key every new action id derives from
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
            self._facts = build_facts_for(self.state, self.event, self.history, self.now, self._needs)
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
        self._act(matched, trigger=self.event.detail_type)

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
        detail: Any = self.event.detail
        rule_id: str = detail.rule_id
        trigger_event_id: str = detail.trigger_event_id
        deferred = [
            entry
            for entry in self.history.order
            if entry.status == "scheduled" and entry.rule_id == rule_id and entry.event_id == trigger_event_id
        ]
        if self.key not in self.state.timers:
            return  # the order is not waiting for it (the commit after scheduling failed): inert
        compiled = self.catalog.rules.get(rule_id)
        if compiled is None or not compiled.rule.enabled:
            return  # the rule left the catalog or was switched off: nothing to decide, not an error
        if deferred:
            for entry in deferred:
                self._release(compiled.rule, entry)
            return
        if compiled.rule.after is None and compiled.rule.at is None:
            return
        self._needs = compiled.needs
        if self._matches(compiled):
            self._act([compiled], trigger=compiled.rule.on[0])

    def _release(self, rule: Rule, entry: ContactEntry) -> None:
        """Turn a `scheduled` action into `pending` (same action id), re-checking address and consent.

        Only what the customer can have changed since is re-checked: a withdrawn consent or a
        removed address suppresses the action. Caps and limits were applied when it was decided.
        """
        customer = self.customer
        reason: DecisionReason | None = None
        if customer is None or address_for(entry.channel, customer) is None:
            reason = NO_CONTACT
        elif not has_consent(rule.category, entry.channel, customer):
            reason = NO_CONSENT
        status: DecisionStatus = "suppressed" if reason else "pending"
        record = self._record(
            rule,
            entry.channel,
            Verdict(status, reason, max(entry.at, self.now) if not reason else self.now),
            event_id=entry.event_id,
            trigger=rule.on[0],
            action_id=entry.action_id,
        )
        self.records.append(record)
        self.contacts.append(self._contact(rule, record))

    # -- policy ---------------------------------------------------------------------------------

    def _act(self, matched: list[CompiledRule], *, trigger: str) -> None:
        """Put matched rules through the policy in the catalog's order (priority, then id)."""
        for compiled in matched:
            rule = compiled.rule
            for action in rule.then:
                verdict = evaluate_action(
                    rule,
                    action.channel,
                    self.customer,
                    event_id=self.event.id,
                    ledger=self.ledger,
                    policy=self.catalog.policy,
                    now=self.now,
                )
                record = self._record(rule, action.channel, verdict, event_id=self.event.id, trigger=trigger)
                self.records.append(record)
                if verdict.status == "suppressed":
                    continue
                contact = self._contact(rule, record)
                self.contacts.append(contact)
                self.ledger.add(contact)
                if verdict.status == "scheduled":
                    self._add_timer(rule.id, self.event.id, verdict.send_at)

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
                "decided_at": self.now,
                "send_at": verdict.send_at,
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
