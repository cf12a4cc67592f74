"""The signature check as a pure function: every header anyone could send, in a table."""

from __future__ import annotations

import pytest

from bot.chat.signature import Refusal, sign, signature_refusal
from tests.fakes.signed_requests import slack_signature

SECRET = "test-signing-secret"
NOW = 1_796_000_000.0
STAMP = str(int(NOW))
BODY = b"command=%2Fwso&text=arrest+B-1"
GOOD = slack_signature(SECRET, STAMP, BODY.decode())


def test_sign_matches_slacks_recipe() -> None:
    assert sign(SECRET.encode(), STAMP, BODY) == GOOD


@pytest.mark.parametrize(
    ("timestamp", "signature", "body", "now", "expected"),
    [
        pytest.param(STAMP, GOOD, BODY, NOW, None, id="good"),
        pytest.param(STAMP, GOOD, BODY, NOW + 300, None, id="five minutes old"),
        pytest.param(STAMP, GOOD, BODY, NOW - 300, None, id="five minutes ahead"),
        pytest.param(STAMP, GOOD, BODY, NOW + 301, Refusal.STALE_TIMESTAMP, id="stale"),
        pytest.param(STAMP, GOOD, BODY, NOW - 301, Refusal.STALE_TIMESTAMP, id="from the future"),
        pytest.param(None, GOOD, BODY, NOW, Refusal.MISSING_TIMESTAMP, id="no timestamp"),
        pytest.param("", GOOD, BODY, NOW, Refusal.MISSING_TIMESTAMP, id="empty timestamp"),
        pytest.param("-" + STAMP, GOOD, BODY, NOW, Refusal.MALFORMED_TIMESTAMP, id="negative"),
        pytest.param(STAMP + ".5", GOOD, BODY, NOW, Refusal.MALFORMED_TIMESTAMP, id="float"),
        pytest.param("1e9", GOOD, BODY, NOW, Refusal.MALFORMED_TIMESTAMP, id="exponent"),
        pytest.param(" " + STAMP, GOOD, BODY, NOW, Refusal.MALFORMED_TIMESTAMP, id="space"),
        pytest.param("+" + STAMP, GOOD, BODY, NOW, Refusal.MALFORMED_TIMESTAMP, id="plus sign"),
        pytest.param("9" * 5000, GOOD, BODY, NOW, Refusal.MALFORMED_TIMESTAMP, id="5000 digits"),
        pytest.param("9" * 13, GOOD, BODY, NOW, Refusal.MALFORMED_TIMESTAMP, id="13 digits"),
        pytest.param("0", GOOD, BODY, NOW, Refusal.STALE_TIMESTAMP, id="zero"),
        pytest.param(
            "١٧٩٦٠٠٠٠٠٠", GOOD, BODY, NOW, Refusal.MALFORMED_TIMESTAMP, id="arabic-indic digits"
        ),
        pytest.param(STAMP, None, BODY, NOW, Refusal.MISSING_SIGNATURE, id="no signature"),
        pytest.param(STAMP, "", BODY, NOW, Refusal.MISSING_SIGNATURE, id="empty signature"),
        pytest.param(STAMP, "v1=" + GOOD[3:], BODY, NOW, Refusal.UNKNOWN_VERSION, id="version v1"),
        pytest.param(STAMP, GOOD[3:], BODY, NOW, Refusal.UNKNOWN_VERSION, id="no version"),
        pytest.param(STAMP, "V0=" + GOOD[3:], BODY, NOW, Refusal.UNKNOWN_VERSION, id="V0"),
        pytest.param(STAMP, GOOD[:-1], BODY, NOW, Refusal.MALFORMED_SIGNATURE, id="63 hex"),
        pytest.param(STAMP, GOOD + "0", BODY, NOW, Refusal.MALFORMED_SIGNATURE, id="65 hex"),
        pytest.param(STAMP, "v0=", BODY, NOW, Refusal.MALFORMED_SIGNATURE, id="empty digest"),
        pytest.param(
            STAMP,
            "v0=" + GOOD[3:].upper(),
            BODY,
            NOW,
            Refusal.MALFORMED_SIGNATURE,
            id="upper-case hex",
        ),
        pytest.param(
            STAMP, GOOD[:-1] + "é", BODY, NOW, Refusal.MALFORMED_SIGNATURE, id="non-ascii"
        ),
        pytest.param(
            STAMP, "v0=" + "\udcff" * 64, BODY, NOW, Refusal.MALFORMED_SIGNATURE, id="raw bytes"
        ),
        pytest.param(STAMP, "v0=" + "0" * 64, BODY, NOW, Refusal.MISMATCH, id="forged"),
        pytest.param(STAMP, GOOD, BODY + b"&x=1", NOW, Refusal.MISMATCH, id="body changed"),
        pytest.param(str(int(NOW) + 1), GOOD, BODY, NOW, Refusal.MISMATCH, id="stamp changed"),
        pytest.param(
            STAMP,
            slack_signature("another-secret", STAMP, BODY.decode()),
            BODY,
            NOW,
            Refusal.MISMATCH,
            id="another secret",
        ),
    ],
)
def test_signature_refusal(
    timestamp: str | None, signature: str | None, body: bytes, now: float, expected: Refusal | None
) -> None:
    assert signature_refusal(SECRET.encode(), timestamp, signature, body, now) == expected


def test_body_is_signed_as_raw_bytes() -> None:
    """Slack signs the bytes it sent; a body that is not UTF-8 is still checked, not crashed on."""
    body = b"payload=\xff\xfe"
    signature = sign(SECRET.encode(), STAMP, body)

    assert signature_refusal(SECRET.encode(), STAMP, signature, body, NOW) is None
    assert (
        signature_refusal(SECRET.encode(), STAMP, signature, b"payload=", NOW) is Refusal.MISMATCH
    )
