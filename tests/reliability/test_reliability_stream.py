"""At-least-once and out-of-order delivery of a realistic 1,000-order stream change nothing that matters."""

from __future__ import annotations

import json
import multiprocessing
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.support.pipeline import Pipeline, RunReport, sent_emails, sent_sms
from tests.support.streams import (
    DETAIL_TYPES,
    GeneratedStream,
    event_time,
    generate_stream,
    reliability_orders,
    shuffle_within_orders,
)

from touchpoints.contract import parse_event
from touchpoints.journey.state import SHORT_KEY

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Outcome:
    """What one run of the stream left behind: the audit, the journeys and the messages that went out."""

    report: RunReport
    actions: list[dict[str, Any]]
    journeys: dict[str, dict[str, Any]]
    emails: list[dict[str, Any]]
    sms: list[dict[str, Any]]

    def decisions(self) -> set[tuple[str, str]]:
        return {(a["action_id"], a["status"]) for a in self.actions}

    def sent(self, channel: str) -> int:
        return sum(1 for a in self.actions if a["channel"] == channel and a["status"] == "sent")


def _run(pipeline: Pipeline, events: list[dict[str, Any]], **options: Any) -> Outcome:
    emails_before, sms_before = len(sent_emails()), len(sent_sms())
    report = pipeline.run(events, **options)
    return Outcome(
        report=report,
        actions=pipeline.actions(),
        journeys=pipeline.journeys(),
        emails=sent_emails()[emails_before:],
        sms=sent_sms()[sms_before:],
    )


_CLIENTS: dict[str, Any] = {}


def _run_in_child(kind: str, stage: str) -> Outcome:
    """One run of the stream in a forked process: its own copy of moto, its own stack."""
    stream = generate_stream(reliability_orders())
    pipeline = Pipeline(_CLIENTS, REPO_ROOT, stage=stage)
    if kind == "once":
        return _run(pipeline, stream.events)
    if kind == "twice":
        return _run(pipeline, stream.events, twice=True)
    arrivals = [event_time(e) for e in stream.events]  # each slot keeps its arrival time
    return _run(pipeline, shuffle_within_orders(stream.events), arrivals=arrivals)


@pytest.fixture(scope="module")
def stream() -> GeneratedStream:
    return generate_stream(reliability_orders())


@pytest.fixture(scope="module")
def runs(reliability_aws: dict[str, Any]) -> dict[str, Outcome]:
    """The three runs of the stream (once in time order, every delivery twice, shuffled within orders).

    They are independent, so they run side by side in forked processes (the machine's cores are
    used; each process has its own copy of the in-process moto, forked from this one).
    """
    _CLIENTS.update(reliability_aws)
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=3, mp_context=context) as pool:
        futures = {
            kind: pool.submit(_run_in_child, kind, f"stream-{kind}") for kind in ("twice", "once", "shuffled")
        }
        return {kind: future.result() for kind, future in futures.items()}


@pytest.fixture(scope="module")
def once(runs: dict[str, Outcome]) -> Outcome:
    """The reference: every event delivered once, in time order."""
    return runs["once"]


def test_the_stream_covers_every_detail_type_and_every_playbook_rule(
    stream: GeneratedStream, once: Outcome
) -> None:
    # GIVEN the generated stream, delivered once
    # THEN it holds every detail-type, and every rule of the shipped playbook decided something
    assert len(stream.scenario_of) == reliability_orders()
    assert stream.detail_types() == set(DETAIL_TYPES)
    rules = {a["rule_id"] for a in once.actions}
    assert rules == {
        "order-confirmation",
        "payment-failed-recovery",
        "payment-unresolved-reminder",
        "return-care",
        "follow-up-survey",
        "negative-review-apology",
        "review-thanks",
        "delivery-delay-apology",
        "delivery-delay-goodwill",
        "delivery-promise-missed",
        "dispatch-notice",
        "shipment-problem-apology",
        "shipping-late-notice",
        "survey-detractor-apology",
        "survey-promoter-review-invitation",
    }
    statuses = Counter((a["status"], a["reason"]) for a in once.actions)
    for outcome in [
        ("sent", None),
        ("suppressed", "rule_limit"),
        ("suppressed", "group_exclusion"),
        ("suppressed", "no_consent"),
        ("suppressed", "no_contact"),
        ("suppressed", "rate_limit"),
    ]:
        assert statuses[outcome] > 0, outcome
    # and nothing failed or stayed pending
    assert not once.report.failed_records
    assert not once.report.dead_lettered_events
    assert statuses[("pending", None)] == 0
    assert statuses[("failed", None)] == 0


