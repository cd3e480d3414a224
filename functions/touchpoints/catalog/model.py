"""The rule-file and contact-policy models: what operations teams may write, checked field by field."""

from __future__ import annotations

import re
from datetime import time, timedelta
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from touchpoints.catalog.durations import DURATION_PATTERN, format_duration, parse_duration
from touchpoints.contract.limits import ID_MAX_LENGTH

__all__ = [
    "ACTION_EVENT_TYPES",
    "CAPPED_CHANNELS",
    "CATEGORIES",
    "CHANNELS",
    "MIN_EXPIRES_AFTER",
    "TRIGGER_TYPES",
    "ActionSpec",
    "Cap",
    "ChannelCap",
    "ContactPolicy",
    "Duration",
    "Experiment",
    "Group",
    "GroupPolicy",
    "Limit",
    "Locales",
    "QuietHours",
    "Rule",
    "SignedDuration",
]

TriggerType = Literal[
    "OrderPlaced",
    "OrderCancelled",
    "PaymentSucceeded",
    "PaymentFailed",
    "ShipmentDispatched",
    "ShipmentDelayed",
    "ShipmentException",
    "ShipmentDelivered",
    "ReturnRequested",
    "ReviewSubmitted",
    "SurveyAnswered",
]
ChannelName = Literal["email", "sms", "event"]
ActionEventType = Literal["SupportCaseRequested", "GoodwillCreditRequested"]
Category = Literal["transactional", "service", "marketing"]

TRIGGER_TYPES: tuple[str, ...] = get_args(TriggerType)
"""Detail-types a rule may react to: every public event type (TimerFired is internal)."""
CHANNELS: tuple[str, ...] = get_args(ChannelName)
ACTION_EVENT_TYPES: tuple[str, ...] = get_args(ActionEventType)
"""Detail-types an `event` action may put on the bus (for helpdesks and coupon services)."""
CATEGORIES: tuple[str, ...] = get_args(Category)
CappedChannel = Literal["email", "sms"]
CAPPED_CHANNELS: tuple[str, ...] = get_args(CappedChannel)
"""Channels a cap may name: the messages a customer receives (`event` actions are never capped)."""
OnCap = Literal["drop", "defer"]

MIN_EXPIRES_AFTER = timedelta(minutes=15)
"""The shortest `expires_after`: Dispatch takes a pending action within seconds, but its retries
(and `touchpoints redrive`, which looks at actions 15 minutes overdue) take minutes; a shorter
expiry would expire messages that were never held back."""

_ID_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def _duration(value: Any) -> Any:
    return parse_duration(value) if isinstance(value, str) or not isinstance(value, timedelta) else value


def _signed_duration(value: Any) -> Any:
    if isinstance(value, timedelta):
        return value
    return parse_duration(value, allow_negative=True)


Duration = Annotated[
    timedelta,
    BeforeValidator(_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": DURATION_PATTERN.replace("^-?", "^"),
            "description": "A duration: a number and a unit, m, h, d or w (e.g. 30m, 48h, 3d, 1w, 1d12h).",
            "examples": ["30m", "48h", "3d", "1w"],
        }
    ),
]
"""A positive duration written `30m`, `12h`, `3d`, `1w` or `1d12h`."""

SignedDuration = Annotated[
    timedelta,
    BeforeValidator(_signed_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": DURATION_PATTERN,
            "description": "A duration, negative with a leading '-' (e.g. 2h, -12h).",
            "examples": ["2h", "-12h"],
        }
    ),
]
"""A duration that may be negative (`-2h`), for `offset`."""


def _clock(value: Any) -> Any:
    if isinstance(value, time):
        return value
    if not isinstance(value, str) or not _CLOCK.match(value.strip()):
        raise ValueError(f'{value!r} is not a time of day: write it as "HH:MM" in quotes, e.g. "21:00"')
    hours, minutes = value.strip().split(":")
    return time(int(hours), int(minutes))


