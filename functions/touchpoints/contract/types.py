"""Validated scalar types of the event contract: timestamps, phones, currencies, decimals, locales, zones."""

from __future__ import annotations

import math
import re
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Annotated, Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import PlainSerializer, PlainValidator, StringConstraints, WithJsonSchema
from pydantic_core import PydanticCustomError

from touchpoints.contract.limits import (
    AMOUNT_MAX_LENGTH,
    EMAIL_MAX_LENGTH,
    ID_MAX_LENGTH,
    LABEL_MAX_LENGTH,
    LOCALE_MAX_LENGTH,
    NAME_MAX_LENGTH,
    NOTE_MAX_LENGTH,
    RESOURCE_MAX_LENGTH,
    REVIEW_BODY_MAX_LENGTH,
    SOURCE_MAX_LENGTH,
    TIMEZONE_MAX_LENGTH,
    URL_MAX_LENGTH,
)
from touchpoints.timestamps import TimestampError, format_timestamp, parse_strict

__all__ = [
    "ISO_4217_CODES",
    "CurrencyCode",
    "DecimalString",
    "E164Phone",
    "EmailAddress",
    "EventTimestamp",
    "Identifier",
    "Label",
    "LocaleTag",
    "Name",
    "NonEmptyLabel",
    "NonEmptyStr",
    "Note",
    "Resource",
    "ReviewBody",
    "Source",
    "TimeZoneName",
    "Timestamp",
    "Url",
    "format_timestamp",
    "is_shown_text",
    "parse_derived_timestamp",
    "parse_timestamp",
]

# Compiled once at import: validators run for every field of every event on the hot path.
_DECIMAL = re.compile(r"\d+(?:\.\d+)?")
_SHOWN_TEXT = re.compile(r"[A-Za-z0-9_.,:/#+-]{0,64}")
_PHONE_LIKE = re.compile(r"\+?[\d().-]{7,}")
_DATE_LIKE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NUMBER_SHOWN_DIGITS = 24
_PHONE_DIGITS = 7


def is_shown_text(text: str) -> bool:
    """True when a rejected string may be quoted back: one short token of letters, digits and `_.,:/#+-`.

    An id, an enum value or a timestamp is quoted so the platform team sees its mistake; a text
    with a space or an `@` (a name, a street address, an email, a sentence), or made of digits
    and phone punctuation only (`+14155550123`, but not a date such as `2026-03-01`), is described
    by its length instead, so personal data sent in the wrong field never reaches the logs or the
    dead-letter queue.
    """
    if _SHOWN_TEXT.fullmatch(text) is None:
        return False
    return _PHONE_LIKE.fullmatch(text) is None or _DATE_LIKE.fullmatch(text) is not None


def _show(value: Any) -> str:
    """Render an offending value for an error message: JSON-like and short, never personal text.

    Strings are quoted only when `is_shown_text` allows it; numbers of 7 digits or more (a phone
    number sent as a JSON number, a number of thousands of digits) are described by their length.
    """
    if isinstance(value, str):
        if is_shown_text(value):
            return '"' + value + '"'
        return f"a text of {len(value)} characters (not shown)"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, int) and value.bit_length() > 4 * _NUMBER_SHOWN_DIGITS:  # str() of it would be long
        return "a number of more than 24 digits"
    text = str(value)
    digits = sum(character.isdigit() for character in text)
    if digits >= _PHONE_DIGITS:  # a phone number sent as a JSON number is still a phone number
        return f"a number of {digits} digits (not shown)"
    return text


def _fail(kind: str, what: str, value: Any) -> PydanticCustomError:
    """A pydantic error whose message is already the plain sentence we show to platform teams."""
    return PydanticCustomError(kind, "{what}, got {got}", {"what": what, "got": _show(value)})


def parse_timestamp(value: Any) -> datetime:
    """An RFC 3339 timestamp with an offset (or an aware datetime) within the contract's bounds, in UTC.

    The reading is `touchpoints.timestamps.parse_strict`'s (2000-01-01 to 2200-01-01 UTC); here
    its refusal becomes the plain pydantic error platform teams see.
    """
    try:
        return parse_strict(value)
    except TimestampError as exc:
        raise _fail("rfc3339", str(exc), value) from None