def test_every_event_delivered_twice_records_and_sends_exactly_what_one_delivery_does(
    stream: GeneratedStream, once: Outcome, runs: dict[str, Outcome]
) -> None:
    # GIVEN the same stream where every event, every timer and every stream record arrived twice
    twice = runs["twice"]

    # THEN the audit holds exactly the same decisions, with the same final statuses
    assert not twice.report.failed_records
    assert len(twice.actions) == len(once.actions)
    assert twice.decisions() == once.decisions()
    # AND exactly the same messages went out, each once
    assert len(twice.emails) == len(once.emails) == once.sent("email")
    assert len(twice.sms) == len(once.sms) == once.sent("sms")
    assert Counter((m["to"], m["subject"]) for m in twice.emails) == Counter(
        (m["to"], m["subject"]) for m in once.emails
    )
    assert Counter(m["to"] for m in twice.sms) == Counter(m["to"] for m in once.sms)
    # AND the second deliveries really were delivered (the harness did not skip them)
    assert twice.report.records >= 2 * len(stream.events)


def _comparable(journey: dict[str, Any], platform_keys: set[str]) -> dict[str, Any]:
    """The journey's time-defined content: what happened, independent of the order it was learnt in.

    Left out: `version` and `stamps` (bookkeeping of how many deliveries were applied and which
    set what) and the keys of timers (when a rule's timer is asked for depends on arrival order):
    of the recent keys only the platform events' count, as a set.
    """
    data = dict(journey)
    window = str(data.get("recent_keys", ""))
    slots = {window[i : i + SHORT_KEY] for i in range(0, len(window), SHORT_KEY)}
    data["recent_keys"] = sorted(slots & platform_keys)
    data.pop("timers", None)
    data["estimates"] = sorted(json.dumps(e, sort_keys=True) for e in data.get("estimates", []))
    data.pop("stamps", None)
    data.pop("version", None)
    return data


def test_the_stream_shuffled_within_each_order_ends_in_the_same_journeys_without_duplicate_messages(
    stream: GeneratedStream, once: Outcome, runs: dict[str, Outcome]
) -> None:
    # GIVEN the stream with each order's events permuted (each arriving when the original slot did)
    shuffled = shuffle_within_orders(stream.events)
    moved = sum(1 for a, b in zip(shuffled, stream.events, strict=True) if a["id"] != b["id"])
    assert moved > len(stream.events) // 3

    # WHEN it was delivered
    outcome = runs["shuffled"]

    # THEN nothing crashed and no record was rejected
    assert not outcome.report.failed_records
    # AND every order's final journey equals the time-ordered run's
    assert outcome.journeys.keys() == once.journeys.keys()
    ids = {parse_event(e).key_digests[0][:SHORT_KEY] for e in stream.events}
    different = [
        order
        for order in once.journeys
        if _comparable(outcome.journeys[order], ids) != _comparable(once.journeys[order], ids)
    ]
    assert different == []
    # AND no message went out twice: one provider message per action marked sent, at most one per action
    assert len(outcome.emails) == outcome.sent("email")
    assert len(outcome.sms) == outcome.sent("sms")
    assert len({a["action_id"] for a in outcome.actions}) == len(outcome.actions)
