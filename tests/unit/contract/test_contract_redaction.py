"""Masking, erasing and header text: the one place personal data is taken out of texts."""

from __future__ import annotations

import pytest

from touchpoints.contract import ERASED, erase, header_text, redact


def test_redact_masks_addresses_phones_and_the_known_recipient() -> None:
    # GIVEN a provider error quoting an address, a phone, and a recipient in an odd form
    text = "failed the check: jane.doe@example.com; sms +886912345678; to JANE<x>"
    # WHEN redacted with the recipient known THEN only masks remain
    redacted = redact(text, ("JANE<x>",))
    assert "jane.doe@" not in redacted
    assert "j***@example.com" in redacted
    assert "912345" not in redacted
    assert "JANE<x>" not in redacted


def test_erase_removes_the_customers_values_and_any_address_masked_or_not() -> None:
    # GIVEN texts holding a name, an email, a masked email and a masked phone
    text = "Signed by Jane Doe (jane@example.com), was j***@example.com and +121*****143; janet stays"
    # WHEN erased for the customer Jane Doe
    erased = erase(text, ["Jane Doe", "jane@example.com"])
    # THEN none of it is left, and a different word that starts alike is untouched
    for gone in ("Jane Doe", "jane@example.com", "j***@", "+121"):
        assert gone not in erased
    assert erased.count(ERASED) == 4
    assert "janet stays" in erased


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Emily\r\nBcc: x@example.com", "Emily Bcc: x@example.com"),
        ("line\nbreak", "line break"),
        ("tab\there", "tab here"),
        ("nul\x00byte", "nul byte"),
        ("sep\u2028arator", "sep arator"),
        ("  padded\r\n", "padded"),
        ("\u4f60\u597d, order A1", "\u4f60\u597d, order A1"),
    ],
)
def test_header_text_is_one_line_without_control_characters(raw: str, expected: str) -> None:
    # GIVEN a subject or display name WHEN made header text THEN it is one clean line
    assert header_text(raw) == expected
