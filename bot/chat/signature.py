"""Slack's request signature (version ``v0``): whether a request really came from Slack.

Pure: it takes the signing secret, the two headers as they arrived, the raw body and the
wall-clock time, and says why a request is refused (or ``None``). The headers come from
anyone on the internet, so every malformed value is a refusal, never an exception: a
5,000-digit timestamp, a float, a minus sign, digits from another script, a signature with
non-ASCII characters. Their shape is checked before any arithmetic or comparison; the shape
is public, so checking it first tells an attacker nothing about the secret, and the digest
itself is compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from enum import StrEnum

VERSION = "v0"
# Slack and Bolt refuse a timestamp more than five minutes from the clock (a replay bound).
MAX_CLOCK_SKEW_SECONDS = 5 * 60
TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
SIGNATURE_HEADER = "X-Slack-Signature"

# ASCII digits only (``str.isdigit`` accepts other scripts' digits), and few enough that
# ``int()`` is cheap: 12 digits reach the year 33658.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")


class Refusal(StrEnum):
    """Why a request's signature is not accepted (logged; never shown to the sender)."""

    MISSING_TIMESTAMP = "missing_timestamp"
    MALFORMED_TIMESTAMP = "malformed_timestamp"
    STALE_TIMESTAMP = "stale_timestamp"
    MISSING_SIGNATURE = "missing_signature"
    UNKNOWN_VERSION = "unknown_version"
    MALFORMED_SIGNATURE = "malformed_signature"
    MISMATCH = "mismatch"


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """``v0=`` and the hex HMAC-SHA256 of ``v0:{timestamp}:{body}``, as Slack computes it."""
    base = f"{VERSION}:{timestamp}:".encode("ascii") + body
    return f"{VERSION}=" + hmac.new(secret, base, hashlib.sha256).hexdigest()


def signature_refusal(
    secret: bytes, timestamp: str | None, signature: str | None, body: bytes, now: float
) -> Refusal | None:
    """Why this request is refused, or None when Slack signed it within five minutes of ``now``.

    ``now`` is wall-clock seconds since the epoch (Slack's clock, not the custody clock).
    """
    if not timestamp:
        return Refusal.MISSING_TIMESTAMP
    if not _TIMESTAMP.fullmatch(timestamp):
        return Refusal.MALFORMED_TIMESTAMP
    if abs(now - int(timestamp)) > MAX_CLOCK_SKEW_SECONDS:
        return Refusal.STALE_TIMESTAMP
    if not signature:
        return Refusal.MISSING_SIGNATURE
    version, _, digest = signature.partition("=")
    if version != VERSION:
        return Refusal.UNKNOWN_VERSION
    if not _HEX_DIGEST.fullmatch(digest):
        return Refusal.MALFORMED_SIGNATURE
    expected = sign(secret, timestamp, body).encode("ascii")
    if not hmac.compare_digest(expected, signature.encode("ascii")):
        return Refusal.MISMATCH
    return None
