"""A platform's resends (the same fact under a new EventBridge id) send nothing twice: moto and simulate.

EventBridge keeps an event's id only for its own redeliveries (test_reliability_stream.py delivers
every event twice with its id). A platform that retries a PutEvents, or a webhook resent by a
connector, makes a new event: same source, detail-type and detail, a new id, and (when the entry
names no time) a later `time`. Here the realistic 1,000-order stream is delivered with every
platform event resent that way, some in the same batch and some a day later, through the real
handlers on the template's stack in moto, and replayed by `touchpoints simulate`: both must do
exactly what one delivery of each fact does.
"""

from __future__ import annotations

import json
import multiprocessing
import random
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from tests.support.pipeline import Pipeline, RunReport, sent_emails, sent_sms
from tests.support.streams import GeneratedStream, event_time, generate_stream, reliability_orders

from touchpoints.timestamps import format_seconds

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]


def resend_everything(
    events: list[dict[str, Any]], *, seed: int = 9
) -> tuple[list[dict[str, Any]], list[Any]]:
    """The stream with every event also resent under a new id, and when each one arrives.

    Half the resends come a few positions later in the same hour with the original `time` (an SDK
    retrying a PutEvents entry that names its time), half a day later with the time of the resend
    (an entry without a time, stamped by EventBridge on arrival).
    """
    rng = random.Random(seed)
    out: list[tuple[Any, int, dict[str, Any]]] = []
    for index, event in enumerate(events):
        arrives = event_time(event)
        out.append((arrives, 2 * index, event))
        resend = json.loads(json.dumps(event))
        resend["id"] = f"{event['id']}-resent"
        if rng.random() < 0.5:
            out.append((arrives, 2 * index + 1 + 2 * rng.randint(0, 3), resend))
        else:
            later = arrives + timedelta(days=1, minutes=rng.randint(0, 600))
            resend["time"] = format_seconds(later)
            out.append((later, 2 * index + 1, resend))
    out.sort(key=lambda item: (item[0], item[1]))
    return [event for _, _, event in out], [arrives for arrives, _, _ in out]


@dataclass
class Outcome:
    """What one run left behind: the audit, the stored event ids and the messages that went out."""

    report: RunReport
    actions: list[dict[str, Any]]
    stored_events: set[str]
    emails: list[dict[str, Any]]
    sms: list[dict[str, Any]]

    def decisions(self) -> set[tuple[str, str, str | None]]:
        return {(a["action_id"], a["status"], a["reason"]) for a in self.actions}


_CLIENTS: dict[str, Any] = {}


def _run_in_child(kind: str, stage: str) -> Outcome:
    """One run of the stream in a forked process: its own copy of moto, its own stack."""
    stream = generate_stream(reliability_orders())
    pipeline = Pipeline(_CLIENTS, REPO_ROOT, stage=stage)
    emails_before, sms_before = len(sent_emails()), len(sent_sms())
    if kind == "once":
        report = pipeline.run(stream.events)
    else:
        events, arrivals = resend_everything(stream.events)
        report = pipeline.run(events, arrivals=arrivals)
    return Outcome(
        report=report,
        actions=pipeline.actions(),
        stored_events={str(row["sk"]).removeprefix("EVENT#") for row in pipeline.items("EVENT#")},
        emails=sent_emails()[emails_before:],
        sms=sent_sms()[sms_before:],
    )


@pytest.fixture(scope="module")
def stream() -> GeneratedStream:
    return generate_stream(reliability_orders())


@pytest.fixture(scope="module")
def runs(reliability_aws: dict[str, Any]) -> dict[str, Outcome]:
    """The stream once, and with every event resent, side by side in forked processes."""
    _CLIENTS.update(reliability_aws)
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        futures = {kind: pool.submit(_run_in_child, kind, f"dup-{kind}") for kind in ("resent", "once")}
        return {kind: future.result() for kind, future in futures.items()}


def test_every_event_resent_under_a_new_id_records_and_sends_exactly_what_one_delivery_does(
    stream: GeneratedStream, runs: dict[str, Outcome]
) -> None:
    # GIVEN the stream delivered once, and delivered with every platform event resent under a new id
    once, resent = runs["once"], runs["resent"]
    # THEN every resend was received and none failed
    assert resent.report.records >= 2 * len(stream.events)
    assert not resent.report.failed_records
    assert not resent.report.dead_lettered_events
    # AND the audit holds exactly the same decisions (same action ids: they derive from the
    # business key), with the same final statuses and reasons
    assert len(resent.actions) == len(once.actions)
    assert resent.decisions() == once.decisions()
    # AND exactly the same messages went out, each once
    assert len(resent.emails) == len(once.emails) > 0
    assert len(resent.sms) == len(once.sms) > 0
    assert Counter((m["to"], m["subject"]) for m in resent.emails) == Counter(
        (m["to"], m["subject"]) for m in once.emails
    )
    # AND no resend was committed: the store holds the originals (and timers), never a copy
    assert not {name for name in resent.stored_events if name.endswith("-resent")}
    assert resent.stored_events == once.stored_events


def _simulate(path: Path) -> list[str]:
    from touchpoints.cli.main import cli

    result = CliRunner().invoke(cli, ["simulate", str(path), "--rules", str(REPO_ROOT / "rules"), "--json"])
    assert result.exit_code == 0, result.output
    return sorted(result.output.splitlines())


def test_simulate_sends_nothing_twice_for_a_resent_stream(stream: GeneratedStream, tmp_path: Path) -> None:
    # GIVEN the stream as a file, and the stream with every event resent as another file
    events, _ = resend_everything(stream.events)
    plain, doubled = tmp_path / "once.jsonl", tmp_path / "resent.jsonl"
    plain.write_text("".join(json.dumps(e) + "\n" for e in stream.events), encoding="utf-8")
    doubled.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    # WHEN both are simulated
    once, resent = _simulate(plain), _simulate(doubled)
    # THEN the decision records are the same lines: no action twice, none from a resend
    assert len(once) >= reliability_orders()  # every order is at least confirmed
    assert resent == once
    assert not any('-resent"' in line for line in resent)
