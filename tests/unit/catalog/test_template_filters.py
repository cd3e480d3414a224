"""Template date filters: dates in the customer's time zone and the message's language, never the UTC day."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from touchpoints.catalog import Catalog, Template, load_catalog, render_template
from touchpoints.catalog.templates import (
    date_style,
    format_local_date,
    format_local_datetime,
    lint_template_source,
)
from touchpoints.contract import parse_event
from touchpoints.journey import History, OrderJourney, apply_event, build_facts

ROOT = Path(__file__).resolve().parents[3]
EVENTS = ROOT / "events"
SCENARIOS = sorted(path.name for path in EVENTS.iterdir() if path.is_dir() and path.name != "schemas")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@cache
def _catalog() -> Catalog:
    return load_catalog(ROOT / "rules")


@cache
def _scenario_facts(scenario: str) -> list[tuple[str, dict[str, Any]]]:
    """(event file, facts a rule sees right after it) for each event of a sample scenario, in order."""
    state: OrderJourney | None = None
    steps: list[tuple[str, dict[str, Any]]] = []
    for path in sorted((EVENTS / scenario).glob("*.json")):
        event = parse_event(json.loads(path.read_text(encoding="utf-8")))
        state = apply_event(state, event)
        steps.append((path.name, build_facts(state, event, History(), event.time)))
    return steps


def _facts_after(scenario: str, event_file: str) -> dict[str, Any]:
    return dict(_scenario_facts(scenario))[event_file]


def _render(source: str, facts: dict[str, Any], locale: str = "en") -> str:
    return render_template(Template(name="t", locale=locale, subject="s", body=source), facts).body


def test_new_york_evening_promise_shows_the_local_day_not_the_utc_day() -> None:
    # GIVEN the happy-path order, promised by 20:00 on 7 March in New York (01:00 on 8 March UTC)
    facts = _facts_after("happy-path", "01-order-placed.json")
    assert facts["customer"]["timezone"] == "America/New_York"
    assert facts["order"]["promised_delivery_by"] == "2026-03-08T01:00:00Z"
    # WHEN the shipped order confirmation is rendered in each language
    catalog = _catalog()
    bodies = {
        locale: render_template(catalog.templates[("order-confirmation", locale)], facts).body
        for locale in ("en", "zh-Hans", "zh-Hant")
    }
    # THEN the customer reads Saturday 7 March, written the way their language writes dates
    assert "We expect it to reach you by Saturday, 7 March 2026." in bodies["en"]
    assert "预计最晚于2026年3月7日（星期六）送达。" in bodies["zh-Hans"]
    assert "預計最晚於2026年3月7日（星期六）送達。" in bodies["zh-Hant"]
    assert not any("8 March" in body or "3月8日" in body for body in bodies.values())


def test_taipei_late_evening_delivery_shows_local_time_in_traditional_chinese() -> None:
    # GIVEN the late-night delivery in Taipei: 14:30 UTC is 22:30 local
    facts = _facts_after("late-night-delivery", "04-shipment-delivered.json")
    assert facts["customer"]["timezone"] == "Asia/Taipei"
    assert facts["order"]["delivered_at"] == "2026-03-17T14:30:00Z"
    # WHEN a zh-Hant template prints the delivery time and day
    body = _render(
        "{{ order.delivered_at | local_datetime }}|{{ order.delivered_at | local_date }}", facts, "zh-Hant"
    )
    # THEN both are Taipei's, in 24-hour time
    assert body == "2026年3月17日 22:30|2026年3月17日（星期二）"


def test_taipei_delivery_after_midnight_local_moves_to_the_next_day() -> None:
    # GIVEN a delivery at 16:30 UTC: still 17 March in UTC, already 18 March 00:30 in Taipei
    facts = {"customer": {"timezone": "Asia/Taipei"}, "order": {"delivered_at": "2026-03-17T16:30:00Z"}}
    # WHEN it is printed in each language
    # THEN the day is the customer's day
    assert _render("{{ order.delivered_at | local_datetime }}", facts, "zh-Hant") == "2026年3月18日 00:30"
    assert _render("{{ order.delivered_at | local_datetime }}", facts, "en") == "18 March 2026, 12:30 am"


@pytest.mark.parametrize(
    ("moment", "date_text", "datetime_text"),
    [
        # British Summer Time (UTC+1): 23:30 UTC is already the next day in London
        ("2026-07-01T23:30:00Z", "Thursday, 2 July 2026", "2 July 2026, 12:30 am"),
        # Winter (GMT = UTC+0): the same clock time stays on the same day
        ("2026-01-15T23:30:00Z", "Thursday, 15 January 2026", "15 January 2026, 11:30 pm"),
        # The night the clocks go forward: 00:59 UTC is 00:59 GMT, 01:00 UTC is 02:00 BST
        ("2026-03-29T00:59:00Z", "Sunday, 29 March 2026", "29 March 2026, 12:59 am"),
        ("2026-03-29T01:00:00Z", "Sunday, 29 March 2026", "29 March 2026, 2:00 am"),
    ],
)
def test_london_follows_summer_time(moment: str, date_text: str, datetime_text: str) -> None:
    # GIVEN a London customer
    # WHEN a UTC timestamp is printed
    # THEN it is shifted by the offset in force on that day
    assert format_local_date(moment, "Europe/London", "en") == date_text
    assert format_local_datetime(moment, "Europe/London", "en") == datetime_text


@pytest.mark.parametrize(
    ("moment", "en", "zh"),
    [
        ("2026-03-07T05:00:00Z", "7 March 2026, 12:00 am", "2026年3月7日 00:00"),
        ("2026-03-07T17:00:00Z", "7 March 2026, 12:00 pm", "2026年3月7日 12:00"),
        ("2026-03-07T13:05:00Z", "7 March 2026, 8:05 am", "2026年3月7日 08:05"),
        ("2026-03-08T04:59:00Z", "7 March 2026, 11:59 pm", "2026年3月7日 23:59"),
    ],
)
def test_clock_times_use_each_languages_usual_form(moment: str, en: str, zh: str) -> None:
    # GIVEN instants around midnight and noon in New York (UTC-5 in early March)
    # WHEN printed in English and Chinese
    # THEN English uses a 12-hour clock with am/pm (midnight 12:00 am), Chinese a 24-hour clock
    assert format_local_datetime(moment, "America/New_York", "en") == en
    assert format_local_datetime(moment, "America/New_York", "zh-Hans") == zh
    assert format_local_datetime(moment, "America/New_York", "zh-Hant") == zh


@pytest.mark.parametrize(
    "source",
    [
        "{{ order.promised_delivery_by | local_date }}",
        "{{ order.promised_delivery_by | local_datetime }}",
        "{{ order.missing_fact | local_date }}",
        "{{ order.missing_fact | local_datetime }}",
    ],
)
def test_missing_or_null_timestamps_are_a_render_error_never_a_blank(source: str) -> None:
    from touchpoints.catalog.templates import TemplateRenderError

    # GIVEN a null fact (a promise the platform never sent) and a fact that is absent altogether
    facts = {"customer": {"timezone": "Europe/Paris"}, "order": {"promised_delivery_by": None}}
    # WHEN rendered through a date filter
    # THEN the render fails (the message is not sent) instead of printing "" or "None"
    with pytest.raises(TemplateRenderError):
        _render(f"[{source}]", facts)


@pytest.mark.parametrize("value", [None, ""])
def test_missing_values_format_to_empty_text(value: object) -> None:
    # GIVEN no timestamp WHEN formatted THEN nothing is printed
    assert format_local_date(value, "Asia/Taipei", "zh-Hant") == ""
    assert format_local_datetime(value, "Asia/Taipei", "en") == ""


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "America", "../../etc/passwd", "", None, 42, "utc"])
def test_an_invalid_time_zone_falls_back_to_utc(zone: object) -> None:
    # GIVEN a zone that is unknown, a folder, a path, empty, missing or not text
    moment = "2026-03-08T01:00:00Z"
    # WHEN a timestamp is printed
    date_text = format_local_date(moment, zone, "en")
    datetime_text = format_local_datetime(moment, zone, "zh-Hans")
    # THEN the UTC day is shown, and a time says it is UTC rather than pretending to be local
    assert date_text == "Sunday, 8 March 2026"
    assert datetime_text == "2026年3月8日 01:00 UTC"


def test_a_customer_whose_zone_is_utc_sees_times_labelled_utc() -> None:
    # GIVEN a customer in UTC (also the default for an unknown customer)
    # WHEN a time is printed
    # THEN it is labelled, while a zone that merely has offset 0 (London in winter) is not
    assert format_local_datetime("2026-01-15T09:00:00Z", "UTC", "en") == "15 January 2026, 9:00 am UTC"
    assert format_local_datetime("2026-01-15T09:00:00Z", "Europe/London", "en") == "15 January 2026, 9:00 am"


def test_an_invalid_zone_in_the_facts_still_renders_the_shipped_template() -> None:
    # GIVEN the happy-path order placed by a customer whose zone is garbage
    facts = _facts_after("happy-path", "01-order-placed.json")
    broken = {**facts, "customer": {**facts["customer"], "timezone": "New York"}}
    # WHEN the confirmation is rendered
    body = render_template(_catalog().templates[("order-confirmation", "en")], broken).body
    # THEN it shows the UTC day instead of failing
    assert "We expect it to reach you by Sunday, 8 March 2026." in body


def test_filters_read_zone_from_the_customer_and_language_from_the_template() -> None:
    # GIVEN a French customer in Paris reading the English fallback template
    facts = {"customer": {"timezone": "Europe/Paris", "locale": "fr"}, "now": "2026-03-07T23:30:00Z"}
    # WHEN the English and Traditional Chinese templates print the same instant
    en = _render("{{ now | local_date }}", facts, "en")
    zh = _render("{{ now | local_date }}", facts, "zh-Hant")
    # THEN the day is Paris's (00:30 on Sunday), written in the template's language
    assert en == "Sunday, 8 March 2026"
    assert zh == "2026年3月8日（星期日）"


def test_explicit_filter_arguments_override_the_customer() -> None:
    # GIVEN a customer in New York
    facts = {"customer": {"timezone": "America/New_York", "locale": "en"}, "now": "2026-03-08T01:00:00Z"}
    # WHEN a template names another zone and locale explicitly (a store's local pickup time)
    body = _render("{{ now | local_datetime('Asia/Taipei', 'zh-TW') }}", facts)
    # THEN those are used
    assert body == "2026年3月8日 09:00"


def test_filters_render_without_a_customer_in_the_facts() -> None:
    # GIVEN facts without a customer WHEN a date is printed THEN it is the UTC day, in the template's language
    assert (
        _render("{{ now | local_date }}", {"now": "2026-03-08T01:00:00Z"}, "zh-Hans")
        == "2026年3月8日（星期日）"
    )


@pytest.mark.parametrize(
    ("locale", "style"),
    [
        ("en", "en"),
        ("en-GB", "en"),
        ("fr", "en"),
        (None, "en"),
        ("zh", "zh-Hans"),
        ("zh-Hans", "zh-Hans"),
        ("zh-CN", "zh-Hans"),
        ("zh_SG", "zh-Hans"),
        ("zh-Hant", "zh-Hant"),
        ("zh-TW", "zh-Hant"),
        ("zh-HK", "zh-Hant"),
        ("zh-Hant-MO", "zh-Hant"),
    ],
)
def test_date_style_maps_locale_tags_to_a_script(locale: str | None, style: str) -> None:
    # GIVEN a BCP 47 tag WHEN its date style is chosen THEN Chinese picks the right script, others English
    assert date_style(locale) == style


def test_date_only_values_and_offsets_are_understood() -> None:
    # GIVEN a date without a time, and a timestamp written with an offset rather than Z
    # WHEN printed
    # THEN the date is kept as is (no zone shift), and the offset timestamp is converted
    assert format_local_date("2026-03-07", "Pacific/Auckland", "en") == "Saturday, 7 March 2026"
    assert format_local_date("2026-03-07T20:00:00-05:00", "Asia/Tokyo", "zh-Hans") == "2026年3月8日（星期日）"
    assert format_local_datetime(datetime(2026, 3, 7, 12, 0, tzinfo=UTC), "Asia/Kolkata", "en") == (
        "7 March 2026, 5:30 pm"
    )


def test_text_that_is_not_a_timestamp_is_shown_unchanged() -> None:
    # GIVEN a filter applied to something that is not a timestamp (a template mistake)
    # WHEN printed
    # THEN the text is shown as is, so `touchpoints preview` makes the mistake visible
    assert format_local_date("A1001", "UTC", "en") == "A1001"
    assert format_local_datetime("soon", "UTC", "en") == "soon"


_EN_MONTHS = [datetime(2026, month, 1).strftime("%B") for month in range(1, 13)]
_EN_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_ZH_DAYS = "一二三四五六日"
_ZONES = ["America/New_York", "America/Los_Angeles", "Europe/London", "Asia/Taipei", "Asia/Shanghai",
          "Australia/Adelaide", "Pacific/Chatham", "Asia/Kathmandu", "UTC"]  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(
    moment=st.datetimes(
        min_value=datetime(1990, 1, 1), max_value=datetime(2060, 12, 31), timezones=st.just(UTC)
    ),
    zone=st.sampled_from(_ZONES),
)
def test_formats_agree_with_zoneinfo_for_any_instant(moment: datetime, zone: str) -> None:
    # GIVEN any instant, written as a fact (RFC 3339 UTC with Z), and a customer zone
    fact = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    local = moment.replace(microsecond=0).astimezone(ZoneInfo(zone))
    # WHEN it is formatted in each language
    en_date = format_local_date(fact, zone, "en")
    zh_date = format_local_date(fact, zone, "zh-Hans")
    zh_time = format_local_datetime(fact, zone, "zh-Hant")
    # THEN day, weekday and clock are those of the customer's zone
    assert en_date == f"{_EN_DAYS[local.weekday()]}, {local.day} {_EN_MONTHS[local.month - 1]} {local.year}"
    assert zh_date == f"{local.year}年{local.month}月{local.day}日（星期{_ZH_DAYS[local.weekday()]}）"
    assert zh_time.startswith(f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}")


def test_lint_accepts_the_date_filters_with_and_without_arguments() -> None:
    # GIVEN templates using the new filters
    sources = [
        "{{ order.promised_delivery_by | local_date }}",
        "{{ event.new_estimate | local_datetime(customer.timezone, customer.locale) }}",
        "{% if order.delivered_at %}{{ order.delivered_at | local_date('Asia/Taipei') }}{% endif %}",
    ]
    known = {"order.promised_delivery_by", "event.new_estimate", "customer.timezone", "customer.locale"}
    checked: list[str] = []

    def check(path: str) -> str | None:
        checked.append(path)
        return None if path in known | {"order.delivered_at"} else f"no {path}"

    # WHEN they are linted against the facts
    issues = [issue for source in sources for issue in lint_template_source(source, check)]
    # THEN nothing is reported, and filter arguments are still checked as facts
    assert issues == []
    assert {"customer.timezone", "customer.locale"} <= set(checked)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{{ order.placed_at | local_dat }}", "unknown filter 'local_dat' (did you mean 'local_date'?)"),
        (
            "\n{{ order.placed_at | strftime('%Y') }}",
            "unknown filter 'strftime' (dates and times: local_date, local_datetime)",
        ),
        (
            "{% if order.placed_at %}{{ order.placed_at | localdate }}{% endif %}",
            "unknown filter 'localdate' (did you mean 'local_date'?)",
        ),
        ("{% if customer.name is definde %}x{% endif %}", "unknown test 'definde' (did you mean 'defined'?)"),
    ],
)
def test_lint_refuses_unknown_filters_and_tests(source: str, message: str) -> None:
    # GIVEN a misspelt or invented filter or test (Jinja2 would only fail when the line is reached)
    # WHEN linted
    issues = lint_template_source(source)
    # THEN it is reported at its line, with a suggestion when one is close
    assert [(issue.line, issue.message) for issue in issues] == [(source.count("\n") + 1, message)]


def test_shipped_templates_no_longer_slice_timestamps() -> None:
    # GIVEN every shipped template file
    texts = {
        path: path.read_text(encoding="utf-8") for path in (ROOT / "rules" / "templates").glob("*/*.yaml")
    }
    # WHEN searched for the old UTC slicing
    slicing = [str(path) for path, text in texts.items() if "[:10]" in text]
    # THEN none is left, and every one is covered (13 templates x 3 locales)
    assert slicing == []
    assert len(texts) == 39


def _render_cases() -> list[tuple[str, str, str]]:
    return [
        (template, locale, scenario)
        for template, locale in sorted(_catalog().templates)
        for scenario in SCENARIOS
    ]


@pytest.mark.parametrize(("template", "locale", "scenario"), _render_cases())
def test_every_shipped_template_renders_after_every_sample_event(
    template: str, locale: str, scenario: str
) -> None:
    # GIVEN one shipped template in one locale, and the facts after each event of a sample scenario
    compiled = _catalog().templates[(template, locale)]
    for event_file, facts in _scenario_facts(scenario):
        # WHEN it is rendered from those facts
        message = render_template(compiled, facts)
        text = "\n".join(part for part in (message.subject, message.body, message.sms) if part)
        where = f"{template}/{locale} after {scenario}/{event_file}"
        # THEN it renders, with no raw timestamp, "None" or template syntax left in the text
        assert ISO_DATE.search(text) is None, where
        assert "None" not in text, where
        assert "{{" not in text, where
        assert "{%" not in text, where
        # AND dates are written in the template's own language
        if locale == "en":
            assert re.search(r"\d年\d", text) is None, where
        else:
            assert not any(month in text for month in _EN_MONTHS), where


def test_sample_dates_are_the_customers_local_days() -> None:
    # GIVEN the delayed parcel of the carrier-delay scenario
    facts = _facts_after("carrier-delay", "04-shipment-delayed.json")
    zone = ZoneInfo(facts["customer"]["timezone"])
    new_estimate = datetime.fromisoformat(facts["event"]["new_estimate"]).astimezone(zone)
    promised = datetime.fromisoformat(facts["order"]["promised_delivery_by"]).astimezone(zone)
    # WHEN the delay apology is rendered
    body = render_template(_catalog().templates[("delivery-delay-apology", "en")], facts).body
    # THEN both dates are the customer's local days
    assert f"by {_EN_DAYS[promised.weekday()]}, {promised.day} {_EN_MONTHS[promised.month - 1]}" in body
    assert (
        f"on {_EN_DAYS[new_estimate.weekday()]}, {new_estimate.day} {_EN_MONTHS[new_estimate.month - 1]}"
        in body
    )


def test_an_estimate_a_day_later_in_utc_is_not_shown_a_day_later() -> None:
    # GIVEN an estimate of 21:00 on 9 March in Los Angeles (05:00 on 10 March UTC)
    estimate = datetime(2026, 3, 9, 21, 0, tzinfo=ZoneInfo("America/Los_Angeles"))
    fact = estimate.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert fact.startswith("2026-03-10")
    # WHEN printed for the customer
    # THEN it is the 9th, and one hour later it is still the 9th
    assert format_local_date(fact, "America/Los_Angeles", "en") == "Monday, 9 March 2026"
    later = (estimate + timedelta(hours=1)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert format_local_datetime(later, "America/Los_Angeles", "en") == "9 March 2026, 10:00 pm"
