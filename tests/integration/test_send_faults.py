"""SES faults through the real Dispatch handler on moto: a message the provider did not take is retried.

Connection errors and throttling certainly did not send: the action stays `pending` and the
stream's retry sends it, exactly once. A read timeout is decided per category: a transactional
or service message is sent again (at least once, at most two with the same action tag), a
marketing one is `failed` (at most once). A permanent refusal is `failed` with a masked reason.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from tests.support.events import envelope, order_placed_detail
from tests.support.faults import inject, inject_after, refused, throttled, timeout, unreachable

_runs = itertools.count(1)


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """The channels' short in-call backoff, without the waiting (the attempts still happen)."""
    import touchpoints.adapters.channels as channels

    monkeypatch.setattr(channels, "RETRY_DELAYS", (0.0, 0.0))


@pytest.fixture
def settled(local: Any) -> Any:
    """The stack with every earlier test's actions dispatched: this test's stream records are its own."""
    local.driver.settle()
    return local


def _customer(run: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"C-fault-{run}",
        "email": f"fault.{run}@example.com",
        "timezone": "UTC",
        "consent": {"marketing": True, "sms": False},
        **extra,
    }


def _place_order(local: Any, **customer: Any) -> tuple[str, str]:
    """An order placed at noon UTC (no quiet hours); returns (order id, the customer's email)."""
    run = next(_runs)
    who = _customer(run, **customer)
    moment = datetime(2026, 5, 4, 12, 0, tzinfo=UTC).replace(day=1 + run % 27)
    event = envelope(
        "OrderPlaced", moment, order_placed_detail(who), order_id=f"F-{run}", event_id=f"f-{run}"
    )
    local.driver.now = moment
    local.driver.put_events([event])
    local.driver.drain_queue()
    return event["detail"]["order_id"], who["email"]


def _confirmation(local: Any, order_id: str) -> Any:
    (record,) = [r for r in local.store.records_for_order(order_id) if r.rule_id == "order-confirmation"]
    return record


def _emails_to(address: str) -> list[Any]:
    from moto.backends import get_backend

    from touchpoints.local import ACCOUNT_ID, REGION

    backend = get_backend("ses")[ACCOUNT_ID][REGION]
    return [m for m in backend.sent_messages if address in m.destinations.get("ToAddresses", [])]


class _Tags:
    """The EmailTags and the action header of every SendEmail the client made (moto drops them)."""

    def __init__(self) -> None:
        self.actions: list[str] = []

    def __call__(self, operation: str, params: Mapping[str, Any], call: int) -> Exception | None:
        tags = {tag["Name"]: tag["Value"] for tag in params.get("EmailTags", [])}
        headers = {h["Name"]: h["Value"] for h in params["Content"]["Simple"].get("Headers", [])}
        assert tags["action"] == headers["X-Touchpoints-Action"]
        self.actions.append(tags["action"])
        return None


@pytest.fixture
def tags(local: Any) -> Iterator[_Tags]:
    recorder = _Tags()
    with inject(local.clients, "sesv2", "SendEmail", recorder):
        yield recorder


def _failing(first: int, error: Exception) -> Any:
    def fault(operation: str, params: Mapping[str, Any], call: int) -> Exception | None:
        return error if call <= first else None

    return fault


@pytest.mark.parametrize(
    ("kind", "error", "failures"),
    [
        # the channel's three attempts of the first dispatch, and the first of the stream's retry
        ("connection error", unreachable("email"), 4),
        ("throttling", throttled("SendEmail", "TooManyRequestsException"), 4),
        # never retried inside the channel: the first dispatch and the stream's first retry
        ("read timeout before SES took it", timeout("email"), 2),
    ],
)
def test_a_transient_ses_error_is_retried_by_the_stream_and_sends_exactly_once(
    settled: Any, tags: _Tags, kind: str, error: Exception, failures: int
) -> None:
    # GIVEN a transactional order confirmation, and SES failing the first SendEmail calls
    order_id, email = _place_order(settled)
    dead_before = settled.driver.stats.dead_lettered
    # WHEN the stream is dispatched (the handler reports the record failed; Lambda retries it)
    with inject(settled.clients, "sesv2", "SendEmail", _failing(failures, error)) as seen:
        settled.driver.pump_stream()
    # THEN the fault happened, and once it cleared exactly one email went out, marked sent
    assert seen["raised"] == failures
    assert len(_emails_to(email)) == 1
    record = _confirmation(settled, order_id)
    assert (record.status, record.error) == ("sent", None)
    assert settled.driver.stats.dead_lettered == dead_before
    # AND the attempts all carried the one action's tag
    assert set(tags.actions[-(failures + 1) :]) == {record.action_id}


def test_a_read_timeout_after_ses_took_the_message_sends_at_most_twice_with_the_same_tag(
    settled: Any, tags: _Tags
) -> None:
    # GIVEN a transactional confirmation whose first SendEmail SES accepts, but whose answer is lost
    order_id, email = _place_order(settled)
    before = len(tags.actions)
    # WHEN the stream is dispatched
    with inject_after(settled.clients, "sesv2", "SendEmail", _failing(1, timeout("email"))):
        settled.driver.pump_stream()
    # THEN it was sent again (at least once): two emails, both tagged with the same action
    record = _confirmation(settled, order_id)
    assert record.status == "sent"
    assert len(_emails_to(email)) == 2
    assert tags.actions[before:] == [record.action_id, record.action_id]


