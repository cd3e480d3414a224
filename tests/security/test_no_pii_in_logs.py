"""No personal data in logs: the sample and a generated stream through the real handlers on moto."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pii_streams import generated_stream, personal_values, sample_stream

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Replay:
    """What one replay produced: every byte the process wrote (the logs) and the table afterwards."""

    events: list[dict[str, Any]]
    logs: str
    items: list[dict[str, Any]]
    summary: dict[str, Any]


@pytest.fixture(scope="module")
def replay(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Replay:
    """Replay samples + generated events in a fresh interpreter (DEBUG logging), capturing stdout+stderr."""
    folder = tmp_path_factory.mktemp("pii")
    events = sample_stream(repo_root) + generated_stream(seed=7, orders=8)
    (folder / "events.json").write_text(json.dumps(events), encoding="utf-8")
    done = subprocess.run(
        [
            sys.executable,
            str(HERE / "replay_on_moto.py"),
            str(folder / "events.json"),
            str(folder / "dump.json"),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    dump = json.loads((folder / "dump.json").read_text(encoding="utf-8"))
    return Replay(events=events, logs=done.stdout + done.stderr, items=dump.pop("items"), summary=dump)


def test_the_capture_holds_the_handlers_logs(replay: Replay) -> None:
    # GIVEN the replay WHEN its output is read
    lines = replay.logs.splitlines()
    # THEN it really is the handlers' log (else "no PII found" would prove nothing):
    # decisions, sends, rejected events and the batch's report of each failed record are all there
    assert sum('"event processed"' in line for line in lines) >= replay.summary["valid"]
    assert any('"action dispatched"' in line for line in lines)
    assert sum('"event rejected"' in line for line in lines) >= 2 * replay.summary["invalid"]
    assert sum('"dead_lettered":true' in line for line in lines) >= 2 * replay.summary["invalid"]
    # three because of a contact field, one because of its comment, three personal data in the wrong shape
    assert replay.summary["invalid"] == 7
    assert replay.summary["emails"] > 0
    # ... and SES refused some sends with a text quoting the recipient (logged and stored, masked)
    assert replay.summary["refused"] > 0
    assert (
        sum('"status":"failed"' in line and "MessageRejected" in line for line in lines)
        == replay.summary["refused"]
    )


def test_no_email_phone_or_name_from_the_events_appears_in_any_log_line(replay: Replay) -> None:
    # GIVEN every email, phone number, name and survey comment the events carried (valid and rejected ones)
    needles = personal_values(replay.events)
    assert len(needles) > 50
    # WHEN the logs are searched for them
    leaks = {}
    for needle in sorted(needles):
        at = replay.logs.find(needle)
        if at >= 0:
            leaks[needle] = replay.logs[max(0, at - 200) : at + 60]
    # THEN none is there
    assert leaks == {}


def test_audit_records_hold_masked_addresses_only(replay: Replay) -> None:
    # GIVEN the action items (the audit trail) the replay left in the table
    from touchpoints.contract import mask_address

    actions = [item for item in replay.items if item["sk"]["S"].startswith("ACTION#")]
    raw = {
        value
        for event in replay.events
        if isinstance(event["detail"].get("customer") or {}, dict)
        for value in ((event["detail"].get("customer") or {}).get(k) for k in ("email", "phone"))
        if isinstance(value, str)
    }
    assert len(actions) > 20
    needles = personal_values(replay.events)
    # WHEN / THEN an address is the masked form of a customer's address, or absent (event channel) ...
    masked_forms = {mask_address(value) for value in raw}
    for item in actions:
        address = item.get("address", {}).get("S")
        assert address is None or address in masked_forms, address
    assert any(item.get("address", {}).get("S") for item in actions)
    # ... and no attribute of an action item holds a full address or a name
    leaking = [item["sk"]["S"] for item in actions if any(n in json.dumps(item) for n in needles)]
    assert leaking == []