Clock = Annotated[
    time,
    BeforeValidator(_clock),
    PlainSerializer(lambda t: t.strftime("%H:%M"), return_type=str),
    WithJsonSchema({"type": "string", "pattern": _CLOCK.pattern, "examples": ["21:00", "09:00"]}),
]


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _no_tags() -> list[str]:
    """A new empty list. Not `default_factory=list`: pydantic inspects the factory's signature when
    the class is created, and `inspect.signature(list)` costs ~0.5 ms (a Python function's, ~7 us)."""
    return []


class _Strict(BaseModel):
    """Base of the file models: unknown keys are errors, so a typo such as `priorty` never passes.

    `defer_build`: the validators are built on the first validation, not at import. A Lambda that
    loads the compiled catalog (catalog/compiled.py) never validates a rule file, so it never
    pays for them; `validate` and a full load build them once, as before.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


class Limit(_Strict):
    """How often one rule may fire: `{max: 1, scope: order}` or `{max: 2, per: 7d, scope: customer}`."""

    max: int = Field(ge=1, description="Firings allowed within the scope (and the `per` window).")
    per: Duration | None = Field(
        default=None, description="Sliding window for `max` (e.g. 7d); without it the limit is for ever."
    )
    scope: Literal["order", "customer"] = Field(
        default="order", description="Count firings per order, or per customer across all their orders."
    )


HOLDOUT_MAX_PERCENT = 50.0
"""The largest holdout a rule may declare: above half, the "holdout" is the treatment."""


def _percent(value: Any) -> Any:
    """`10%`, `"12.5%"` or a number of percent (`10`) as a float percent; anything else fails."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a percentage: write it as 10%")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip().removesuffix("%").strip()
        try:
            return float(text)
        except ValueError:
            pass
    raise ValueError(f"{value!r} is not a percentage: write it as 10% (a number from 0 to 50, then %)")


class Experiment(_Strict):
    """A holdout experiment on one rule: a share of its matches is recorded `held_out` and never sent.

    Which orders (or customers) are held out is a hash of the experiment's name and the sticky key
    (touchpoints.experiments), so a replay, a simulation and production agree on every one.
    """

    name: str = Field(
        pattern=_ID_PATTERN,
        max_length=ID_MAX_LENGTH,
        description="Kebab-case name, unique in the catalog; seeds the assignment (renaming reshuffles).",
    )
    holdout: Annotated[
        float,
        BeforeValidator(_percent),
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*%\s*$"},
                    {"type": "number", "exclusiveMinimum": 0, "maximum": HOLDOUT_MAX_PERCENT},
                ],
                "description": "Share held out, in percent: more than 0, at most 50 (e.g. 10%).",
                "examples": ["10%", "5%"],
            }
        ),
    ] = Field(description="Share of matches held out, in percent (e.g. 10%).")
    sticky: Literal["order", "customer"] = Field(
        default="order",
        description="order: each order drawn on its own; customer: a customer's orders share one arm.",
    )

    @field_validator("holdout")
    @classmethod
    def _check_holdout(cls, value: float) -> float:
        if not 0 < value <= HOLDOUT_MAX_PERCENT:
            raise ValueError(
                f"holdout {value:g}% is out of range: hold out more than 0% and at most "
                f"{HOLDOUT_MAX_PERCENT:g}% of the matches (e.g. holdout: 10%)"
            )
        return value


