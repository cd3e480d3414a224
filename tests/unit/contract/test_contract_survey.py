"""SurveyAnswered: the score on its scale, the comment kept out of errors, state and erasure, its facts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.support.events import envelope, event

from touchpoints.contract import InvalidEventError, SurveyAnswered, parse_event
from touchpoints.erasure import erase_event_fields
from touchpoints.journey import History, apply_event, build_facts

ROOT = Path(__file__).resolve().parents[3]
SECRET = "my neighbour Mrs Smith took the parcel"


def answer(time: str = "2026-03-10T10:00:00Z", **detail: Any) -> dict[str, Any]:
    return envelope(
        "SurveyAnswered",
        time,
        {"scale": "csat", "score": 2, "channel": "email", **detail},
        event_id=f"s-{time}",
    )


@pytest.mark.parametrize(("scale", "score"), [("nps", 0), ("nps", 10), ("csat", 1), ("csat", 5)])
def test_scores_at_the_ends_of_each_scale_parse(scale: str, score: int) -> None:
    # GIVEN / WHEN an answer at either end of its scale
    parsed = parse_event(answer(scale=scale, score=score))
    # THEN it parses as SurveyAnswered with that score
    assert isinstance(parsed.detail, SurveyAnswered)
    assert (parsed.detail.scale, parsed.detail.score) == (scale, score)


@pytest.mark.parametrize(
    ("detail", "message"),
    [
        ({"scale": "nps", "score": 11}, "detail.score: must be on the nps scale, 0 to 10, got 11"),
        ({"scale": "csat", "score": 0}, "detail.score: must be on the csat scale, 1 to 5, got 0"),
        ({"scale": "csat", "score": "4"}, "detail.score: must be an integer"),
        ({"scale": "ces", "score": 3}, "detail.scale: must be one of nps or csat"),
        ({"channel": "pigeon"}, "detail.channel: must be one of"),
    ],
)
def test_a_score_off_its_scale_names_the_field(detail: dict[str, Any], message: str) -> None:
    # GIVEN / WHEN an answer off its scale, or of an unknown scale or channel
    with pytest.raises(InvalidEventError) as caught:
        parse_event(answer(**detail))
    # THEN the error names the field and what is allowed
    assert message in str(caught.value)


def test_the_comment_never_appears_in_an_error() -> None:
    # GIVEN a malformed answer whose comment is personal text in the wrong shape
    raw = answer(score=9, comment=[SECRET])
    # WHEN it is rejected
    with pytest.raises(InvalidEventError) as caught:
        parse_event(raw)
    # THEN the message names the comment field but never its words
    text = str(caught.value)
    assert "detail.comment" in text
    assert "Smith" not in text


def test_the_journey_keeps_the_latest_answer_per_scale_and_never_the_comment() -> None:
    # GIVEN two CSAT answers (2, then 4 a day later, arriving in reverse) and one NPS answer
    later = parse_event(answer("2026-03-11T10:00:00Z", score=4, comment=SECRET))
    earlier = parse_event(answer("2026-03-10T10:00:00Z", score=2))
    nps = parse_event(answer("2026-03-10T12:00:00Z", scale="nps", score=9, channel="web"))
    # WHEN they are applied
    state = apply_event(apply_event(apply_event(None, later), earlier), nps)
    # THEN the later CSAT answer counts, both scales are kept, and no comment is stored
    assert {scale: info.score for scale, info in state.surveys.items()} == {"csat": 4, "nps": 9}
    assert state.surveys["csat"].has_comment is True
    assert SECRET not in state.model_dump_json()
    # and the facts give the latest answer overall (CSAT 4 on the 11th: a promoter)
    facts = build_facts(state, later, History(), later.time)
    assert facts["order"]["latest_survey_scale"] == "csat"
    assert facts["order"]["latest_survey_score"] == 4
    assert facts["order"]["survey_sentiment"] == "promoter"
    assert facts["order"]["has_survey_answer"] is True
    assert [a["scale"] for a in facts["order"]["surveys"]] == ["nps", "csat"]


@pytest.mark.parametrize(
    ("scale", "score", "sentiment"),
    [
        ("nps", 0, "detractor"),
        ("nps", 6, "detractor"),
        ("nps", 7, "passive"),
        ("nps", 8, "passive"),
        ("nps", 9, "promoter"),
        ("csat", 2, "detractor"),
        ("csat", 3, "passive"),
        ("csat", 4, "promoter"),
    ],
)
def test_event_sentiment_uses_the_bands_of_the_scale(scale: str, score: int, sentiment: str) -> None:
    # GIVEN / WHEN an answer on a scale
    parsed = parse_event(answer(scale=scale, score=score))
    facts = build_facts(apply_event(None, parsed), parsed, History(), parsed.time)
    # THEN its sentiment is that scale's band
    assert facts["event"]["sentiment"] == sentiment


def test_forget_erases_the_comment_from_the_stored_event() -> None:
    # GIVEN the stored envelope of an answer with a comment
    raw = json.loads(json.dumps(answer(comment=SECRET)))
    # WHEN the customer is forgotten
    changed = erase_event_fields(raw, "C1")
    # THEN the comment is gone (and a second erasure changes nothing)
    assert changed is True
    assert "comment" not in raw["detail"]
    assert erase_event_fields(raw, "C1") is False


def test_the_survey_template_tells_the_customer_how_to_answer_in_links() -> None:
    # GIVEN the follow-up survey in every locale
    from touchpoints.catalog import load_catalog, render_template

    catalog = load_catalog(ROOT / "rules")
    delivered = event("ShipmentDelivered", "2026-03-10T10:00:00Z", {"shipment_id": "S1"}, order_id="A 1&2")
    facts = build_facts(apply_event(None, delivered), delivered, History(), delivered.time)
    for locale in ("en", "zh-Hans", "zh-Hant"):
        body = render_template(catalog.templates[("follow-up-survey", locale)], facts).body
        # THEN each score 1-5 is one link a platform can turn into SurveyAnswered (order id encoded)
        for score in range(1, 6):
            assert f"?order=A%201%262&scale=csat&score={score}" in body
