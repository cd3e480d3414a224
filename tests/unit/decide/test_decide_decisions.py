"""decide(): matching, records, timers, TimerFired, duplicates and the contact policy end to end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from decide_helpers import ORDER, PAYMENT_FAILED, make_event
from hypothesis import given, settings
from hypothesis import strategies as st

from touchpoints.catalog import Catalog
from touchpoints.contract import DecisionRecord, Event, parse_event
from touchpoints.decide import decide
from touchpoints.journey import ContactEntry, History, OrderJourney
from touchpoints.outcome import Decision, TimerRequest, action_id_for


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def by_rule(decision: Decision) -> dict[str, list[DecisionRecord]]:
    found: dict[str, list[DecisionRecord]] = {}
    for record in decision.records:
        found.setdefault(record.rule_id, []).append(record)
    return found


def run(
    catalog: Catalog, event: Event, state: OrderJourney | None = None, history: History | None = None
) -> Decision:
    return decide(state, event, catalog, history or History(), event.time)


def after(decision: Decision, history: History | None = None) -> History:
    """The history a store would hold after committing this decision."""
    base = history or History()
    return History(order=[*base.order, *decision.contacts], customer=[*base.customer, *decision.contacts])


def fire(timer: TimerRequest) -> Event:
    return parse_event(timer.to_event())


def test_order_placed_records_a_complete_decision(catalog: Catalog) -> None:
    # GIVEN an order from a Taipei customer at 12:00 local
    event = make_event("OrderPlaced", "2026-03-10T04:00:00Z", ORDER, event_id="E1")
    # WHEN we decide
    decision = run(catalog, event)
    # THEN the confirmation is pending, with every contract field filled
    record = by_rule(decision)["confirm"][0]
    assert record.action_id == action_id_for(event.key_digests[0], "confirm", "email")
    assert len(record.action_id) == 32
    assert (record.order_id, record.customer_id, record.trigger, record.event_id) == (
        "A1",
        "C-TW",
        "OrderPlaced",
        "E1",
    )
    assert (record.channel, record.template, record.locale) == ("email", "note", "zh-Hant")
    assert (record.status, record.reason) == ("pending", None)
    assert record.decided_at == record.send_at == event.time
    assert record.catalog_version == catalog.version
    assert record.address == "m***@example.com"
    # AND every non-suppressed record gave a contact entry for the ledger
    assert {c.action_id for c in decision.contacts} == {
        r.action_id for r in decision.records if r.status != "suppressed"
    }
    assert decision.state.order_id == "A1"
    assert not decision.is_duplicate


def test_locale_falls_back_to_the_default(catalog: Catalog) -> None:
    # GIVEN a customer in zh-Hans, which the fixture templates do not have
    customer = {"id": "C2", "email": "li@example.com", "locale": "zh-Hans", "timezone": "Asia/Shanghai"}
    event = make_event("OrderPlaced", "2026-03-10T04:00:00Z", ORDER, customer=customer)
    # WHEN / THEN the record says en (zh-Hans -> zh -> en)
    assert by_rule(run(catalog, event))["confirm"][0].locale == "en"


def test_consent_and_contact_reasons(catalog: Catalog) -> None:
    # GIVEN a customer with an email only and no consents
    customer = {"id": "C3", "email": "bo@example.com", "timezone": "UTC"}
    event = make_event("OrderPlaced", "2026-03-10T12:00:00Z", ORDER, customer=customer)
    # WHEN we decide
    rules = by_rule(run(catalog, event))
    # THEN marketing needs consent, the text has no phone, the confirmation goes
    assert (rules["promo"][0].status, rules["promo"][0].reason) == ("suppressed", "no_consent")
    assert (rules["text-update"][0].status, rules["text-update"][0].reason) == ("suppressed", "no_contact")
    assert rules["text-update"][0].address is None
    assert rules["confirm"][0].status == "pending"


def test_a_seen_event_changes_nothing(catalog: Catalog) -> None:
    # GIVEN an order already decided
    event = make_event("OrderPlaced", "2026-03-10T04:00:00Z", ORDER)
    first = run(catalog, event)
    # WHEN the same event comes again
    second = run(catalog, event, state=first.state, history=after(first))
    # THEN it is a duplicate: same state, nothing recorded, no timer
    assert second.is_duplicate
    assert second.state is first.state
    assert (second.records, second.timers, second.contacts) == ([], [], [])


def test_group_highest_priority_wins_then_the_window_excludes(catalog: Catalog) -> None:
    # GIVEN a delay; both apologies of the group match
    delay = {"shipment_id": "S1", "new_estimate": "2026-03-15T00:00:00Z"}
    first = run(catalog, make_event("ShipmentDelayed", "2026-03-10T04:00:00Z", delay, event_id="D1"))
    # WHEN / THEN the higher priority wins, the other is excluded
    rules = by_rule(first)
    assert rules["apology-big"][0].status == "pending"
    assert (rules["apology-small"][0].status, rules["apology-small"][0].reason) == (
        "suppressed",
        "group_exclusion",
    )
    # AND a second delay (a new estimate) within 72h is excluded for both, after 72h the winner goes again
    soon = run(
        catalog,
        make_event(
            "ShipmentDelayed",
            "2026-03-12T04:00:00Z",
            {**delay, "new_estimate": "2026-03-16T00:00:00Z"},
            event_id="D2",
        ),
        first.state,
        after(first),
    )
    assert {r.reason for r in soon.records} == {"group_exclusion"}
    later = run(
        catalog,
        make_event(
            "ShipmentDelayed",
            "2026-03-13T05:00:00Z",
            {**delay, "new_estimate": "2026-03-17T00:00:00Z"},
            event_id="D3",
        ),
        first.state,
        after(first),
    )
    assert by_rule(later)["apology-big"][0].status == "pending"


def test_caps_count_the_ledger_and_this_decision(catalog: Catalog) -> None:
    # GIVEN two service messages to this customer in the last hours (another order)
    entries = [
        ContactEntry(
            action_id=f"x{i}",
            order_id="B9",
            customer_id="C-TW",
            rule_id="other",
            event_id=f"x{i}",
            channel="email",
            category="service",
            status="sent",
            at=at("2026-03-10T01:00:00Z"),
        )
        for i in range(2)
    ]
    event = make_event("OrderPlaced", "2026-03-10T04:00:00Z", ORDER)
    # WHEN a service text is decided
    rules = by_rule(run(catalog, event, history=History(customer=entries)))
    # THEN it is rate limited, while the transactional confirmation is never capped
    assert (rules["text-update"][0].status, rules["text-update"][0].reason) == ("suppressed", "rate_limit")
    assert rules["confirm"][0].status == "pending"


def test_taipei_delivery_at_2230_defers_the_survey_to_0900_and_releases_it(catalog: Catalog) -> None:
    # GIVEN a delivery at 22:30 in Taipei (14:30 UTC)
    delivered = make_event("ShipmentDelivered", "2026-03-10T14:30:00Z", {"shipment_id": "S1"}, event_id="DLV")
    first = run(catalog, delivered)
    # WHEN / THEN the marketing survey is scheduled for 09:00 local (01:00 UTC next day), with a timer
    survey = by_rule(first)["survey-now"][0]
    assert (survey.status, survey.reason, survey.send_at) == (
        "scheduled",
        "quiet_hours",
        at("2026-03-11T01:00:00Z"),
    )
    assert first.timers == [TimerRequest("A1", "survey-now", "DLV", at("2026-03-11T01:00:00Z"))]
    # AND the disabled rule decided nothing
    assert "off" not in by_rule(first)
    # WHEN the timer fires at 09:00 local
    timer_event = fire(first.timers[0])
    released = decide(first.state, timer_event, catalog, after(first), at("2026-03-11T01:00:00Z"))
    # THEN the same action becomes pending (same id), and the ledger entry is replaced
    (record,) = released.records
    assert (record.action_id, record.status, record.reason) == (survey.action_id, "pending", None)
    assert record.send_at == at("2026-03-11T01:00:00Z")
    assert [c.status for c in released.contacts] == ["pending"]


def test_release_rechecks_consent(catalog: Catalog) -> None:
    # GIVEN a deferred survey, and the customer withdrew marketing consent before 09:00
    delivered = make_event("ShipmentDelivered", "2026-03-10T14:30:00Z", {"shipment_id": "S1"}, event_id="DLV")
    first = run(catalog, delivered)
    assert first.state.customer is not None
    withdrawn = {**first.state.customer.model_dump(), "consent": {"marketing": False, "sms": True}}
    review = make_event(
        "ReviewSubmitted", "2026-03-10T20:00:00Z", {"review_id": "R1", "rating": 5}, customer=withdrawn
    )
    middle = decide(first.state, review, catalog, after(first), review.time)
    # WHEN the release timer fires
    released = decide(middle.state, fire(first.timers[0]), catalog, after(first), at("2026-03-11T01:00:00Z"))
    # THEN the action is suppressed for lack of consent
    assert [(r.status, r.reason) for r in released.records] == [("suppressed", "no_consent")]


def test_after_sets_a_timer_and_decides_on_the_state_of_that_moment(catalog: Catalog) -> None:
    # GIVEN a failed payment
    failed = make_event("PaymentFailed", "2026-03-10T04:00:00Z", PAYMENT_FAILED, event_id="PF1")
    first = run(catalog, failed)
    # WHEN / THEN the immediate recovery is recorded, the reminder only asks for a timer in 24h
    assert set(by_rule(first)) == {"recovery"}
    assert first.timers == [TimerRequest("A1", "reminder", "PF1", at("2026-03-11T04:00:00Z"))]
    # WHEN the timer fires on a still-unpaid order
    unpaid = decide(first.state, fire(first.timers[0]), catalog, after(first), at("2026-03-11T04:00:00Z"))
    # THEN the reminder decides then, recorded against the TimerFired event, trigger = the rule's `on`
    (reminder,) = unpaid.records
    assert (reminder.rule_id, reminder.status, reminder.trigger) == ("reminder", "pending", "PaymentFailed")
    assert reminder.event_id == first.timers[0].name
    assert reminder.decided_at == at("2026-03-11T04:00:00Z")
    # BUT when the payment succeeded in between, the reminder's condition is false: nothing
    paid = make_event(
        "PaymentSucceeded",
        "2026-03-10T10:00:00Z",
        {"payment_id": "P2", "amount": {"amount": "10.00", "currency": "USD"}},
    )
    middle = decide(first.state, paid, catalog, after(first), paid.time)
    fired = decide(middle.state, fire(first.timers[0]), catalog, after(first), at("2026-03-11T04:00:00Z"))
    assert fired.records == []


def test_at_reads_the_timestamp_fact_plus_offset(catalog: Catalog) -> None:
    # GIVEN an order promising to ship by 2026-03-12T10:00Z
    event = make_event(
        "OrderPlaced",
        "2026-03-10T04:00:00Z",
        {**ORDER, "promised_ship_by": "2026-03-12T10:00:00Z"},
        event_id="O1",
    )
    # WHEN / THEN a timer is set one hour before (offset -1h)
    assert run(catalog, event).timers == [
        TimerRequest("A1", "ship-by-check", "O1", at("2026-03-12T09:00:00Z"))
    ]


def test_at_without_the_fact_sets_no_timer(catalog: Catalog) -> None:
    # GIVEN an order without promised_ship_by
    decision = run(catalog, make_event("OrderPlaced", "2026-03-10T04:00:00Z", ORDER))
    # WHEN / THEN no timer and no record for the rule
    assert decision.timers == []
    assert "ship-by-check" not in by_rule(decision)


def test_at_in_the_past_decides_immediately(catalog: Catalog) -> None:
    # GIVEN an order reported late: its ship-by moment has passed
    event = make_event(
        "OrderPlaced", "2026-03-10T04:00:00Z", {**ORDER, "promised_ship_by": "2026-03-10T04:30:00Z"}
    )
    # WHEN / THEN the rule decides now (03:30 <= 04:00), with no timer
    decision = run(catalog, event)
    assert decision.timers == []
    assert by_rule(decision)["ship-by-check"][0].status == "pending"


def test_timer_for_an_unknown_or_disabled_rule_records_nothing(catalog: Catalog) -> None:
    # GIVEN a journey and timers naming a rule that does not exist / is disabled / is not delayed
    state = run(catalog, make_event("OrderPlaced", "2026-03-10T04:00:00Z", ORDER)).state
    for rule_id in ("no-such-rule", "off", "confirm"):
        timer = TimerRequest("A1", rule_id, "X1", at("2026-03-11T00:00:00Z"))
        # WHEN it fires
        decision = decide(state, fire(timer), catalog, History(), timer.due_at)
        # THEN nothing is recorded and it is not an error
        assert (decision.records, decision.timers, decision.is_duplicate) == ([], [], False)


def test_event_channel_record(catalog: Catalog) -> None:
    # GIVEN a lost parcel at night for a customer without consent to texts
    customer = {"id": "C5", "email": "x@example.com", "phone": "+886912000111", "timezone": "Asia/Taipei"}
    event = make_event(
        "ShipmentException", "2026-03-10T15:00:00Z", {"shipment_id": "S1", "kind": "lost"}, customer=customer
    )
    # WHEN we decide
    records = {r.channel: r for r in run(catalog, event).records}
    # THEN the support-case event goes now, with its detail-type and no address; the sms needs consent
    assert (records["event"].status, records["event"].detail_type, records["event"].address) == (
        "pending",
        "SupportCaseRequested",
        None,
    )
    assert records["event"].template is None
    assert records["sms"].reason == "no_consent"


def test_rule_limit_across_events(catalog: Catalog) -> None:
    # GIVEN a recovery email sent for a first failure
    first = run(catalog, make_event("PaymentFailed", "2026-03-10T04:00:00Z", PAYMENT_FAILED, event_id="F1"))
    # WHEN another failure comes 2h later, and another 13h later
    two = decide(
        first.state,
        make_event("PaymentFailed", "2026-03-10T06:00:00Z", {**PAYMENT_FAILED, "attempt": 2}, event_id="F2"),
        catalog,
        after(first),
        at("2026-03-10T06:00:00Z"),
    )
    thirteen = decide(
        first.state,
        make_event("PaymentFailed", "2026-03-10T17:00:00Z", {**PAYMENT_FAILED, "attempt": 2}, event_id="F3"),
        catalog,
        after(first),
        at("2026-03-10T17:00:00Z"),
    )
    # THEN the 12h limit suppresses the first, not the second
    assert [(r.status, r.reason) for r in by_rule(two)["recovery"]] == [("suppressed", "rule_limit")]
    assert [r.status for r in by_rule(thirteen)["recovery"]] == ["pending"]
    # AND suppressed records leave no contact behind
    assert two.contacts == []


def test_timer_request_name_and_envelope() -> None:
    # GIVEN a timer
    timer = TimerRequest("A1", "reminder", "PF1", at("2026-03-11T04:00:00Z"))
    # WHEN we name it and build its event
    envelope = timer.to_event()
    # THEN the name is short, safe and stable, and the envelope parses as a TimerFired
    assert timer.name == TimerRequest("A1", "reminder", "PF1", at("2026-03-11T04:00:00Z")).name
    assert timer.name != TimerRequest("A1", "reminder", "PF2", at("2026-03-11T04:00:00Z")).name
    assert len(timer.name) <= 64
    assert all(c.isalnum() or c in "-_." for c in timer.name)
    event = parse_event(envelope)
    assert (event.detail_type, event.id, event.time) == ("TimerFired", timer.name, timer.due_at)


@settings(max_examples=25, deadline=None)
@given(
    hour=st.integers(min_value=0, max_value=23),
    kind=st.sampled_from(["OrderPlaced", "ShipmentDelivered", "PaymentFailed", "ShipmentDelayed"]),
    marketing=st.booleans(),
    sms=st.booleans(),
)
def test_decide_is_deterministic_and_a_repeat_changes_nothing(
    catalog: Catalog, hour: int, kind: str, marketing: bool, sms: bool
) -> None:
    # GIVEN any of several events at any hour, for any consent
    details: dict[str, dict[str, Any]] = {
        "OrderPlaced": ORDER,
        "ShipmentDelivered": {"shipment_id": "S1"},
        "PaymentFailed": PAYMENT_FAILED,
        "ShipmentDelayed": {"shipment_id": "S1", "new_estimate": "2026-03-20T00:00:00Z"},
    }
    customer = {
        "id": "C9",
        "email": "p@example.com",
        "phone": "+886912345678",
        "timezone": "Asia/Taipei",
        "consent": {"marketing": marketing, "sms": sms},
    }
    event = make_event(kind, f"2026-03-10T{hour:02d}:00:00Z", details[kind], customer=customer)
    # WHEN we decide twice on the same inputs, and then replay the event on the result
    one = run(catalog, event)
    two = run(catalog, event)
    history = after(one)
    snapshot = history.model_dump()
    state_snapshot = one.state.model_dump()
    replay = run(catalog, event, state=one.state, history=history)
    later = decide(
        one.state,
        make_event(
            "ShipmentDelayed",
            "2026-03-11T00:00:00Z",
            {"shipment_id": "S1", "new_estimate": "2026-03-21T00:00:00Z"},  # a new fact, whatever `kind` was
            customer=customer,
            event_id="later",
        ),
        catalog,
        history,
        event.time,
    )
    # THEN both decisions are equal, and the replay is a no-op
    assert one == two
    # AND decide never mutated its inputs (state and history are the same afterwards)
    assert later.records
    assert history.model_dump() == snapshot
    assert one.state.model_dump() == state_snapshot
    assert replay.is_duplicate
    assert replay.records == []
    assert replay.state == one.state
    # AND release timers sit exactly at the end of the quiet period
    for record in one.records:
        if record.status == "scheduled":
            assert record.send_at > event.time
            assert record.send_at - event.time <= timedelta(hours=12)