def parse_derived_timestamp(value: Any) -> datetime:
    """`parse_timestamp` with the wider bounds of times Touchpoints computed (timers, decision records)."""
    try:
        return parse_strict(value, derived=True)
    except TimestampError as exc:
        raise _fail("rfc3339", str(exc), value) from None


def _parse_decimal(value: Any) -> str:
    """Decimal strings stay exact; JSON numbers are accepted and converted to their shortest text.

    Many platforms serialise amounts as numbers; rejecting them would be pedantic, and Python's
    shortest float repr reproduces what the producer wrote (59.9 -> "59.9"). Either way the text
    is at most AMOUNT_MAX_LENGTH characters: it is stored, and no currency needs more.
    """
    if isinstance(value, str):
        if len(value) > AMOUNT_MAX_LENGTH:
            raise _too_long("decimal_too_long", "must be a decimal amount", AMOUNT_MAX_LENGTH, value)
        if value.startswith("-") and _DECIMAL.fullmatch(value[1:]) is not None:
            raise _fail("decimal_negative", _NEGATIVE, value)
        if _DECIMAL.fullmatch(value) is None:
            raise _fail("decimal", 'must be a decimal amount such as "59.90"', value)
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail("decimal", 'must be a decimal amount such as "59.90"', value)
    if isinstance(value, float) and not math.isfinite(value):
        raise _fail("decimal", 'must be a finite decimal amount such as "59.90"', value)
    if isinstance(value, int) and value.bit_length() > 4 * AMOUNT_MAX_LENGTH:  # before str(): no huge text
        raise PydanticCustomError(
            "decimal_too_long",
            "{what} of at most {limit} characters, got {got}",
            {"what": "must be a decimal amount", "limit": AMOUNT_MAX_LENGTH, "got": "a longer number"},
        )
    if value < 0 or (isinstance(value, float) and math.copysign(1.0, value) < 0):
        raise _fail("decimal_negative", _NEGATIVE, value)
    text = str(value)
    if "e" in text or "E" in text:  # 1e-07 -> 0.0000001, exactly the digits of the shortest repr
        text = format(Decimal(text), "f")
    if len(text) > AMOUNT_MAX_LENGTH:  # 1e300 is a finite float of 301 digits
        raise _too_long("decimal_too_long", "must be a decimal amount", AMOUNT_MAX_LENGTH, text)
    return text


_NEGATIVE = "must not be negative (amounts are what the customer pays; a refund is not a contract event)"


def _too_long(kind: str, what: str, limit: int, value: str) -> PydanticCustomError:
    """An oversized value: say the limit and the length, never the value (it may be personal data)."""
    return PydanticCustomError(
        kind,
        "{what} of at most {limit} characters, got {got}",
        {"what": what, "limit": limit, "got": f"{len(value)} characters"},
    )


@lru_cache(maxsize=1024)
def _is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _parse_zone(value: Any) -> str:
    if isinstance(value, str) and len(value) > TIMEZONE_MAX_LENGTH:  # never looked up (nor cached)
        raise _too_long("iana_tz_too_long", "must be an IANA time zone", TIMEZONE_MAX_LENGTH, value)
    if not isinstance(value, str) or not value or not _is_zone(value):
        raise _fail("iana_tz", "must be an IANA time zone such as Asia/Taipei", value)
    return value