class ActionSpec(_Strict):
    """One thing a rule does when it matches: a message on a channel, or an event for another system."""

    channel: ChannelName = Field(
        description="email or sms (a message from a template), or event (put on the bus for helpdesks etc.)."
    )
    template: str | None = Field(
        default=None,
        description="For email and sms: the folder under rules/templates/ holding the message per locale.",
    )
    detail_type: ActionEventType | None = Field(
        default=None,
        alias="detail-type",
        description="For channel event: the detail-type to publish.",
    )

    @model_validator(mode="after")
    def _check_channel_fields(self) -> ActionSpec:
        if self.channel == "event":
            if self.detail_type is None:
                raise ValueError(
                    "an event action needs `detail-type`: one of " + ", ".join(ACTION_EVENT_TYPES)
                )
            if self.template is not None:
                raise ValueError("an event action has no `template` (it publishes data, not a message)")
        else:
            if self.template is None:
                raise ValueError(f"an {self.channel} action needs `template` (a rules/templates/ folder)")
            if self.detail_type is not None:
                raise ValueError(f"`detail-type` is only for channel event, not {self.channel}")
        return self


class Rule(_Strict):
    """One rule file: when an event of a type arrives (and the condition holds), do these actions."""

    id: str = Field(
        pattern=_ID_PATTERN,
        max_length=ID_MAX_LENGTH,
        description=(
            "Unique kebab-case name, recorded on every decision (e.g. late-shipment-notice); "
            f"at most {ID_MAX_LENGTH} characters, the event contract's limit for the rule id a timer carries."
        ),
    )
    description: str = Field(min_length=1, description="What the rule does and why, for its readers.")
    on: Annotated[
        list[TriggerType],
        BeforeValidator(_one_or_many),
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "string", "enum": list(TRIGGER_TYPES)},
                    {
                        "type": "array",
                        "items": {"type": "string", "enum": list(TRIGGER_TYPES)},
                        "minItems": 1,
                        "uniqueItems": True,
                    },
                ]
            }
        ),
    ] = Field(min_length=1, description="The event type(s) that trigger the rule: one detail-type or a list.")
    after: Duration | None = Field(
        default=None, description="Decide this long after the trigger event's time, on the state then."
    )
    at: str | None = Field(
        default=None,
        description="Decide at this timestamp fact (e.g. order.promised_ship_by) + `offset`; past -> now.",
        examples=["order.promised_ship_by", "order.promised_delivery_by", "order.delivered_at"],
    )
    offset: SignedDuration | None = Field(
        default=None, description="With `at`: shift the moment (e.g. -12h = twelve hours before)."
    )
    when: Any = Field(
        default=True, description="JsonLogic condition on the facts (event, order, customer, history, now)."
    )
    then: list[ActionSpec] = Field(min_length=1, description="The actions to take when the rule matches.")
    priority: int = Field(default=0, description="Higher wins inside an exclusion group.")
    group: str | None = Field(
        default=None, description="Exclusion group declared in policy.yaml: one action of it per window."
    )
    limit: Limit | None = Field(default=None, description="How often this rule may fire.")
    experiment: Experiment | None = Field(
        default=None,
        description="Hold out a share of matches (recorded held_out, never sent) to measure the effect.",
    )
    expires_after: Duration | None = Field(
        default=None,
        description=(
            "An action not sent within this long of its decision (held by quiet hours or a cap, or "
            "stuck and redriven) is not sent: it ends suppressed with reason expired (at least 15m)."
        ),
    )
    category: Category = Field(
        default="service",
        description="transactional (never capped), service (capped), marketing (needs consent; capped).",
    )
    enabled: bool = Field(default=True, description="false keeps the rule validated but never evaluated.")
    owner: str | None = Field(default=None, description="Who to ask about this rule (team or e-mail).")
    tags: list[str] = Field(default_factory=_no_tags, description="Free labels for searching and reporting.")

    @model_validator(mode="after")
    def _check_timing(self) -> Rule:
        if self.after is not None and self.at is not None:
            raise ValueError("set either `after` (a delay) or `at` (a timestamp fact), not both")
        if self.offset is not None and self.at is None:
            raise ValueError("`offset` only applies with `at`; for a delay from the event use `after`")
        if self.expires_after is not None and self.expires_after < MIN_EXPIRES_AFTER:
            raise ValueError(
                f"`expires_after` {format_duration(self.expires_after)} is shorter than 15m: Dispatch's "
                "retries and `touchpoints redrive` take minutes, so messages that were never held back "
                "would expire; write 15m or more"
            )
        return self

    @property
    def is_delayed(self) -> bool:
        """True when the rule decides later (after/at) rather than when the trigger arrives."""
        return self.after is not None or self.at is not None


