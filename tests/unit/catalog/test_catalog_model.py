"""The rule and policy models: defaults, the checks across fields, and locale fallback chains."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from touchpoints.catalog import ContactPolicy, Limit, Locales, QuietHours, Rule
from touchpoints.contract.limits import ID_MAX_LENGTH

MINIMAL: dict[str, Any] = {
    "id": "order-confirmation",
    "description": "Confirm every order.",
    "on": "OrderPlaced",
    "then": [{"channel": "email", "template": "order-confirmation"}],
}


def test_rule_defaults_fill_what_the_file_leaves_out() -> None:
    # GIVEN the smallest valid rule
    # WHEN it is validated
    rule = Rule.model_validate(MINIMAL)
    # THEN one trigger becomes a list and the documented defaults apply
    assert rule.on == ["OrderPlaced"]
    assert (rule.when, rule.priority, rule.category, rule.enabled, rule.tags) == (
        True,
        0,
        "service",
        True,
        [],
    )
    assert not rule.is_delayed


def test_rule_reads_durations_and_limits() -> None:
    # GIVEN a delayed rule with a windowed customer limit
    data = {**MINIMAL, "after": "1d12h", "limit": {"max": 2, "per": "7d", "scope": "customer"}}
    # WHEN it is validated
    rule = Rule.model_validate(data)
    # THEN durations are timedeltas and the rule knows it is delayed
    assert rule.after == timedelta(days=1, hours=12)
    assert rule.limit == Limit(max=2, per=timedelta(days=7), scope="customer")
    assert rule.is_delayed
    assert rule.model_dump(mode="json")["after"] == "1d12h"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"after": "1h", "at": "order.promised_ship_by"}, "either `after`"),
        ({"offset": "2h"}, "`offset` only applies with `at`"),
        ({"then": [{"channel": "event"}]}, "needs `detail-type`"),
        (
            {"then": [{"channel": "event", "detail-type": "SupportCaseRequested", "template": "x"}]},
            "has no `template`",
        ),
        ({"then": [{"channel": "sms"}]}, "needs `template`"),
        (
            {"then": [{"channel": "email", "template": "x", "detail-type": "SupportCaseRequested"}]},
            "only for channel",
        ),
        ({"priorty": 5}, "Extra inputs"),
    ],
)
def test_rule_rejects_inconsistent_fields(extra: dict[str, Any], message: str) -> None:
    # GIVEN a rule whose fields contradict each other (or hold a typo)
    # WHEN it is validated
    with pytest.raises(ValidationError) as caught:
        Rule.model_validate({**MINIMAL, **extra})
    # THEN the error explains the conflict
    assert message in str(caught.value)


def test_event_action_reads_its_detail_type_by_alias() -> None:
    # GIVEN an event action as written in YAML, with `detail-type`
    rule = Rule.model_validate(
        {**MINIMAL, "then": [{"channel": "event", "detail-type": "GoodwillCreditRequested"}]}
    )
    # WHEN we read it back
    # THEN the detail-type is there under its Python name
    assert rule.then[0].detail_type == "GoodwillCreditRequested"


def test_policy_refuses_to_cap_transactional_messages() -> None:
    # GIVEN a policy that caps transactional messages
    # WHEN it is validated
    with pytest.raises(ValidationError) as caught:
        ContactPolicy.model_validate({"caps": {"transactional": {"max": 1, "per": "1d"}}})
    # THEN the error says they are never capped
    assert "never capped" in str(caught.value)


@pytest.mark.parametrize(
    ("moment", "quiet"),
    [
        (time(20, 59), False),
        (time(21, 0), True),
        (time(23, 30), True),
        (time(3, 0), True),
        (time(9, 0), False),
    ],
)
def test_quiet_hours_span_midnight(moment: time, quiet: bool) -> None:
    # GIVEN quiet hours from 21:00 to 09:00
    hours = QuietHours.model_validate({"start": "21:00", "end": "09:00"})
    # WHEN a local time is checked
    # THEN only times inside the overnight window are quiet
    assert hours.contains(moment) is quiet


def test_quiet_hours_need_quoted_clock_times() -> None:
    # GIVEN a time written as a number of minutes (what YAML 1.1 makes of 21:00)
    # WHEN it is validated
    # THEN the error shows the expected form
    with pytest.raises(ValidationError, match='"HH:MM"'):
        QuietHours.model_validate({"start": 1260, "end": "09:00"})


@pytest.mark.parametrize(
    ("locale", "chain"),
    [
        ("zh-Hant", ["zh-Hant", "zh", "en"]),
        ("zh-TW", ["zh-TW", "zh-Hant", "zh", "en"]),
        ("en-GB", ["en-GB", "en"]),
        ("fr-CA", ["fr-CA", "fr", "en"]),
        ("en", ["en"]),
    ],
)
def test_locale_chain_goes_from_specific_to_default(locale: str, chain: list[str]) -> None:
    # GIVEN the default locale settings
    locales = Locales()
    # WHEN a customer's locale is expanded
    # THEN the chain tries the locale, its fallbacks, its parents, then the default
    assert locales.chain(locale) == chain


def test_policy_fallbacks_override_the_built_in_ones() -> None:
    # GIVEN a policy sending zh-Hant customers to zh-Hans before English
    locales = Locales.model_validate({"fallbacks": {"zh-Hant": ["zh-Hans", "en"]}})
    # WHEN the chain is computed
    # THEN the policy's order wins
    assert locales.chain("zh-Hant") == ["zh-Hant", "zh-Hans", "en", "zh"]


def test_default_locale_must_be_required() -> None:
    # GIVEN a default locale left out of `required`
    # WHEN the policy is validated
    # THEN it is refused (the default is what every template falls back to)
    with pytest.raises(ValidationError, match="must be listed in `required`"):
        Locales.model_validate({"default": "en", "required": ["zh-Hant"]})


def test_quiet_hours_that_start_when_they_end_are_refused() -> None:
    # GIVEN quiet hours from 21:00 to 21:00 (never quiet? always quiet?)
    # WHEN they are validated
    with pytest.raises(ValidationError) as caught:
        ContactPolicy.model_validate({"quiet_hours": {"start": "21:00", "end": "21:00"}})
    # THEN the error names the ambiguity and what to write instead
    message = str(caught.value)
    assert "both 21:00" in message
    assert "remove quiet_hours to have none" in message


def test_rule_ids_are_limited_to_what_a_timer_event_may_carry() -> None:
    # GIVEN the event contract's limit for ids (TimerFired's rule_id among them)
    longest = ("late-shipment-" * ID_MAX_LENGTH)[: ID_MAX_LENGTH - 1] + "x"
    # WHEN a rule id of exactly that length, and one a character longer, are validated
    # THEN the first is a rule id, the second is refused
    assert Rule.model_validate({**MINIMAL, "id": longest}).id == longest
    with pytest.raises(ValidationError, match=f"at most {ID_MAX_LENGTH} characters"):
        Rule.model_validate({**MINIMAL, "id": longest + "z"})
