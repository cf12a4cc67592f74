"""Every message the bot renders fits Slack's limits at the worst case the config and grammar allow.

Slack refuses (``invalid_blocks``, ``msg_too_long``) or cuts what is over its limits, and a
refused notice is a lost notice. The inputs here are the longest each part can be: the
config's ceilings (``bot.config``), the command grammar's (``bot.chat.commands``), and for what
neither bounds (a coverage warning listing many gaps, Slack's own error codes) the renderer's.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from bot.chat.commands import MAX_REASON_CHARS
from bot.chat.home import HomeData, home_view
from bot.chat.notices import SlackMessage, answered_page, backup_expiry_text, render_notice
from bot.chat.phrases import COVERAGE_GAPS_SHOWN, format_local
from bot.chat.replies import Reply, arrest_receipt, custody_status, open_custody_list
from bot.config import (
    MAX_ESCALATION_LEVELS,
    MAX_ESCALATION_REPEAT,
    MAX_FACILITY_NAME_CHARS,
    MAX_REACK_AFTER,
    Facility,
    parse_config,
)
from bot.core.durations import format_duration
from bot.core.model import Custody, CustodyState, Notice, NoticeKind, WarrantForm
from tests.conftest import ARRESTED, DEADLINE, config_document

# Slack's limits (see /work/shared/SLACK_NOTES.md and Slack's Block Kit reference).
MESSAGE_TEXT_CHARS = 40_000
SECTION_TEXT_CHARS = 3_000
SECTION_FIELDS = 10
BUTTON_TEXT_CHARS = 75
BUTTON_VALUE_CHARS = 2_000
HEADER_TEXT_CHARS = 150
CONTEXT_ELEMENTS = 10
MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100

# "&" is escaped to "&amp;": five characters in the message for each one typed.
WORST_NAME = "&" * MAX_FACILITY_NAME_CHARS
LONGEST_ID = "f" * 64  # facility and schedule ids: [a-z0-9][a-z0-9_-]{0,63}
LONGEST_CHANNEL = "C" + "Z" * 31
LONGEST_USER = "U" + "Z" * 31
CLOSED = DEADLINE + timedelta(hours=30)
ACKED = DEADLINE + timedelta(minutes=5)


def _worst_facility() -> Facility:
    document = config_document(
        id=LONGEST_ID,
        name=WORST_NAME,
        jail_channel=LONGEST_CHANNEL,
        ice_channel="C" + "Y" * 31,
        officers=[LONGEST_USER],
        reack_after=format_duration(MAX_REACK_AFTER - timedelta(seconds=1)),
        escalation_repeat=MAX_ESCALATION_REPEAT,
    )
    return parse_config(document, source="worst case").facilities[0]


FACILITY = _worst_facility()


def _coverage_warning(gaps: int) -> str:
    """As the desk writes it: one clause per gap, joined with "; " (here, far too many)."""
    start = format_local(ARRESTED, FACILITY.zone)
    return "; ".join(
        f"ICE level {MAX_ESCALATION_LEVELS} (`oncall:{LONGEST_ID}`) has nobody on call "
        f"{start} to {start}"
        for _ in range(gaps)
    )


def _custody(**overrides: Any) -> Custody:
    values: dict[str, Any] = {
        "id": "c_" + "0" * 32,
        "facility_id": FACILITY.id,
        "booking": "B" * 32,
        "arrested_at": ARRESTED,
        "deadline": DEADLINE,
        "logged_by": LONGEST_USER,
        "logged_at": ARRESTED,
        "warrant_form": WarrantForm.I_205,
        "warrant_number": "W" * 40,
        "coverage_warning": _coverage_warning(5_000),
        "acknowledged_at": ACKED,
        "acknowledged_by": LONGEST_USER,
    }
    values.update(overrides)
    return Custody(**values)


OPEN = _custody()
RELEASED = _custody(
    state=CustodyState.RELEASED,
    closed_at=CLOSED,
    closed_by=LONGEST_USER,
    close_reason="&" * MAX_REASON_CHARS,
)
TRANSFERRED = _custody(
    state=CustodyState.TRANSFERRED, closed_at=CLOSED, closed_by=LONGEST_USER, close_reason=None
)
IGSA = _custody(state=CustodyState.IGSA, closed_at=CLOSED, closed_by=LONGEST_USER)
VOIDED = _custody(
    state=CustodyState.VOIDED,
    closed_at=CLOSED,
    closed_by=LONGEST_USER,
    close_reason="&" * MAX_REASON_CHARS,
)
LONGEST_TEXT = "&" * MAX_REASON_CHARS
DISPUTED = _custody(disputed_at=ACKED, disputed_by=LONGEST_USER, dispute_note=LONGEST_TEXT)
CORRECTION = {
    "by": LONGEST_USER,
    "from_arrested_at": ARRESTED.isoformat(),
    "from_deadline": DEADLINE.isoformat(),
    "to_arrested_at": ARRESTED.isoformat(),
    "to_deadline": DEADLINE.isoformat(),
}


def _notice(kind: NoticeKind, due_at: datetime, **fields: Any) -> Notice:
    return Notice(
        id="n_" + "0" * 32,
        custody_id=OPEN.id,
        kind=kind,
        channel=LONGEST_CHANNEL,
        due_at=due_at,
        **fields,
    )


LAST_PAGE = {"level": MAX_ESCALATION_LEVELS, "round": MAX_ESCALATION_REPEAT + 1}
# (custody, notice, the moment it is rendered): every kind render_notice draws, at its longest.
NOTICES = [
    pytest.param(OPEN, _notice(NoticeKind.LOGGED, ARRESTED), ARRESTED, id="logged"),
    pytest.param(
        OPEN, _notice(NoticeKind.LOGGED, CLOSED), CLOSED, id="logged-window-already-expired"
    ),
    pytest.param(
        OPEN,
        _notice(NoticeKind.REMINDER, ARRESTED + timedelta(hours=1), lead_seconds=47 * 3600 + 3599),
        DEADLINE - timedelta(seconds=1),
        id="late-reminder",
    ),
    pytest.param(OPEN, _notice(NoticeKind.EXPIRED, DEADLINE), CLOSED, id="expired"),
    pytest.param(TRANSFERRED, _notice(NoticeKind.TRANSFERRED, CLOSED), CLOSED, id="transferred"),
    pytest.param(RELEASED, _notice(NoticeKind.RELEASED, CLOSED), CLOSED, id="released"),
    pytest.param(
        OPEN,
        _notice(NoticeKind.ESCALATION, CLOSED, **LAST_PAGE),
        CLOSED + timedelta(days=400),
        id="expiry-page",
    ),
    pytest.param(
        OPEN,
        _notice(
            NoticeKind.ESCALATION,
            ARRESTED + timedelta(seconds=1),
            lead_seconds=47 * 3600 + 3599,
            level=MAX_ESCALATION_LEVELS,
            round=1,
        ),
        ARRESTED + timedelta(seconds=1),
        id="ice-page",
    ),
    pytest.param(OPEN, _notice(NoticeKind.ACKNOWLEDGED, ACKED), ACKED, id="acknowledged"),
    pytest.param(
        OPEN,
        _notice(
            NoticeKind.DELIVERY_PROBLEM,
            ARRESTED,
            detail={
                "failed_target": LONGEST_CHANNEL,
                "failed_kind": NoticeKind.ACKNOWLEDGED.value,
                # Slack's error code is not ours to bound: a broken proxy can say anything.
                "error": "&" * 5_000,
            },
        ),
        ARRESTED,
        id="delivery-problem",
    ),
    pytest.param(IGSA, _notice(NoticeKind.IGSA, CLOSED), CLOSED, id="igsa"),
    pytest.param(VOIDED, _notice(NoticeKind.VOIDED, CLOSED), CLOSED, id="voided"),
    pytest.param(
        OPEN, _notice(NoticeKind.CORRECTED, ACKED, detail=CORRECTION), ACKED, id="corrected"
    ),
    pytest.param(
        DISPUTED,
        _notice(NoticeKind.DISPUTED, ACKED, detail={"by": LONGEST_USER, "note": LONGEST_TEXT}),
        ACKED,
        id="disputed",
    ),
    pytest.param(
        DISPUTED,
        _notice(NoticeKind.ESCALATION, ACKED, level=1, round=1, detail={"cause": "disputed"}),
        ACKED,
        id="disputed-page",
    ),
    pytest.param(
        OPEN,
        _notice(NoticeKind.NOTE, ACKED, detail={"by": LONGEST_USER, "text": LONGEST_TEXT}),
        ACKED,
        id="note",
    ),
]
# Kinds that are never rendered by render_notice: steps expand into pages, and the backup is
# Slack's own copy (backup_expiry_text, checked below).
NOT_RENDERED = {NoticeKind.PAGE_STEP, NoticeKind.BACKUP, NoticeKind.BACKUP_DELETE}
# Updates rewrite a message already out: the card (checked in test_cards) and a page.
NOT_RENDERED |= {NoticeKind.CARD_UPDATE, NoticeKind.PAGE_UPDATE}


def _texts(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)


def assert_blocks_fit(blocks: list[dict[str, Any]], max_blocks: int) -> None:
    assert 1 <= len(blocks) <= max_blocks
    for block in blocks:
        kind = block["type"]
        if kind == "section":
            texts = [block["text"]] if "text" in block else block["fields"]
            assert "fields" not in block or 1 <= len(block["fields"]) <= SECTION_FIELDS
            assert all(t["type"] == "mrkdwn" for t in texts)
            assert all(0 < len(t["text"]) <= SECTION_TEXT_CHARS for t in texts), texts
        elif kind == "context":
            assert 1 <= len(block["elements"]) <= CONTEXT_ELEMENTS
            assert all(0 < len(e["text"]) <= SECTION_TEXT_CHARS for e in block["elements"])
        elif kind == "actions":
            for button in block["elements"]:
                assert 0 < len(button["text"]["text"]) <= BUTTON_TEXT_CHARS
                assert 0 < len(button["value"]) <= BUTTON_VALUE_CHARS
        elif kind == "header":
            assert 0 < len(block["text"]["text"]) <= HEADER_TEXT_CHARS
        else:
            assert kind == "divider", f"unchecked block type {kind}"
        # And as slack_sdk reads it (its own checks of Block Kit's limits).
        Block.parse(block).validate_json()  # type: ignore[union-attr]


def assert_message_fits(message: SlackMessage | Reply) -> None:
    assert 0 < len(message.text) <= MESSAGE_TEXT_CHARS, len(message.text)
    if message.blocks:
        assert_blocks_fit(message.blocks, MESSAGE_BLOCKS)


def test_the_cases_cover_every_kind_render_notice_draws() -> None:
    covered = {case.values[1].kind for case in NOTICES}  # type: ignore[union-attr]
    assert covered == set(NoticeKind) - NOT_RENDERED


@pytest.mark.parametrize(("custody", "notice", "now"), NOTICES)
def test_every_notice_fits_slack_limits(custody: Custody, notice: Notice, now: datetime) -> None:
    message = render_notice(custody, notice, FACILITY, now)

    assert_message_fits(message)
    # Nothing is dropped on the way: the headline and the booking are in the blocks.
    block_text = "\n".join(_texts(message.blocks))
    assert custody.booking in block_text
    assert "&amp;" * MAX_FACILITY_NAME_CHARS in block_text


def test_a_long_release_reason_is_kept_whole() -> None:
    message = render_notice(RELEASED, _notice(NoticeKind.RELEASED, CLOSED), FACILITY, CLOSED)
    block_text = "\n".join(_texts(message.blocks))
    assert "&amp;" * MAX_REASON_CHARS in block_text
    assert "&amp;" * MAX_REASON_CHARS in message.text


def test_a_long_coverage_warning_is_cut_and_counted() -> None:
    message = render_notice(OPEN, _notice(NoticeKind.LOGGED, ARRESTED), FACILITY, ARRESTED)
    receipt = arrest_receipt(OPEN, FACILITY, ARRESTED)

    for text in (message.text, receipt.text):
        assert "Escalation gap:" in text
        assert f"ICE level {MAX_ESCALATION_LEVELS} (`oncall:{LONGEST_ID}`)" in text
        assert f"; …and {5_000 - COVERAGE_GAPS_SHOWN} more." in text


@pytest.mark.parametrize(
    ("custody", "now"),
    [
        pytest.param(OPEN, ARRESTED, id="open"),
        pytest.param(OPEN, CLOSED, id="open-expired"),
        pytest.param(RELEASED, CLOSED, id="released"),
    ],
)
def test_every_reply_fits_slack_limits(custody: Custody, now: datetime) -> None:
    assert_message_fits(arrest_receipt(custody, FACILITY, now))
    assert_message_fits(arrest_receipt(custody, FACILITY, now, repeated=True))
    assert_message_fits(custody_status(custody, FACILITY, now))


def test_the_longest_lists_fit_slack_limits() -> None:
    # The desk lists at most 50 custodies (LIST_LIMIT); the App Home is passed at most 40.
    rows = [(OPEN, FACILITY)] * 50
    assert_message_fits(open_custody_list(rows, CLOSED, total=10_000))
    data = HomeData((FACILITY,), rows[:40], 10_000, rows, ["• on call"] * 50, may_log=True)
    view = home_view(data, CLOSED)
    assert_blocks_fit(view["blocks"], VIEW_BLOCKS)


def test_answered_page_and_backup_fit_slack_limits() -> None:
    assert_message_fits(answered_page(OPEN, FACILITY, LONGEST_USER, ACKED))
    backup = backup_expiry_text(OPEN, FACILITY)
    assert 0 < len(backup) <= MESSAGE_TEXT_CHARS
    assert "&amp;" * MAX_FACILITY_NAME_CHARS in backup