class ChannelCap(_Strict):
    """A cap on one channel inside a category: at most `max` messages on it per customer within `per`."""

    max: int = Field(ge=1, description="Messages on this channel allowed per customer within the window.")
    per: Duration = Field(description="The sliding window (e.g. 24h, 7d).")


class Cap(_Strict):
    """A category's frequency cap: `max` per customer within `per`, per-channel caps, and what a cap does.

    `{max: 3, per: 24h}` caps the category on every channel together; `channels: {sms: {max: 1,
    per: 24h}}` adds a cap on one channel (it may stand alone, without `max`/`per`). `on_cap`
    says what happens to a message over a cap: `drop` (suppressed, reason `rate_limit`) or
    `defer` (scheduled, reason `rate_limit`, for when the window has room, then decided again).
    """

    # The model's own checks, also in the JSON Schema so editors flag them: max and per go
    # together, and a cap caps something (its category, or a channel).
    model_config = ConfigDict(
        **_Strict.model_config,
        json_schema_extra={
            "dependencies": {"max": ["per"], "per": ["max"]},
            "anyOf": [{"required": ["max"]}, {"required": ["channels"]}],
        },
    )

    max: int | None = Field(
        default=None, ge=1, description="Messages allowed per customer within the window (with `per`)."
    )
    per: Duration | None = Field(default=None, description="The sliding window (e.g. 24h, 7d).")
    on_cap: OnCap = Field(
        default="drop",
        description=(
            "drop: a message over the cap is not sent (suppressed, rate_limit); defer: it waits until "
            "the window has room (scheduled, rate_limit) and is decided again then."
        ),
    )
    channels: dict[CappedChannel, ChannelCap] = Field(
        default_factory=dict,
        description="Caps on one channel inside the category, e.g. {sms: {max: 1, per: 24h}}.",
    )

    @model_validator(mode="after")
    def _check_limits(self) -> Cap:
        if (self.max is None) != (self.per is None):
            given, missing = ("max", "per") if self.per is None else ("per", "max")
            raise ValueError(
                f"`{given}` needs `{missing}`: a cap is a number of messages within a window, "
                "e.g. {max: 3, per: 24h}"
            )
        if self.max is None and not self.channels:
            raise ValueError("a cap needs `max` and `per` (e.g. {max: 3, per: 24h}), or `channels`")
        for name, channel in self.channels.items():
            if (
                self.max is not None
                and self.per is not None
                and channel.max >= self.max
                and channel.per <= self.per
            ):
                raise ValueError(
                    f"the {name} cap in `channels` ({channel.max} per {format_duration(channel.per)}) "
                    f"can never apply: the category's own cap ({self.max} per "
                    f"{format_duration(self.per)}) is reached first; lower its max, lengthen its "
                    "per, or remove it"
                )
        return self

    @property
    def windows(self) -> list[timedelta]:
        """Every window this cap looks back (the category's and its channels'), for the ledger's retention."""
        found = [channel.per for channel in self.channels.values()]
        return [self.per, *found] if self.per is not None else found


class QuietHours(_Strict):
    """Hours, in the customer's own time zone, when messages wait instead of going out."""

    start: Clock = Field(description='Start of the quiet time, "HH:MM" (e.g. "21:00").')
    end: Clock = Field(description='End of the quiet time, "HH:MM" (e.g. "09:00"); may be on the next day.')

    @model_validator(mode="after")
    def _check_span(self) -> QuietHours:
        if self.start == self.end:
            clock = self.start.strftime("%H:%M")
            raise ValueError(
                f"`start` and `end` are both {clock}: that could mean never quiet or always quiet. "
                'Give a span, e.g. start: "21:00", end: "09:00", or remove quiet_hours to have none'
            )
        return self

    def contains(self, moment: time) -> bool:
        """True when the local time of day falls inside the quiet hours (which may span midnight)."""
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


