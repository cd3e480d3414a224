"""Re-decision at release, caps that defer, per-channel caps and `expires_after`, on a small catalog.

The catalog (tests/fixtures/release/rules): service messages are deferred at their caps (3 a day,
at most 1 text a day), marketing ones dropped; quiet hours 21:00-09:00 in the customer's zone.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.support.events import event, money, order_placed_detail

from touchpoints.catalog import Catalog, load_catalog
from touchpoints.contract import DecisionRecord, Event, parse_event
from touchpoints.decide import decide
from touchpoints.journey import ContactEntry, History
from touchpoints.outcome import Decision, TimerRequest, action_id_for
from touchpoints.simulator import simulate

RULES = Path(__file__).resolve().parents[2] / "fixtures" / "release" / "rules"
NEW_YORK = {
    "id": "C-NY",
    "email": "ana@example.com",
    "phone": "+12125550143",
    "timezone": "America/New_York",
    "consent": {"marketing": True, "sms": True},
}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(RULES)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def story(records: list[DecisionRecord], rule: str, channel: str, order: str | None = None) -> list[Any]:
    """(status, reason, send_at) of each record of one action, in the order they were decided."""
    return [
        (r.status, r.reason, r.send_at)
        for r in records
        if r.rule_id == rule and r.channel == channel and (order is None or r.order_id == order)
    ]


def delayed(
    order: str, time: str, customer: dict[str, Any] | None = None, estimate: str = "2026-03-09T20:00:00Z"
) -> Event:
    return event(
        "ShipmentDelayed",
        time,
        {"customer": customer or NEW_YORK, "shipment_id": "S1", "new_estimate": estimate},
        order_id=order,
    )


def dispatched(order: str, time: str, shipment: str = "S1") -> Event:
    return event(
        "ShipmentDispatched",
        time,
        {"customer": NEW_YORK, "shipment_id": shipment, "carrier": "UPS", "tracking_number": "1Z"},
        order_id=order,
    )


# -- re-decision at release, through the service (trigger loaded) ------------------------------


def test_a_released_text_does_not_count_against_its_own_cap(catalog: Catalog) -> None:
    # GIVEN a delay at 22:00 in New York: the email goes now, the text waits for 09:00 (14:00Z)
    records = list(simulate([delayed("A1", "2026-03-03T03:00:00Z")], catalog))
    # WHEN / THEN at 14:00Z the text is decided again with a cap of one text a day: its own
    # `scheduled` entry is not counted, so it is released
    assert story(records, "delay-text", "sms") == [
        ("scheduled", "quiet_hours", at("2026-03-03T14:00:00Z")),
        ("pending", None, at("2026-03-03T14:00:00Z")),
    ]


def test_a_parcel_delivered_overnight_resolves_the_waiting_text(catalog: Catalog) -> None:
    # GIVEN the same delay, and the parcel delivered at 07:00 local, before the text's release
    delivered = event("ShipmentDelivered", "2026-03-03T12:00:00Z", {"shipment_id": "S1"}, order_id="A2")
    # WHEN simulated
    records = list(simulate([delayed("A2", "2026-03-03T03:00:00Z"), delivered], catalog))
    # THEN the text's rule no longer matches at 14:00Z: suppressed / resolved, never pending
    sms = [r for r in records if r.rule_id == "delay-text" and r.channel == "sms"]
    assert [(r.status, r.reason) for r in sms] == [("scheduled", "quiet_hours"), ("suppressed", "resolved")]
    assert sms[1].decided_at == at("2026-03-03T03:00:00Z")
    assert sms[1].released_at == at("2026-03-03T14:00:00Z")


def test_a_text_over_its_channel_cap_is_deferred_and_decided_again_when_the_window_frees(
    catalog: Catalog,
) -> None:
    # GIVEN a dispatch text at 10:00 local (15:00Z) on one order, then a delay at 16:00Z on another
    events = [dispatched("B1", "2026-03-03T15:00:00Z"), delayed("B2", "2026-03-03T16:00:00Z")]
    # WHEN simulated
    records = list(simulate(events, catalog))
    # THEN the delay's email goes (service cap 3), its text waits for the text cap's window to
    # free (the dispatch text leaves it at 15:00Z the next day) and is then released
    assert story(records, "delay-text", "email") == [("pending", None, at("2026-03-03T16:00:00Z"))]
    assert story(records, "delay-text", "sms") == [
        ("scheduled", "rate_limit", at("2026-03-04T15:00:00Z")),
        ("pending", None, at("2026-03-04T15:00:00Z")),
    ]


def test_a_cap_deferral_is_re_decided_and_resolved_when_the_parcel_arrives_meanwhile(
    catalog: Catalog,
) -> None:
    # GIVEN the text deferred by the text cap, and the parcel delivered before the window frees
    events = [
        dispatched("B3", "2026-03-03T15:00:00Z"),
        delayed("B4", "2026-03-03T16:00:00Z"),
        event("ShipmentDelivered", "2026-03-04T10:00:00Z", {"shipment_id": "S1"}, order_id="B4"),
    ]
    # WHEN simulated
    records = list(simulate(events, catalog))
    # THEN at the window's end it is decided again: the rule no longer matches
    assert [(s, r) for s, r, _ in story(records, "delay-text", "sms", "B4")] == [
        ("scheduled", "rate_limit"),
        ("suppressed", "resolved"),
    ]


def test_a_marketing_message_over_its_cap_is_dropped(catalog: Catalog) -> None:
    # GIVEN two 5-star reviews on two orders within a week, at noon local
    reviews = [
        event(
            "ReviewSubmitted",
            time,
            {"customer": NEW_YORK, "review_id": f"R{n}", "rating": 5},
            order_id=f"M{n}",
        )
        for n, time in enumerate(["2026-03-03T17:00:00Z", "2026-03-05T17:00:00Z"], start=1)
    ]
    # WHEN simulated
    records = list(simulate(reviews, catalog))
    # THEN the marketing cap (on_cap: drop by default) suppresses the second thank-you for good
    assert [(r.order_id, r.status, r.reason) for r in records if r.rule_id == "thanks"] == [
        ("M1", "pending", None),
        ("M2", "suppressed", "rate_limit"),
    ]


def test_a_removed_phone_suppresses_the_released_text_as_no_contact(catalog: Catalog) -> None:
    # GIVEN the waiting text, and an event at 08:00 local telling us the customer has no phone now
    no_phone = {key: value for key, value in NEW_YORK.items() if key != "phone"}
    # (a new estimate: the same estimate again would be the same fact, a business duplicate)
    events = [
        delayed("A3", "2026-03-03T03:00:00Z"),
        delayed("A3", "2026-03-03T13:00:00Z", no_phone, estimate="2026-03-10T20:00:00Z"),
    ]
    # WHEN simulated
    records = list(simulate(events, catalog))
    # THEN the first delay's text is decided again at 14:00Z and has no address any more
    first = action_id_for(events[0].key_digests[0], "delay-text", "sms")
    assert [(r.status, r.reason) for r in records if r.action_id == first] == [
        ("scheduled", "quiet_hours"),
        ("suppressed", "no_contact"),
    ]


# -- expires_after -----------------------------------------------------------------------------


def test_an_action_that_could_only_go_out_after_its_expiry_is_expired_at_once(catalog: Catalog) -> None:
    # GIVEN a dispatch text (expires_after 6h) decided at 21:00 local: quiet hours hold it 12 hours
    records = list(simulate([dispatched("E1", "2026-03-03T02:00:00Z")], catalog))
    # WHEN / THEN it is suppressed as expired right away, and no timer waits for it
    assert story(records, "dispatched-text", "sms") == [("suppressed", "expired", at("2026-03-03T02:00:00Z"))]


def test_an_action_that_waits_less_than_its_expiry_is_released(catalog: Catalog) -> None:
    # GIVEN the same text decided at 07:00 local: two hours of quiet hours, within its 6 hours
    records = list(simulate([dispatched("E2", "2026-03-03T12:00:00Z")], catalog))
    # WHEN / THEN it waits and is released at 09:00 local
    assert [s for s, _, _ in story(records, "dispatched-text", "sms")] == ["scheduled", "pending"]


def test_a_release_later_than_the_expiry_is_expired(catalog: Catalog) -> None:
    # GIVEN a text scheduled for 14:00Z, decided at 12:00Z with expires_after 6h
    first = run(catalog, dispatched("E3", "2026-03-03T12:00:00Z"))
    (timer,) = first.timers
    # WHEN its timer is delivered hours late (a scheduler outage), at 18:30Z
    late = decide(first.state, fire(timer), catalog, after(first), at("2026-03-03T18:30:00Z"))
    # THEN it is not sent: suppressed / expired, keeping its first decision time
    (record,) = late.records
    assert (record.status, record.reason) == ("suppressed", "expired")
    assert (record.decided_at, record.released_at) == (at("2026-03-03T12:00:00Z"), at("2026-03-03T18:30:00Z"))
    # AND its contact entry replaces the scheduled one (it no longer counts for caps or limits)
    assert [(c.action_id, c.status) for c in late.contacts] == [(record.action_id, "suppressed")]


def test_a_cap_deferral_past_the_expiry_is_expired_at_once(catalog: Catalog) -> None:
    # GIVEN a text sent today at 10:00 local, and a dispatch text (6h expiry) at noon local
    events = [delayed("E4", "2026-03-03T15:00:00Z"), dispatched("E5", "2026-03-03T17:00:00Z")]
    # WHEN simulated
    records = list(simulate(events, catalog))
    # THEN the text cap would hold it until tomorrow: past its expiry, it is expired at once
    assert [(s, r) for s, r, _ in story(records, "dispatched-text", "sms")] == [("suppressed", "expired")]


# -- decide itself -------------------------------------------------------------------------------


def run(catalog: Catalog, item: Event, history: History | None = None) -> Decision:
    return decide(None, item, catalog, history or History(), item.time)


def fire(timer: TimerRequest) -> Event:
    return parse_event(timer.to_event())


def after(decision: Decision, history: History | None = None) -> History:
    """The history a store would hold after committing this decision (entries replaced by id)."""
    base = history or History()
    order = {e.action_id: e for e in base.order}
    customer = {e.action_id: e for e in base.customer}
    for contact in decision.contacts:
        order[contact.action_id] = contact
        customer[contact.action_id] = contact
    return History(order=list(order.values()), customer=list(customer.values()))


def sent(rule: str, channel: str, moment: str, **fields: Any) -> ContactEntry:
    values: dict[str, Any] = {
        "action_id": f"{rule}-{channel}-{moment}",
        "order_id": "OTHER",
        "customer_id": "C-NY",
        "rule_id": rule,
        "event_id": f"ev-{moment}",
        "channel": channel,
        "category": "service",
        "status": "sent",
        "at": at(moment),
        **fields,
    }
    return ContactEntry(**values)


def test_a_release_finding_the_cap_full_is_deferred_again_with_a_new_timer(catalog: Catalog) -> None:
    # GIVEN a text waiting for 14:00Z, and another text sent to the customer at 13:30Z meanwhile
    first = run(catalog, delayed("D1", "2026-03-03T03:00:00Z"))
    (timer,) = first.timers
    history = after(first)
    history.customer.append(sent("other", "sms", "2026-03-03T13:30:00Z"))
    # WHEN the timer releases it
    released = decide(first.state, fire(timer), catalog, history, timer.due_at)
    # THEN the text cap defers it again to when that text leaves the window, with a timer for then
    (record,) = released.records
    assert (record.status, record.reason, record.send_at) == (
        "scheduled",
        "rate_limit",
        at("2026-03-04T13:30:00Z"),
    )
    assert record.released_at == at("2026-03-03T14:00:00Z")
    assert record.decided_at == at("2026-03-03T03:00:00Z")
    assert released.timers == [TimerRequest("D1", "delay-text", timer.trigger_event_id, record.send_at)]


def test_a_release_rechecks_the_exclusion_group(catalog: Catalog) -> None:
    # GIVEN a waiting text, and another rule of its group that acted on the order meanwhile
    first = run(catalog, delayed("D2", "2026-03-03T03:00:00Z"))
    (timer,) = first.timers
    history = after(first)
    other = sent("delay-call", "email", "2026-03-03T10:00:00Z", order_id="D2", group="delay")
    history.order.append(other)
    # WHEN it is released / THEN the group excludes it, as it would a fresh decision
    released = decide(first.state, fire(timer), catalog, history, timer.due_at)
    assert [(r.status, r.reason) for r in released.records] == [("suppressed", "group_exclusion")]


def test_a_release_rechecks_the_rule_limit(catalog: Catalog) -> None:
    # GIVEN a dispatch text waiting for 09:00 local, and another firing of the rule (limit 1 per
    # order) sent meanwhile
    first = run(catalog, dispatched("D3", "2026-03-03T12:00:00Z"))
    (timer,) = first.timers
    history = after(first)
    history.order.append(sent("dispatched-text", "sms", "2026-03-03T13:00:00Z", order_id="D3"))
    # WHEN it is released / THEN the limit now refuses it
    released = decide(first.state, fire(timer), catalog, history, timer.due_at)
    assert [(r.status, r.reason) for r in released.records] == [("suppressed", "rule_limit")]


def test_a_rule_switched_off_while_an_action_waited_resolves_it(catalog: Catalog) -> None:
    # GIVEN a waiting text, and its rule disabled by the time the timer fires
    first = run(catalog, delayed("D4", "2026-03-03T03:00:00Z"))
    (timer,) = first.timers
    compiled = catalog.rules["delay-text"]
    off = dataclasses.replace(compiled, rule=compiled.rule.model_copy(update={"enabled": False}))
    switched = Catalog(
        catalog.root, {**catalog.rules, "delay-text": off}, catalog.policy, catalog.templates, "v2"
    )
    # WHEN it is released / THEN it is suppressed as resolved, not left waiting for ever
    released = decide(first.state, fire(timer), switched, after(first), timer.due_at)
    assert [(r.status, r.reason) for r in released.records] == [("suppressed", "resolved")]


def test_a_second_timer_of_a_decided_firing_never_decides_it_afresh() -> None:
    # GIVEN the shipped playbook's payment reminder (after 24h), already decided at its timer
    playbook = load_catalog(Path(__file__).resolve().parents[3] / "rules")
    placed = event("OrderPlaced", "2026-03-02T15:00:00Z", order_placed_detail(NEW_YORK), order_id="D5")
    failed = event(
        "PaymentFailed",
        "2026-03-02T16:00:00Z",
        {"payment_id": "P1", "amount": money("10.00"), "reason_code": "card_declined", "attempt": 1},
        order_id="D5",
    )
    one = decide(None, placed, playbook, History(), placed.time)
    two = decide(one.state, failed, playbook, after(one), failed.time)
    (delay,) = [t for t in two.timers if t.rule_id == "payment-unresolved-reminder"]
    three = decide(two.state, fire(delay), playbook, after(two, after(one)), delay.due_at)
    assert {r.status for r in three.records} == {"pending"}
    # WHEN a timer naming that firing arrives with nothing left waiting (an older timer, a retry)
    stray = TimerRequest("D5", "payment-unresolved-reminder", delay.name, delay.due_at + timedelta(hours=1))
    history = after(three, after(two, after(one)))
    fourth = decide(three.state, fire(stray), playbook, history, stray.due_at)
    # THEN nothing is decided: the reminder is not sent a second time
    assert (fourth.records, fourth.timers) == ([], [])


# -- Dispatch checks the expiry at send time ---------------------------------------------------


def _pending_text(catalog: Catalog, order: str) -> tuple[Any, DecisionRecord]:
    from touchpoints.adapters import InMemoryDecisionStore, InMemoryTimerService
    from touchpoints.service import process_event

    store = InMemoryDecisionStore()
    item = dispatched(order, "2026-03-03T15:00:00Z")  # 10:00 local: the text is pending at once
    process_event(item, catalog=catalog, store=store, timers=InMemoryTimerService(), now=item.time)
    (record,) = [r for r in store.records_for_order(order) if r.rule_id == "dispatched-text"]
    assert record.status == "pending"
    return store, record


def test_dispatch_does_not_send_a_pending_action_past_its_expiry(catalog: Catalog) -> None:
    from touchpoints.adapters import InMemoryChannel
    from touchpoints.service import dispatch_action

    # GIVEN a pending text (expires_after 6h) that Dispatch only gets 6 hours and a minute later
    store, record = _pending_text(catalog, "X1")
    sms = InMemoryChannel("sns")
    late = record.decided_at + timedelta(hours=6, minutes=1)
    # WHEN it is dispatched
    result = dispatch_action(record, catalog=catalog, store=store, channels={"sms": sms}, now=late)
    # THEN nothing is sent and the record says why
    assert result.status == "expired"
    assert sms.sent == []
    (stored,) = [r for r in store.records_for_order("X1") if r.action_id == record.action_id]
    assert (stored.status, stored.reason) == ("suppressed", "expired")


def test_dispatch_sends_a_pending_action_exactly_at_its_expiry(catalog: Catalog) -> None:
    from touchpoints.adapters import InMemoryChannel
    from touchpoints.service import dispatch_action

    # GIVEN the same text dispatched exactly 6 hours after its decision
    store, record = _pending_text(catalog, "X2")
    sms = InMemoryChannel("sns")
    # WHEN / THEN it is still in time
    result = dispatch_action(
        record,
        catalog=catalog,
        store=store,
        channels={"sms": sms},
        now=record.decided_at + timedelta(hours=6),
    )
    assert result.status == "sent"
    assert len(sms.sent) == 1


def test_texts_deferred_by_one_cap_go_one_after_another_never_pushing_each_other_back(
    catalog: Catalog,
) -> None:
    # GIVEN three delays at once on three orders: one text goes, two wait for the text cap (1 a day)
    events = [delayed(f"Q{n}", "2026-03-02T15:00:00Z") for n in range(3)]
    # WHEN simulated
    records = list(simulate(events, catalog))
    # THEN each waiting text goes as soon as the cap has room: a day, then two days later, and no
    # text is still waiting (counted both ways, they would push each other back for ever)
    final = {r.action_id: r for r in records if r.channel == "sms"}
    assert sorted((r.status, r.send_at) for r in final.values()) == [
        ("pending", at("2026-03-02T15:00:00Z")),
        ("pending", at("2026-03-03T15:00:00Z")),
        ("pending", at("2026-03-04T15:00:00Z")),
    ]


def test_a_channel_taken_out_of_the_rule_while_it_waited_is_resolved(catalog: Catalog) -> None:
    # GIVEN a waiting text, and its rule edited to send only the email by the time the timer fires
    first = run(catalog, delayed("D6", "2026-03-03T03:00:00Z"))
    (timer,) = first.timers
    compiled = catalog.rules["delay-text"]
    email_only = compiled.rule.model_copy(update={"then": compiled.rule.then[:1]})
    edited = Catalog(
        catalog.root,
        {**catalog.rules, "delay-text": dataclasses.replace(compiled, rule=email_only)},
        catalog.policy,
        catalog.templates,
        "v2",
    )
    # WHEN it is released / THEN it is suppressed as resolved, its contact replacing the waiting one
    released = decide(first.state, fire(timer), edited, after(first), timer.due_at)
    assert [(r.channel, r.status, r.reason) for r in released.records] == [("sms", "suppressed", "resolved")]
    assert [(c.channel, c.status) for c in released.contacts] == [("sms", "suppressed")]


def test_a_timer_releases_the_action_it_was_set_for_even_with_the_clock_a_moment_early(
    catalog: Catalog,
) -> None:
    # GIVEN a text waiting for 14:00:00.400Z (a send time with a fraction, as production clocks give)
    first = decide(
        None, delayed("D7", "2026-03-03T03:00:00Z"), catalog, History(), at("2026-03-03T03:00:00Z")
    )
    (timer,) = first.timers
    history = after(first)
    (waiting,) = [e for e in history.order if e.status == "scheduled"]
    late = waiting.model_copy(update={"at": waiting.at + timedelta(milliseconds=400)})
    history = History(order=[late if e is waiting else e for e in history.order], customer=history.customer)
    # WHEN its schedule (whole seconds: due 14:00:00) fires and the Lambda's clock reads 14:00:00.1
    released = decide(first.state, fire(timer), catalog, history, timer.due_at + timedelta(milliseconds=100))
    # THEN the text is released anyway, instead of waiting for a timer that already fired
    assert [(r.status, r.action_id) for r in released.records] == [("pending", waiting.action_id)]
