"""Holdout experiments: the rule field, the deterministic assignment, and `held_out` in the decision."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.support.events import event
from tests.support.experiments import rules_with_experiment

from touchpoints.catalog import Catalog, ContactPolicy, Experiment, Rule, load_catalog, validate_catalog
from touchpoints.catalog.compiled import load_compiled_catalog, write_compiled_catalog
from touchpoints.experiments import HOLDOUT, TREATED, arm_for, bucket, sticky_key
from touchpoints.journey import ContactEntry
from touchpoints.policy import ContactLedger, exceeds_cap, exceeds_rule_limit, is_group_taken
from touchpoints.simulator import Simulator

CUSTOMER = {
    "id": "C1",
    "email": "ana@example.com",
    "locale": "en",
    "timezone": "America/New_York",
    "consent": {"marketing": True, "sms": False},
}
ORDER = {
    "total": {"amount": "10.00", "currency": "USD"},
    "items": [
        {"sku": "S1", "name": "Mug", "quantity": 1, "unit_price": {"amount": "10.00", "currency": "USD"}}
    ],
    "promised_delivery_by": "2026-03-05T18:00:00Z",
}


def experiment(**fields: Any) -> Experiment:
    return Experiment.model_validate({"name": "delay-holdout", "holdout": "10%", **fields})


# -- the rule field -------------------------------------------------------------------------------


@pytest.mark.parametrize(("written", "percent"), [("10%", 10.0), ("12.5 %", 12.5), (5, 5.0), (50, 50.0)])
def test_holdout_is_written_as_a_percentage(written: Any, percent: float) -> None:
    # GIVEN / WHEN a holdout written as text with % or as a number of percent
    # THEN it reads as that many percent, and sticky defaults to order
    parsed = experiment(holdout=written)
    assert parsed.holdout == percent
    assert parsed.sticky == "order"


@pytest.mark.parametrize("written", ["0%", "50.5%", "-5%", "ten", True, "nan%"])
def test_holdout_out_of_range_or_not_a_percentage_is_rejected(written: Any) -> None:
    # GIVEN / WHEN / THEN anything but more than 0 and at most 50 percent fails, saying how to write it
    with pytest.raises(ValueError, match=r"holdout|percentage"):
        experiment(holdout=written)


def test_experiment_problems_name_the_file_and_line(tmp_path: Path) -> None:
    # GIVEN a rule with a 60% holdout, and two rules sharing one experiment name
    too_big = rules_with_experiment(tmp_path / "big", holdout="60%")
    shared = rules_with_experiment(tmp_path / "shared")
    other = shared / "shipping" / "delivery-promise-missed.yaml"
    other.write_text(
        other.read_text(encoding="utf-8") + "experiment: {name: delay-apology-holdout, holdout: 5%}\n"
    )
    # WHEN they are validated
    big = [str(p) for p in validate_catalog(too_big)]
    dup = [str(p) for p in validate_catalog(shared)]
    # THEN each problem is file:line (the experiment line appended last) with the fix
    line = len(
        (too_big / "shipping" / "delivery-delay-apology.yaml").read_text(encoding="utf-8").splitlines()
    )
    assert len(big) == 1
    assert f"delivery-delay-apology.yaml:{line}: experiment.holdout: holdout 60% is out of range" in big[0]
    assert len(dup) == 1
    assert "duplicate experiment name 'delay-apology-holdout'" in dup[0]
    assert f"delivery-delay-apology.yaml:{line}" in dup[0]


def test_an_unknown_experiment_key_is_a_typo() -> None:
    # GIVEN / WHEN / THEN extra keys fail like every rule-file key does
    with pytest.raises(ValueError, match="stickiness"):
        experiment(stickiness="order")


def test_the_compiled_catalog_keeps_the_experiment(tmp_path: Path) -> None:
    # GIVEN a catalog with an experiment, compiled as `sam build` does
    rules = rules_with_experiment(tmp_path / "rules", holdout="12.5%", sticky="customer")
    write_compiled_catalog(rules)
    # WHEN the Lambda loads the compiled file
    compiled = load_compiled_catalog(rules)
    # THEN the rule's experiment is the one written
    assert compiled is not None
    assert compiled.rules["delivery-delay-apology"].rule.experiment == Experiment(
        name="delay-apology-holdout", holdout=12.5, sticky="customer"
    )


# -- the assignment -------------------------------------------------------------------------------


def test_the_bucket_is_a_stable_hash_of_name_and_key() -> None:
    # GIVEN / WHEN the same name and key, in any process on any machine
    # THEN the same number in [0, 100) (pinned: a change reshuffles every running experiment)
    assert bucket("delay-holdout", "order:A1") == pytest.approx(bucket("delay-holdout", "order:A1"))
    assert round(bucket("delay-holdout", "order:A1"), 6) == pytest.approx(46.291127, abs=1e-6)
    assert bucket("other-name", "order:A1") != bucket("delay-holdout", "order:A1")


def test_about_the_holdout_share_of_sequential_ids_is_held_out() -> None:
    # GIVEN 100,000 sequential order ids and a 10% holdout
    chosen = experiment()
    # WHEN each is assigned
    arms = Counter(arm_for(chosen, f"A{n:06d}", None) for n in range(100_000))
    # THEN about 10% are held out (binomial sd ~0.095 points; 0.5 points is five of them)
    assert abs(arms[HOLDOUT] / 100_000 - 0.10) < 0.005
    assert arms[HOLDOUT] + arms[TREATED] == 100_000


def test_customer_sticky_keeps_a_customers_orders_in_one_arm() -> None:
    # GIVEN a customer-sticky experiment
    chosen = experiment(sticky="customer", holdout="50%")
    # WHEN many orders of each customer are assigned
    # THEN each customer's orders share one arm, and both arms occur
    arms = {c: {arm_for(chosen, f"{c}-{n}", c) for n in range(20)} for c in (f"C{i}" for i in range(40))}
    assert all(len(found) == 1 for found in arms.values())
    assert {next(iter(found)) for found in arms.values()} == {HOLDOUT, TREATED}
    # and an order whose customer is unknown is drawn by its own id
    assert sticky_key(chosen, "A1", None) == "order:A1"
    assert sticky_key(chosen, "A1", "C1") == "customer:C1"


# -- the policy -----------------------------------------------------------------------------------

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def _entry(status: str, **fields: Any) -> ContactEntry:
    data: dict[str, Any] = {
        "action_id": "x",
        "order_id": "A1",
        "customer_id": "C1",
        "rule_id": "r1",
        "event_id": "e0",
        "channel": "email",
        "category": "service",
        "group": "apology",
        "status": status,
        "at": NOW - timedelta(hours=1),
    }
    data.update(fields)
    return ContactEntry.model_validate(data)


def test_a_held_out_action_counts_for_limit_and_group_but_not_for_caps() -> None:
    # GIVEN a held-out action of rule r1 (group apology) in the ledger
    held = _entry("held_out")
    ledger = ContactLedger(order=[held], customer=[held])
    rule = Rule.model_validate(
        {
            "id": "r1",
            "description": "d",
            "on": "OrderPlaced",
            "then": [{"channel": "email", "template": "t"}],
            "group": "apology",
            "limit": {"max": 1},
        }
    )
    other = rule.model_copy(update={"id": "r2"})
    policy = ContactPolicy.model_validate(
        {"caps": {"service": {"max": 1, "per": "24h"}}, "groups": {"apology": {"window": "72h"}}}
    )
    # WHEN the limit, the group and the cap are checked for the next action
    # THEN the rule's limit and the group are taken, the cap is not
    assert exceeds_rule_limit(rule, "e1", ledger, NOW)
    assert is_group_taken(other, "e1", ledger, policy, NOW)
    assert not exceeds_cap("service", policy, ledger, NOW)
    # (the same entry sent would fill the cap: the test can fail)
    sent = ContactLedger(order=[_entry("sent")], customer=[_entry("sent")])
    assert exceeds_cap("service", policy, sent, NOW)


# -- in the decision ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def half_held(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """The shipped rules with a 50% order-sticky holdout on the delay apology."""
    return load_catalog(rules_with_experiment(tmp_path_factory.mktemp("half") / "rules", holdout="50%"))


def _delayed_order(order_id: str) -> list[Any]:
    """An order delayed past its promise, for a customer of its own (caps stay out of the way)."""
    detail = {"customer": {**CUSTOMER, "id": f"C-{order_id}"}, "order_id": order_id}
    return [
        event(
            "OrderPlaced",
            "2026-03-01T15:00:00Z",
            {**detail, **ORDER},
            event_id=f"{order_id}-p",
            order_id=None,
        ),
        event(
            "ShipmentDelayed",
            "2026-03-03T15:00:00Z",
            {**detail, "shipment_id": "S1", "new_estimate": "2026-03-08T18:00:00Z"},
            event_id=f"{order_id}-d",
            order_id=None,
        ),
    ]


def _orders_in(catalog: Catalog, arm: str, count: int) -> list[str]:
    chosen = catalog.rules["delivery-delay-apology"].rule.experiment
    assert chosen is not None
    return [o for o in (f"X{n}" for n in range(200)) if arm_for(chosen, o, f"C-{o}") == arm][:count]


def test_a_held_out_order_gets_no_delay_apology_of_the_group_at_all(half_held: Catalog) -> None:
    # GIVEN one order in the holdout arm and one in the treated arm, each delayed past its promise
    held, treated = _orders_in(half_held, HOLDOUT, 1)[0], _orders_in(half_held, TREATED, 1)[0]
    events = [*_delayed_order(held), *_delayed_order(treated)]
    # WHEN they are replayed (the promise-missed apology of the same group fires later)
    simulator = Simulator(half_held)
    records = list(simulator.run(events))
    final = {(r.order_id, r.rule_id): r for r in records}
    # THEN the held-out order's apology is held_out (sent at decision time, no timer), and the
    # group stops the later promise-missed apology as if the first had been sent
    assert final[(held, "delivery-delay-apology")].status == "held_out"
    assert final[(held, "delivery-delay-apology")].reason is None
    assert final[(held, "delivery-promise-missed")].reason == "group_exclusion"
    # and the treated order gets its apology as before
    assert final[(treated, "delivery-delay-apology")].status == "pending"
    assert final[(treated, "delivery-promise-missed")].reason == "group_exclusion"


def test_held_out_decisions_are_the_same_in_every_replay(half_held: Catalog) -> None:
    # GIVEN forty delayed orders
    events = [e for n in range(40) for e in _delayed_order(f"R{n}")]
    # WHEN they are replayed twice, and in reverse input order
    first = {
        r.order_id: r.status
        for r in Simulator(half_held).run(events)
        if r.rule_id == "delivery-delay-apology"
    }
    again = {
        r.order_id: r.status
        for r in Simulator(half_held).run(events[::-1])
        if r.rule_id == "delivery-delay-apology"
    }
    # THEN the same orders are held out, and they are the ones the assignment names
    chosen = half_held.rules["delivery-delay-apology"].rule.experiment
    assert chosen is not None
    assert first == again
    assert {o for o, s in first.items() if s == "held_out"} == {
        o for o in first if arm_for(chosen, o, f"C-{o}") == HOLDOUT
    }
    assert 5 < sum(s == "held_out" for s in first.values()) < 35
