"""Size limits of the event contract: every id, text and list has a maximum, chosen from where it is stored.

An oversized value must fail when the event is parsed, with a message naming the field, not later
in DynamoDB (partition key <= 2048 bytes, sort key <= 1024 bytes, item <= 400 KB) after retries.
Lengths count characters (code points); a character is at most 4 bytes of UTF-8, which is what
DynamoDB counts, so every key the store builds from an id stays within its limit:

- `ORDER#<order_id>` and `CUSTOMER#<customer id>` partition keys: 9 + 4 x 128 = 521 bytes <= 2048;
- `EVENT#<event id>` sort key: 6 + 4 x 128 = 518 bytes <= 1024;
- `RULE#<rule id>` (the by-rule index, from TimerFired's rule_id and the catalog): 5 + 512 <= 2048;
- action sort keys and schedule names are hashes and timestamps, whatever the ids.

Lists and long texts are bounded so that one event kept as its marker (the envelope JSON) and
the journey state holding its order lines stay well under DynamoDB's 400 KB item (a test builds
the largest event the contract accepts and measures both).
"""

from __future__ import annotations

__all__ = [
    "AMOUNT_MAX_LENGTH",
    "EMAIL_MAX_LENGTH",
    "ID_MAX_LENGTH",
    "ITEMS_MAX",
    "LABEL_MAX_LENGTH",
    "LOCALE_MAX_LENGTH",
    "NAME_MAX_LENGTH",
    "NOTE_MAX_LENGTH",
    "RESOURCES_MAX",
    "RESOURCE_MAX_LENGTH",
    "REVIEW_BODY_MAX_LENGTH",
    "SKUS_MAX",
    "SOURCE_MAX_LENGTH",
    "TIMEZONE_MAX_LENGTH",
    "URL_MAX_LENGTH",
]

ID_MAX_LENGTH = 128
"""Event id, order_id, customer id, payment/shipment/return/review ids, sku, tracking number,
TimerFired's rule_id and trigger_event_id. UUIDs are 36, platform ids rarely above 40."""

LABEL_MAX_LENGTH = 128
"""Short labels: carrier, sales_channel, method, cancelled_by, and the envelope's version,
detail-type, account and region."""

SOURCE_MAX_LENGTH = 256
"""The envelope's `source` (EventBridge's own limit for a source is 256)."""

NAME_MAX_LENGTH = 256
"""Names and titles: customer name, product name, signed_by, review title."""

EMAIL_MAX_LENGTH = 254
"""An email address (RFC 5321: a path is at most 256 octets, angle brackets included)."""

LOCALE_MAX_LENGTH = 35
"""A BCP 47 language tag (RFC 5646 section 4.4.1: 35 characters hold any tag in practice)."""

TIMEZONE_MAX_LENGTH = 64
"""An IANA time zone name (the longest is 32)."""

URL_MAX_LENGTH = 2048
"""tracking_url and retry_url (the common practical limit of browsers and servers)."""

NOTE_MAX_LENGTH = 1000
"""A carrier's note on a shipment exception."""

REVIEW_BODY_MAX_LENGTH = 10_000
"""The text of a review."""

AMOUNT_MAX_LENGTH = 32
"""A decimal amount's text (32 digits is more than any currency needs)."""

RESOURCE_MAX_LENGTH = 2048
"""One entry of the envelope's `resources` (the maximum length of an ARN)."""

RESOURCES_MAX = 5
"""Entries in the envelope's `resources` (platforms send none; AWS services one or two)."""

ITEMS_MAX = 100
"""Lines of one order (`OrderPlaced.items`): kept in the journey state and the event marker."""

SKUS_MAX = 100
"""SKUs of one return request (`ReturnRequested.skus`), at most the lines of an order."""
