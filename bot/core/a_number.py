"""The A-number (Alien Registration Number): read, stored, shown. Pure.

"A" followed by 7 to 9 digits (USCIS glossary), conventionally zero-padded to 9. It is
sensitive personal data on its own (DHS PII guidance): the bot stores it, never posts
it in a channel, never logs it, and shows it only masked (``A-XXX-XX6789``), to the
officer who typed it. Nothing here keeps or echoes what was typed.
"""

from __future__ import annotations

import re

# What an officer types: dashes and spaces anywhere between the digits are theirs to add.
_TYPED = re.compile(r"[Aa][\s-]*(\d[\d\s-]*)", re.ASCII)
_STORED = re.compile(r"A\d{9}", re.ASCII)
MIN_DIGITS = 7
MAX_DIGITS = 9
SAMPLE = "A123456789"


class ANumberError(ValueError):
    """Not an A-number; the message says why without repeating the digits typed."""


def read_a_number(typed: str) -> str:
    """``A`` plus 9 digits (zero-padded) from what was typed: ``A-123-456-789``, ``a 1234567``.

    Raises ``ANumberError`` for anything else.
    """
    match = _TYPED.fullmatch(typed.strip())
    if match is None:
        raise ANumberError(
            f"An A-number is the letter A followed by {MIN_DIGITS} to {MAX_DIGITS} digits "
            f"(dashes and spaces allowed), e.g. {SAMPLE}."
        )
    digits = re.sub(r"[\s-]", "", match.group(1))
    if not MIN_DIGITS <= len(digits) <= MAX_DIGITS:
        raise ANumberError(
            f"An A-number has {MIN_DIGITS} to {MAX_DIGITS} digits after the A; that one has "
            f"{len(digits)}. For example: {SAMPLE}."
        )
    return "A" + digits.zfill(MAX_DIGITS)


def is_stored_a_number(value: str) -> bool:
    """``A`` and exactly 9 digits: the one form the store keeps."""
    return _STORED.fullmatch(value) is not None


def mask_a_number(stored: str) -> str:
    """``A-XXX-XX6789``: only the last four digits, the way DHS guidance shows it."""
    if not is_stored_a_number(stored):
        raise ValueError("not a stored A-number (A and 9 digits)")
    return f"A-XXX-XX{stored[-4:]}"
