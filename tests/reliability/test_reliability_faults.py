"""AWS calls fail (throttling, conflicts, timeouts, refusals): nothing is lost, nothing is sent twice."""

from __future__ import annotations

import json
import zlib
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from tests.support.faults import (
    conflict,
    inject,
    refused,
    throttled,
    timeout,
    transaction_marker,
    unreachable,
)
from tests.support.pipeline import Pipeline, RunReport, sent_emails, sent_sms
from tests.support.streams import GeneratedStream, generate_stream

ORDERS = 30


@dataclass
class Outcome:
    """The audit and the provider messages of one run."""

    report: RunReport
    actions: list[dict[str, Any]]
    emails: list[dict[str, Any]]
    sms: list[dict[str, Any]]

    def decisions(self) -> set[tuple[str, str]]:
        return {(a["action_id"], a["status"]) for a in self.actions}

    def by_status(self) -> Counter[str]:
        return Counter(str(a["status"]) for a in self.actions)


def _run(pipeline: Pipeline, events: list[dict[str, Any]]) -> Outcome:
    emails_before, sms_before = len(sent_emails()), len(sent_sms())
    report = pipeline.run(events)
    return Outcome(report, pipeline.actions(), sent_emails()[emails_before:], sent_sms()[sms_before:])


def _chosen(key: str, percent: int) -> bool:
    """A stable pseudo-random choice of `percent`% of keys (same keys in every run and process)."""
    return zlib.crc32(key.encode()) % 100 < percent


@pytest.fixture(scope="module")
def stream() -> GeneratedStream:
    return generate_stream(ORDERS, seed=31)


@pytest.fixture(scope="module")
def calm(stream: GeneratedStream, make_pipeline: Callable[..., Pipeline]) -> Outcome:
    """The same stream with no fault at all: what every faulty run must end up as."""
    outcome = _run(make_pipeline(), stream.events)
    assert not outcome.report.failed_records
    assert outcome.by_status()["sent"] > 0
    return outcome


def test_throttled_commits_are_redelivered_and_end_exactly_like_a_calm_run(
    stream: GeneratedStream, calm: Outcome, make_pipeline: Callable[..., Pipeline]
) -> None:
    # GIVEN DynamoDB throttles the first commit of 40% of the events
    pipeline = make_pipeline()
    failed_once: set[str] = set()

    def fault(operation: str, params: Mapping[str, Any], call: int) -> Exception | None:
        event_id = transaction_marker(params)
        if event_id and _chosen(event_id, 40) and event_id not in failed_once:
            failed_once.add(event_id)
            return throttled(operation)
        return None

    # WHEN the stream runs
    with inject(pipeline.clients, "dynamodb", "TransactWriteItems", fault) as seen:
        outcome = _run(pipeline, stream.events)

    # THEN each throttled event was reported for redelivery exactly once and nothing reached the DLQ
    assert seen["raised"] == len(failed_once) > 0
    assert len(outcome.report.failed_records) == len(failed_once)
    assert outcome.report.dead_lettered_events == []
    # AND the audit and the messages are exactly those of the calm run
    assert outcome.decisions() == calm.decisions()
    assert len(outcome.emails) == len(calm.emails)
    assert len(outcome.sms) == len(calm.sms)


def test_transaction_conflicts_are_retried_inside_the_invocation(
    stream: GeneratedStream, calm: Outcome, make_pipeline: Callable[..., Pipeline]
) -> None:
    # GIVEN every third commit is cancelled by a TransactionConflict
    pipeline = make_pipeline()

    def fault(operation: str, params: Mapping[str, Any], call: int) -> Exception | None:
        return conflict() if call % 3 == 0 else None

    # WHEN the stream runs
    with inject(pipeline.clients, "dynamodb", "TransactWriteItems", fault) as seen:
        outcome = _run(pipeline, stream.events)

    # THEN the service re-loaded and re-decided in the same invocation: no record failed at all
    assert seen["raised"] > 0
    assert outcome.report.failed_records == []
    assert outcome.decisions() == calm.decisions()
    assert len(outcome.emails) == len(calm.emails)


