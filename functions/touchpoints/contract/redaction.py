"""Personal data out of texts: mask what looks like an address before a text is logged or stored.

Provider errors quote recipients (SES's sandbox refusal names the address), rejected events may
quote anything: every such text passes through `redact` before it reaches a log line, a metric
or a stored `error`. `erase` goes further for `touchpoints forget`: the customer's own values and
any address, masked or not, become `[erased]`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from touchpoints.contract.decisions import mask_address

__all__ = ["ERASED", "erase", "erase_values", "header_text", "redact"]

ERASED = "[erased]"
"""What an erased value reads as in the audit trail (`touchpoints forget`)."""

# The look-behind makes a match start only where a local part can start: without it, a long run of
# word characters (a 300 kB garbage field in a rejected event) is rescanned from every position,
# which is quadratic (seconds per record, a Lambda timeout per batch).
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"\+\d{7,15}")
# For erasure: masked forms too (`j***@example.com`, `+121*****143`), and bare national numbers.
_ANY_EMAIL = re.compile(r"(?<![\w.+*-])[\w.+*-]+@[\w-]+(?:\.[\w-]+)+")
_ANY_PHONE = re.compile(r"\+?(?<![\w*])[\d*]{7,15}(?![\w*])")
# Header text: every C0/C1 control character (CR, LF, TAB, NUL, ...) and the Unicode line and
# paragraph separators, which some mail clients also break lines on.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def redact(text: str, known: Iterable[str | None] = ()) -> str:
    """Mask anything that looks like an email address or E.164 phone number, and every `known` value.

    `known` are addresses the caller knows are in play (the message's recipient): masked wherever
    they appear, even in a form the patterns would miss.
    """
    for value in known:
        if value:
            text = text.replace(value, mask_address(value) or "")
    text = _EMAIL.sub(lambda m: mask_address(m.group(0)) or "", text)
    return _PHONE.sub(lambda m: mask_address(m.group(0)) or "", text)


def erase_values(text: str, values: Iterable[str]) -> str:
    """`text` with each of `values` erased (any case; as a whole word when it starts and ends with one)."""
    for value in sorted({v for v in values if v and v.strip()}, key=len, reverse=True):
        pattern = re.escape(value)
        if value[:1].isalnum() and value[-1:].isalnum():
            pattern = rf"(?<!\w){pattern}(?!\w)"
        text = re.sub(pattern, ERASED, text, flags=re.IGNORECASE)
    return text


def erase(text: str, values: Iterable[str]) -> str:
    """`text` with each of the customer's `values` and any address or phone number, masked or not, erased.

    For `touchpoints forget`: a provider error written before masking existed, a note naming who
    signed, a payment link carrying the email.
    """
    text = erase_values(text, values)
    text = _ANY_EMAIL.sub(ERASED, text)
    return _ANY_PHONE.sub(ERASED, text)


def header_text(text: str) -> str:
    """A text fit for a mail header: control characters and line breaks become one space, trimmed.

    Whatever a template or a customer's name holds (`"Emily\\r\\nBcc: x@example.com"`), a subject
    or display name stays one line: no header can be injected.
    """
    return _CONTROL.sub(" ", text).strip()