class GroupPolicy(_Strict):
    """An exclusion group: one action of the group per order within the window (highest priority wins)."""

    window: Duration = Field(description="How long one action of the group excludes the others (e.g. 72h).")
    description: str | None = Field(default=None, description="What the group is for.")


Group = GroupPolicy
"""The name docs/ARCHITECTURE.md uses for an exclusion group's settings."""

DEFAULT_FALLBACKS: dict[str, list[str]] = {
    "zh-Hant": ["zh", "en"],
    "zh-Hans": ["zh", "en"],
    "zh-TW": ["zh-Hant", "zh", "en"],
    "zh-HK": ["zh-Hant", "zh", "en"],
    "zh-MO": ["zh-Hant", "zh", "en"],
    "zh-CN": ["zh-Hans", "zh", "en"],
    "zh-SG": ["zh-Hans", "zh", "en"],
}


class Locales(_Strict):
    """Which template locales exist, which are required, and how a customer's locale falls back."""

    default: str = Field(default="en", description="The locale used when nothing closer exists; must exist.")
    required: list[str] = Field(
        default_factory=lambda: ["en"],
        description="Locales every template must have (validate reports a missing one).",
    )
    fallbacks: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Customer locale -> locales to try next, e.g. zh-Hant: [zh, en] (merged over built-ins).",
    )

    @model_validator(mode="after")
    def _default_is_required(self) -> Locales:
        if self.default not in self.required:
            raise ValueError(f"the default locale '{self.default}' must be listed in `required`")
        return self

    def chain(self, locale: str) -> list[str]:
        """The locales to try, in order, for a customer's locale (exact, fallbacks, parents, default)."""
        fallbacks = {**DEFAULT_FALLBACKS, **self.fallbacks}
        ordered: list[str] = [locale]
        lowered = {key.lower(): value for key, value in fallbacks.items()}
        ordered.extend(lowered.get(locale.lower(), []))
        parts = locale.split("-")
        ordered.extend("-".join(parts[:n]) for n in range(len(parts) - 1, 0, -1))
        ordered.append(self.default)
        seen: set[str] = set()
        unique: list[str] = []
        for candidate in ordered:
            if candidate and candidate.lower() not in seen:
                seen.add(candidate.lower())
                unique.append(candidate)
        return unique


class ContactPolicy(_Strict):
    """rules/policy.yaml: caps, quiet hours, exclusion groups and locales that apply to every rule."""

    caps: dict[Literal["service", "marketing"], Cap] = Field(
        default_factory=dict,
        description="Per customer and category; transactional messages are never capped.",
    )
    quiet_hours: QuietHours | None = Field(
        default=None, description="Messages due inside these local hours are deferred to their end."
    )
    groups: dict[str, GroupPolicy] = Field(
        default_factory=dict, description="Exclusion groups a rule may join with `group:`."
    )
    locales: Locales = Field(default_factory=Locales, description="Template locales and fallbacks.")

    @field_validator("caps", mode="before")
    @classmethod
    def _no_transactional_cap(cls, value: Any) -> Any:
        if isinstance(value, dict) and "transactional" in value:
            raise ValueError(
                "transactional messages (order confirmations, payment problems) are never capped: "
                "remove caps.transactional"
            )
        return value

    @field_validator("groups")
    @classmethod
    def _group_names(cls, value: dict[str, GroupPolicy]) -> dict[str, GroupPolicy]:
        for name in value:
            if not re.match(_ID_PATTERN, name):
                raise ValueError(f"group name '{name}' must be kebab-case (lowercase words joined by '-')")
        return value