def test_a_commit_that_keeps_conflicting_fails_the_record_which_sqs_redelivers(
    stream: GeneratedStream, calm: Outcome, make_pipeline: Callable[..., Pipeline]
) -> None:
    # GIVEN the first three commits of 20% of the events conflict (more than the service's 3 attempts)
    pipeline = make_pipeline()
    attempts: Counter[str] = Counter()

    def fault(operation: str, params: Mapping[str, Any], call: int) -> Exception | None:
        event_id = transaction_marker(params)
        if event_id and _chosen(event_id, 20):
            attempts[event_id] += 1
            if attempts[event_id] <= 3:
                return conflict()
        return None

    # WHEN the stream runs
    with inject(pipeline.clients, "dynamodb", "TransactWriteItems", fault):
        outcome = _run(pipeline, stream.events)

    # THEN each such event failed its first delivery only, and ends as in the calm run
    unlucky = {event_id for event_id, count in attempts.items() if count > 3}
    assert unlucky
    assert len(outcome.report.failed_records) == len(unlucky)
    assert outcome.report.dead_lettered_events == []
    assert outcome.decisions() == calm.decisions()


def test_read_timeouts_are_retried_by_the_queue_and_the_stream_and_lose_nothing(
    stream: GeneratedStream, calm: Outcome, make_pipeline: Callable[..., Pipeline]
) -> None:
    # GIVEN every fourth read of an order's state (by ProcessEvents and by Dispatch) times out
    pipeline = make_pipeline()

    def fault(operation: str, params: Mapping[str, Any], call: int) -> Exception | None:
        return timeout("dynamodb") if call % 4 == 0 else None

    # WHEN the stream runs
    with inject(pipeline.clients, "dynamodb", "BatchGetItem", fault) as seen:
        outcome = _run(pipeline, stream.events)

    # THEN the timeouts were reported for retry (SQS redelivery, stream retry), never recorded as a
    # failed send, and the run ends exactly like the calm one
    assert seen["raised"] > 0
    assert len(outcome.report.failed_records) + outcome.report.dispatch_failures == seen["raised"]
    assert outcome.report.dead_lettered_events == []
    assert outcome.report.dead_lettered == []
    assert outcome.decisions() == calm.decisions()
    assert len(outcome.emails) == len(calm.emails)


def test_refused_emails_and_texts_are_marked_failed_with_the_error_and_never_resent(
    stream: GeneratedStream, calm: Outcome, make_pipeline: Callable[..., Pipeline]
) -> None:
    # GIVEN SES refuses every third email and SNS every second text, for good, naming the recipient
    pipeline = make_pipeline()

    def ses_fault(operation: str, params: Mapping[str, Any], call: int) -> Exception | None:
        to = params["Destination"]["ToAddresses"][0]
        return refused(operation, "MessageRejected", f"Address blacklisted: {to}") if call % 3 == 0 else None

    def sns_fault(operation: str, params: Mapping[str, Any], call: int) -> Exception | None:
        message = f"Invalid parameter: PhoneNumber Reason: {params['PhoneNumber']} is not valid"
        return refused(operation, "InvalidParameter", message) if call % 2 == 0 else None

    # WHEN the stream runs
    with (
        inject(pipeline.clients, "sesv2", "SendEmail", ses_fault) as ses,
        inject(pipeline.clients, "sns", "Publish", sns_fault) as sns,
    ):
        outcome = _run(pipeline, stream.events)

    # THEN every refused message is `failed` with the provider's error, and nothing is left pending
    failed = [a for a in outcome.actions if a["status"] == "failed"]
    assert len(failed) == ses["raised"] + sns["raised"] > 0
    assert all(a["error"] and ("SES" in a["error"] or "SNS" in a["error"]) for a in failed)
    assert outcome.by_status()["pending"] == 0
    # AND the error quotes no address: the provider's text is masked before it is stored
    addresses = {m["to"][0] for m in calm.emails} | {m["to"] for m in calm.sms}
    assert not [a["error"] for a in failed if any(address in a["error"] for address in addresses)]
    # AND every other decision is as in the calm run, and each accepted message went out once
    failed_ids = {a["action_id"] for a in failed}
    assert {d for d in outcome.decisions() if d[0] not in failed_ids} == {
        d for d in calm.decisions() if d[0] not in failed_ids
    }
    assert len(outcome.emails) == ses["calls"] - ses["raised"]
    assert len(outcome.sms) == sns["calls"] - sns["raised"]
    assert len(outcome.emails) + ses["raised"] == len(calm.emails)


