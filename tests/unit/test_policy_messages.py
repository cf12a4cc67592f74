"""What people read about the counting rule: the receipt, status, the card, the notices.

Each shows the rule the custody recorded (never the facility's current one), in words
and by its name and version.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.chat.cards import card_blocks
from bot.chat.lifecycle_replies import corrected
from bot.chat.notices import render_notice
from bot.chat.phrases import counting_rule_phrase
from bot.chat.replies import arrest_receipt, custody_status
from bot.core.facility import Config, Reminders
from bot.core.lifecycle_plan import plan_corrected_custody
from bot.core.model import CountingRule, Custody, Notice, NoticeKind
from bot.core.policy import PolicyStamp
from tests.conftest import ICE, JAIL, START, county_jail, custody

FACILITY = county_jail()
CONFIG = Config(Reminders(), (FACILITY,))
ELAPSED = custody(START)
# Sat 14:00 CST under the 8 CFR style with Texas holidays: Wed 12-02 00:00 CST.
EXCLUDING = custody(
    START,
    deadline=datetime(2026, 12, 2, 6, 0, tzinfo=UTC),
    **PolicyStamp(CountingRule.EXCLUDING_WEEKENDS_HOLIDAYS, 1, 48, "US-TX").fields(),
)
SHORTER = custody(START, deadline=START + timedelta(hours=36), counting_hours=36)


@pytest.mark.parametrize(
    ("recorded", "words"),
    [
        pytest.param(ELAPSED, "48 elapsed hours (rule `elapsed-48h` v1)", id="elapsed"),
        pytest.param(
            EXCLUDING,
            "48 hours not counting Saturdays, Sundays or US-TX holidays "
            "(rule `48h-excluding-weekends-holidays` v1)",
            id="excluding",
        ),
        pytest.param(SHORTER, "36 elapsed hours (rule `elapsed-48h` v1)", id="shorter"),
    ],
)
def test_the_receipt_status_card_and_notices_say_the_recorded_rule(
    recorded: Custody, words: str
) -> None:
    now = START + timedelta(minutes=1)
    assert counting_rule_phrase(recorded) == words
    assert f"Deadline counted as {words}." in arrest_receipt(recorded, FACILITY, now).text
    assert f"Counted as {words}." in custody_status(recorded, FACILITY, now).text
    context = card_blocks(recorded, FACILITY, now)[-1]["elements"][0]["text"]
    assert f"deadline counted as {words}" in context
    expired = Notice("n_1", recorded.id, NoticeKind.EXPIRED, JAIL, recorded.deadline)
    message = render_notice(recorded, expired, FACILITY, recorded.deadline)
    assert words in message.blocks[-1]["elements"][0]["text"]
    assert f"The {recorded.counting_hours}-hour window for ICE" in message.text
    assert message.metadata is not None
    assert message.metadata["event_payload"]["counting_rule"] == recorded.counting_rule.value


def _corrected_notice(old: Custody, new: Custody) -> Notice:
    """The ``corrected`` notice the ICE channel gets, as the correction plans it."""
    plan = plan_corrected_custody(old, new, "U0DESK", FACILITY, CONFIG, START)
    return next(n for n in plan if n.kind is NoticeKind.CORRECTED and n.channel == ICE)


def test_counted_again_under_another_rule_says_both_rules() -> None:
    notice = _corrected_notice(ELAPSED, EXCLUDING)
    text = render_notice(EXCLUDING, notice, FACILITY, START).text

    assert "*Deadline counted again*" in text
    assert "*New deadline Wed Dec 2, 00:00 CST* (was Mon Nov 30, 14:00 CST)" in text
    assert "`48h-excluding-weekends-holidays v1, holidays US-TX` (was `elapsed-48h v1`)" in text
    reply = corrected(ELAPSED, EXCLUDING, FACILITY).text
    assert reply.startswith(":white_check_mark: Counted again: booking *B-1*")
    assert "(was 48 elapsed hours (rule `elapsed-48h` v1))" in reply


def test_a_moved_arrest_time_under_the_same_rule_says_no_rule_change() -> None:
    earlier = custody(START - timedelta(hours=3))
    text = render_notice(earlier, _corrected_notice(ELAPSED, earlier), FACILITY, START).text

    assert "*Arrest time corrected*" in text
    assert "Counting rule" not in text
    reply = corrected(ELAPSED, earlier, FACILITY).text
    assert "arrested Sat Nov 28, 11:00 CST (was Sat Nov 28, 14:00 CST)" in reply
    assert "(was 48 elapsed" not in reply


def test_a_correction_stored_before_rules_were_recorded_still_reads() -> None:
    """A pending ``corrected`` notice written by the previous release has no rule labels."""
    notice = _corrected_notice(ELAPSED, custody(START - timedelta(hours=3)))
    old_detail = {k: v for k, v in notice.detail.items() if not k.endswith("_policy")}
    old = Notice("n_3", notice.custody_id, notice.kind, ICE, START, detail=old_detail)
    text = render_notice(ELAPSED, old, FACILITY, START).text
    assert "*Arrest time corrected*" in text and "Counting rule" not in text