EventTimestamp = Annotated[
    datetime,
    PlainValidator(parse_timestamp, json_schema_input_type=str),
    PlainSerializer(lambda value: format_timestamp(value), return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "description": "RFC 3339 with an offset, 2000-01-01T00:00:00Z to before 2200-01-01T00:00:00Z",
        }
    ),
]
"""A moment a platform names (an event's time, a promise, an estimate): within the contract's bounds."""
Timestamp = Annotated[
    datetime,
    PlainValidator(parse_derived_timestamp, json_schema_input_type=str),
    PlainSerializer(lambda value: format_timestamp(value), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time", "description": "RFC 3339 with an offset"}),
]
"""A moment Touchpoints computed (a timer's due time, a record's send_at): the event bounds plus a century."""
# Rust-side constraints where a pattern or a literal set is enough (no Python call per field);
# PATTERN_MESSAGES turns their generic pattern errors into plain sentences.
E164_PATTERN = r"^\+[1-9]\d{1,14}$"
LOCALE_PATTERN = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
NON_EMPTY_PATTERN = r"\S"
# An id or a label: something visible, and no control character (a NUL or a line break in an id
# is never a platform's id, and would travel into keys and log lines).
TOKEN_PATTERN = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
PATTERN_MESSAGES: dict[str, str] = {
    E164_PATTERN: "must be an E.164 phone number such as +14155550123",
    LOCALE_PATTERN: "must be a BCP 47 language tag such as en, en-GB or zh-Hant",
    EMAIL_PATTERN: "must be an email address",
    NON_EMPTY_PATTERN: "must be a non-empty string",
    TOKEN_PATTERN: "must be a non-empty string without control characters",
}

E164Phone = Annotated[str, StringConstraints(strict=True, pattern=E164_PATTERN)]
# Active ISO 4217 codes: a literal set, so pydantic checks membership in Rust.
# fmt: off
CurrencyCode = Literal[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN",
    "BHD", "BIF", "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF",
    "CHE", "CHF", "CHW", "CLF", "CLP", "CNY", "COP", "COU", "CRC", "CUC", "CUP", "CVE", "CZK", "DJF",
    "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD",
    "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD",
    "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR",
    "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK",
    "MXN", "MXV", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK",
    "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK",
    "SGD", "SHP", "SLE", "SLL", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT",
    "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "USN", "UYI", "UYU", "UYW", "UZS",
    "VED", "VES", "VND", "VUV", "WST", "XAF", "XCD", "XCG", "XOF", "XPF", "YER", "ZAR", "ZMW", "ZWG",
    "ZWL",
]
# fmt: on
DecimalString = Annotated[
    str,
    PlainValidator(_parse_decimal),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": r"^\d+(\.\d+)?$", "maxLength": AMOUNT_MAX_LENGTH},
                {"type": "number", "minimum": 0},
            ],
            "description": 'non-negative decimal string such as "59.90" (numbers are accepted and converted)',
        }
    ),
]
LocaleTag = Annotated[
    str, StringConstraints(strict=True, pattern=LOCALE_PATTERN, max_length=LOCALE_MAX_LENGTH)
]
TimeZoneName = Annotated[
    str,
    PlainValidator(_parse_zone),
    WithJsonSchema(
        {
            "type": "string",
            "maxLength": TIMEZONE_MAX_LENGTH,
            "description": "IANA time zone such as Asia/Taipei",
        }
    ),
]
NonEmptyStr = Annotated[str, StringConstraints(strict=True, pattern=NON_EMPTY_PATTERN)]
EmailAddress = Annotated[
    str, StringConstraints(strict=True, pattern=EMAIL_PATTERN, max_length=EMAIL_MAX_LENGTH)
]
# Bounded strings (limits.py says why each maximum is what it is). Ids are non-empty and short
# enough for every DynamoDB key built from them; free texts only have a maximum.
Identifier = Annotated[str, StringConstraints(strict=True, pattern=TOKEN_PATTERN, max_length=ID_MAX_LENGTH)]
NonEmptyLabel = Annotated[
    str, StringConstraints(strict=True, pattern=TOKEN_PATTERN, max_length=LABEL_MAX_LENGTH)
]
Source = Annotated[str, StringConstraints(strict=True, pattern=TOKEN_PATTERN, max_length=SOURCE_MAX_LENGTH)]
Label = Annotated[str, StringConstraints(max_length=LABEL_MAX_LENGTH)]
Name = Annotated[str, StringConstraints(max_length=NAME_MAX_LENGTH)]
Url = Annotated[str, StringConstraints(max_length=URL_MAX_LENGTH)]
Note = Annotated[str, StringConstraints(max_length=NOTE_MAX_LENGTH)]
ReviewBody = Annotated[str, StringConstraints(max_length=REVIEW_BODY_MAX_LENGTH)]
Resource = Annotated[str, StringConstraints(max_length=RESOURCE_MAX_LENGTH)]

ISO_4217_CODES: frozenset[str] = frozenset(get_args(CurrencyCode))