def test_throttled_and_unreachable_sends_are_retried_and_end_exactly_like_a_calm_run(
    stream: GeneratedStream,
    calm: Outcome,
    make_pipeline: Callable[..., Pipeline],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import touchpoints.adapters.channels as channels

    # GIVEN SES throttles the first four attempts of every third email (the channel's own three and
    # the first of the stream's retry) and SNS cannot be reached for the first attempt of every text
    monkeypatch.setattr(channels, "RETRY_DELAYS", (0.0, 0.0))
    pipeline = make_pipeline()
    attempts: Counter[str] = Counter()

    def ses_fault(operation: str, params: Mapping[str, Any], call: int) -> Exception | None:
        key = params["EmailTags"][1]["Value"]
        attempts[key] += 1
        return (
            throttled(operation, "TooManyRequestsException")
            if _chosen(key, 33) and attempts[key] <= 4
            else None
        )

    def sns_fault(operation: str, params: Mapping[str, Any], call: int) -> Exception | None:
        attempts[params["PhoneNumber"] + params["Message"]] += 1
        return unreachable("sns") if attempts[params["PhoneNumber"] + params["Message"]] == 1 else None

    # WHEN the stream runs
    with (
        inject(pipeline.clients, "sesv2", "SendEmail", ses_fault) as ses,
        inject(pipeline.clients, "sns", "Publish", sns_fault) as sns,
    ):
        outcome = _run(pipeline, stream.events)

    # THEN the faults happened, nothing failed or was dead-lettered, and every message went out once
    assert ses["raised"] > 0
    assert sns["raised"] == len(calm.sms)  # each text's first attempt
    assert outcome.by_status()["failed"] == 0
    assert outcome.report.dead_lettered == []
    assert outcome.decisions() == calm.decisions()
    assert sorted(m["to"] for m in outcome.emails) == sorted(m["to"] for m in calm.emails)
    assert sorted(m["to"] for m in outcome.sms) == sorted(m["to"] for m in calm.sms)


def test_a_send_whose_status_update_fails_is_not_sent_again_on_the_stream_retry(
    stream: GeneratedStream, calm: Outcome, make_pipeline: Callable[..., Pipeline]
) -> None:
    # GIVEN marking an action `sent` fails (throttled) the first time for every fifth action
    pipeline = make_pipeline()
    tried: Counter[str] = Counter()

    def fault(operation: str, params: Mapping[str, Any], call: int) -> Exception | None:
        values = params.get("ExpressionAttributeValues", {})
        if values.get(":status", {}).get("S") != "sent":
            return None
        key = json.dumps(params["Key"], sort_keys=True)
        tried[key] += 1
        return throttled(operation) if _chosen(key, 20) and tried[key] == 1 else None

    # WHEN the stream runs (the dispatcher's stream records are retried as Lambda would)
    with inject(pipeline.clients, "dynamodb", "UpdateItem", fault) as seen:
        outcome = _run(pipeline, stream.events)

    # THEN the faults happened, and still every message went out exactly once
    assert seen["raised"] > 0
    assert len(outcome.emails) == len(calm.emails)
    assert len(outcome.sms) == len(calm.sms)
    assert Counter(m["to"] for m in outcome.emails) == Counter(m["to"] for m in calm.emails)
    # AND the audit ends consistent: nothing pending, every decision as in the calm run
    assert outcome.by_status()["pending"] == 0
    assert outcome.decisions() == calm.decisions()


def test_a_send_whose_outcome_cannot_be_recorded_is_failed_with_the_reason_and_never_resent(
    stream: GeneratedStream, calm: Outcome, make_pipeline: Callable[..., Pipeline]
) -> None:
    # GIVEN marking an action `sent` keeps failing for a whole dispatch attempt, for 20% of them
    from touchpoints.service import UNKNOWN_OUTCOME

    pipeline = make_pipeline()
    tried: Counter[str] = Counter()

    def fault(operation: str, params: Mapping[str, Any], call: int) -> Exception | None:
        values = params.get("ExpressionAttributeValues", {})
        if values.get(":status", {}).get("S") != "sent":
            return None
        key = json.dumps(params["Key"], sort_keys=True)
        tried[key] += 1
        return throttled(operation) if _chosen(key, 20) else None

    # WHEN the stream runs (each stream record is retried as Lambda would)
    with inject(pipeline.clients, "dynamodb", "UpdateItem", fault):
        outcome = _run(pipeline, stream.events)

    # THEN each message went out exactly once (the customer got it) ...
    unlucky = {key for key in tried if _chosen(key, 20)}
    assert unlucky
    assert len(outcome.emails) == len(calm.emails)
    assert len(outcome.sms) == len(calm.sms)
    # ... and the actions whose result could not be written are `failed` saying why, none pending
    unknown = [a for a in outcome.actions if a["error"] == UNKNOWN_OUTCOME]
    assert len(unknown) == len(unlucky)
    assert all(a["status"] == "failed" for a in unknown)
    assert outcome.by_status()["pending"] == 0