def test_a_read_timeout_on_a_marketing_email_is_failed_and_never_resent(settled: Any, tags: _Tags) -> None:
    from touchpoints.service import NOT_RETRIED

    # GIVEN a 5-star review (review-thanks is marketing) whose SendEmail gets no answer
    order_id, email = _place_order(settled)
    settled.driver.pump_stream()  # the order confirmation goes out normally
    review = envelope(
        "ReviewSubmitted",
        settled.driver.now,
        {"review_id": f"R-{order_id}", "rating": 5},
        order_id=order_id,
    )
    settled.driver.put_events([review])
    settled.driver.drain_queue()
    sent_before = len(_emails_to(email))
    # WHEN the stream is dispatched
    with inject_after(settled.clients, "sesv2", "SendEmail", _failing(10, timeout("email"))) as seen:
        settled.driver.pump_stream()
    # THEN one attempt was made and the action is failed, saying it is not sent again (at most once)
    (thanks,) = [r for r in settled.store.records_for_order(order_id) if r.rule_id == "review-thanks"]
    assert seen["calls"] == 1
    assert thanks.status == "failed"
    assert NOT_RETRIED in (thanks.error or "")
    assert len(_emails_to(email)) == sent_before + 1  # SES took it once; nobody sent it again


def test_a_permanent_refusal_is_failed_with_a_masked_reason(settled: Any) -> None:
    # GIVEN SES refusing the message with a reason that names the recipient (as its sandbox does)
    order_id, email = _place_order(settled)
    reason = f"Email address is not verified. The following identities failed the check in region X: {email}"
    dead_before = settled.driver.stats.dead_lettered
    # WHEN the stream is dispatched
    with inject(
        settled.clients, "sesv2", "SendEmail", _failing(10, refused("SendEmail", "MessageRejected", reason))
    ) as seen:
        settled.driver.pump_stream()
    # THEN one attempt, the action is failed, its error names the code but only the masked address
    record = _confirmation(settled, order_id)
    assert seen["calls"] == 1
    assert record.status == "failed"
    assert "MessageRejected" in (record.error or "")
    assert email not in (record.error or "")
    assert email.split("@")[0] not in (record.error or "")
    assert settled.driver.stats.dead_lettered == dead_before
    assert _emails_to(email) == []


def test_throttling_through_every_retry_ends_in_the_dlq_and_redrive_sends_it_once(
    settled: Any, repo_root: Path
) -> None:
    from touchpoints.cli.main import cli
    from touchpoints.service import RETRYING

    # GIVEN a confirmation SES throttles through the channel's attempts and all the stream's retries
    order_id, email = _place_order(settled)
    dead_before = settled.driver.stats.dead_lettered
    always = _failing(10**6, throttled("SendEmail", "TooManyRequestsException"))
    with inject(settled.clients, "sesv2", "SendEmail", always):
        settled.driver.pump_stream()
    # THEN the stream record is dead-lettered and the action is still pending, marked for retry
    assert settled.driver.stats.dead_lettered == dead_before + 1
    record = _confirmation(settled, order_id)
    assert record.status == "pending"
    assert (record.error or "").startswith(RETRYING)
    assert _emails_to(email) == []
    # WHEN SES recovers and the operator runs `touchpoints redrive` (the action is overdue)
    settled.driver.now = datetime.now(UTC)
    arguments = ["redrive", "--table", settled.table_name, "--rules", str(repo_root / "rules")]
    result = CliRunner(env={"COLUMNS": "200"}).invoke(
        cli, [*arguments, "--older-than", "1m", "--days", "366"]
    )
    assert result.exit_code == 1, result.output  # actions were found (and redriven)
    settled.driver.pump_stream()
    # THEN the email goes out exactly once and the action is sent
    assert len(_emails_to(email)) == 1
    assert _confirmation(settled, order_id).status == "sent"


def test_a_name_with_line_breaks_in_a_subject_reaches_ses_as_one_line(
    clients: dict[str, Any], stack: Any
) -> None:
    from moto.backends import get_backend

    from touchpoints.adapters.channels import SesEmailChannel
    from touchpoints.catalog.templates import Template, render_template
    from touchpoints.local import ACCOUNT_ID, REGION
    from touchpoints.ports import OutboundMessage

    # GIVEN a subject template printing the customer's name, and a name that tries to add a header
    template = Template(name="t", locale="en", subject="{{ customer.name }}, your order", body="Hi")
    rendered = render_template(template, {"customer": {"name": "Emily\r\nBcc: x@example.com"}})
    message = OutboundMessage(
        action_id="a-header",
        order_id="A1",
        customer_id="C1",
        rule_id="r",
        channel="email",
        to="emily@example.com",
        locale="en",
        subject=rendered.subject,
        body=rendered.body,
    )
    backend = get_backend("ses")[ACCOUNT_ID][REGION]
    before = len(backend.sent_messages)
    # WHEN it is sent through SES v2
    SesEmailChannel(stack.parameters["SenderEmail"], client=clients["sesv2"]).send(message)
    # THEN SES received one line: no CR, no LF, no second header
    (sent,) = backend.sent_messages[before:]
    assert sent.subject == "Emily Bcc: x@example.com, your order"
    assert "\r" not in sent.subject
    assert "\n" not in sent.subject
    assert sent.destinations["ToAddresses"] == ["emily@example.com"]


def test_without_a_fault_the_confirmation_is_sent_once(settled: Any) -> None:
    # GIVEN / WHEN an order is confirmed with no fault at all (the control of the tests above)
    order_id, email = _place_order(settled)
    settled.driver.pump_stream()
    # THEN it is sent once, on the first attempt
    assert _confirmation(settled, order_id).status == "sent"
    assert len(_emails_to(email)) == 1
