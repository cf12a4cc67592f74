"""bot.chat.replies: every ephemeral answer escapes the facility's name, and says why."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.chat import replies
from bot.config import parse_config
from bot.core.acknowledgement import AckRefusal
from bot.core.model import CUSTODY_WINDOW, Custody, CustodyState
from bot.core.override_policy import OverrideRefusal, RefusalReason
from tests.conftest import config_document

NOW = datetime(2026, 11, 28, 20, 0, tzinfo=UTC)
HOSTILE = replace(
    parse_config(config_document(), source="test").facilities[0],
    name="Jail <!here> & Annex <@U123>",
)
ESCAPED = "Jail &lt;!here&gt; &amp; Annex &lt;@U123&gt;"
CUSTODY = Custody(
    "c_1",
    HOSTILE.id,
    "B-1",
    NOW,
    NOW + CUSTODY_WINDOW,
    "U0AAA",
    NOW,
    acknowledged_at=NOW + CUSTODY_WINDOW,
    acknowledged_by="U0SGT",
    coverage_warning="level 2 (`oncall:night`) has nobody on call Sat Nov 28, 18:00 CST to …",
)
CLOSED = replace(
    CUSTODY,
    state=CustodyState.RELEASED,
    closed_at=NOW + timedelta(hours=1),
    closed_by="U0AAA",
    close_reason="bail",
)


def refusal(reason: RefusalReason) -> OverrideRefusal:
    return OverrideRefusal(reason, "night", "U0AAA", "U0X", (HOSTILE,), "/wso oncall")


REPLIES_NAMING_THE_FACILITY = {
    "may_not_log_arrest": replies.may_not_log_arrest(HOSTILE, "U0NOBODY"),
    "which_facility": replies.which_facility("/wso arrest B-1", (HOSTILE, HOSTILE), "14:05"),
    "duplicate_custody": replies.duplicate_custody(CUSTODY, HOSTILE),
    "arrest_receipt": replies.arrest_receipt(CUSTODY, HOSTILE, NOW),
    "arrest_receipt_repeated": replies.arrest_receipt(CUSTODY, HOSTILE, NOW, repeated=True),
    "may_not_close": replies.may_not_close(HOSTILE, "release", "U0NOBODY"),
    "custody_closed": replies.custody_closed("B-1", HOSTILE, CustodyState.TRANSFERRED),
    "custody_status": replies.custody_status(CLOSED, HOSTILE, NOW),
    "open_custody_list": replies.open_custody_list([(CUSTODY, HOSTILE)], NOW, 1),
    "ack_not_allowed": replies.acknowledgement_refused(AckRefusal.NOT_ALLOWED, CUSTODY, HOSTILE),
    "already_acknowledged": replies.already_acknowledged(CUSTODY, HOSTILE),
    "acknowledged": replies.acknowledged("B-1", HOSTILE, NOW),
    "override_not_an_officer": replies.override_refused(refusal(RefusalReason.NOT_AN_OFFICER)),
    "override_not_pageable": replies.override_refused(refusal(RefusalReason.NOT_PAGEABLE)),
}


@pytest.mark.parametrize("name", sorted(REPLIES_NAMING_THE_FACILITY))
def test_every_reply_escapes_the_facility_name(name: str) -> None:
    text = REPLIES_NAMING_THE_FACILITY[name].text
    assert ESCAPED in text
    leftover = re.sub(r"<@U0[A-Z]+>|<#C0[A-Z]+>", "", text)
    assert "<" not in leftover and ">" not in leftover, text


@pytest.mark.parametrize(
    ("reason", "says", "example"),
    [
        pytest.param(AckRefusal.NOT_PAGED, "is not being paged right now", "/wso status B-1"),
        pytest.param(AckRefusal.NOT_ALLOWED, "Only the people paged about booking B-1", None),
        pytest.param(AckRefusal.ALREADY_ACKNOWLEDGED, "already acknowledged by <@U0SGT>", None),
    ],
)
def test_each_acknowledgement_refusal_says_why(
    reason: AckRefusal, says: str, example: str | None
) -> None:
    text = replies.acknowledgement_refused(reason, CUSTODY, HOSTILE).text
    assert says in text
    assert "Nothing was changed" in text
    assert ("For example" in text) is (example is not None)
    if example is not None:
        assert text.endswith(f"For example: `{example}`")


def test_an_override_refusal_offers_its_example() -> None:
    reply = replies.override_refused(refusal(RefusalReason.NOT_PAGED))
    assert reply.text.startswith(":warning: No facility's escalation pages `oncall:night`")
    assert reply.text.endswith("\nFor example: `/wso oncall`")
