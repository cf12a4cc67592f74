"""The notice sender: what a crash left ``sending`` becomes, and what Slack's history decides.

A crash between the claim (``sending``) and the record (``sent``) leaves a notice
that may or may not be in Slack. ``recover_in_flight`` returns it to its queue, marked
"may have posted" where Slack shows it somewhere the bot can look; ``send`` then looks
there first and posts only if it is not found. Real SQLite store, fake clock, no Slack.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core.escalation import ICE_CHAIN
from bot.core.model import AuditEntry, Custody, CustodyState, Notice, NoticeKind, NoticeState
from bot.core.retry import DeliveryFailed, SendFailure
from bot.services.clock import FakeClock
from bot.services.history_search import carries_notice, is_searchable
from bot.services.notice_sender import DispatcherStats, NoticeSender
from bot.services.outbound import DeliveryReceipt
from storage.sqlite_store import SqliteCustodyStore
from tests.conftest import JAIL, START, custody

CUSTODY = custody()
EXPIRED = NoticeKind.EXPIRED
BACKUP = NoticeKind.BACKUP
BACKUP_DELETE = NoticeKind.BACKUP_DELETE


@pytest.mark.parametrize(
    ("channel", "kind", "searchable"),
    [
        (JAIL, EXPIRED, True),
        ("U0SGT", NoticeKind.ESCALATION, True),
        (f"backup:{JAIL}", BACKUP, True),
        (f"backup:{JAIL}", BACKUP_DELETE, False),
        ("pagerduty", EXPIRED, False),
        ("webhook:0", EXPIRED, False),
        (ICE_CHAIN, NoticeKind.PAGE_STEP, False),
    ],
    ids=["channel", "dm", "backup", "backup-delete", "pagerduty", "webhook", "chain-step"],
)
def test_is_searchable(channel: str, kind: NoticeKind, searchable: bool) -> None:
    assert is_searchable(Notice("n_1", CUSTODY.id, kind, channel, START)) is searchable


@pytest.mark.parametrize(
    ("message", "carries"),
    [
        ({"metadata": {"event_payload": {"notice_id": "n_1"}}}, True),
        ({"metadata": {"event_payload": {"notice_id": "n_2"}}}, False),
        ({"metadata": {"event_payload": "n_1"}}, False),
        ({"metadata": "n_1"}, False),
        ({"text": "n_1"}, False),
    ],
    ids=["this-notice", "another-notice", "payload-not-a-dict", "metadata-not-a-dict", "none"],
)
def test_carries_notice(message: dict[str, Any], carries: bool) -> None:
    assert carries_notice(message, "n_1") is carries


# --- fakes at the sender's seams ---------------------------------------------------


@dataclass
class _Loop:
    stats: DispatcherStats = field(default_factory=DispatcherStats)
    failed: list[str] = field(default_factory=list)

    def wake(self) -> None:
        pass

    def attempt_failed(self, notice: Notice, failure: SendFailure, retry_at: datetime) -> None:
        self.failed.append(failure.code)


@dataclass
class _Delivery:
    posted: list[str] = field(default_factory=list)

    async def deliver(self, custody: Custody, notice: Notice, now: datetime) -> DeliveryReceipt:
        self.posted.append(notice.id)
        return DeliveryReceipt(message_ts="1.1", message_channel=JAIL)


@dataclass
class _History:
    """What Slack shows: messages in history, scheduled messages, or a refusal to look."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    scheduled: list[dict[str, Any]] = field(default_factory=list)
    refusal: str | None = None
    looked: int = 0

    async def direct_message_channel(self, user_id: str) -> str:
        return "D" + user_id[1:]

    async def scheduled_messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        self._look()
        return self.scheduled

    async def find_posted(  # the per-call budget (``timeout``) means nothing here
        self, channel: str, since: datetime, matches: Callable[[dict[str, Any]], bool], **_: Any
    ) -> str | None:
        self._look()
        return next((m["ts"] for m in self.messages if matches(m)), None)

    def _look(self) -> None:
        self.looked += 1
        if self.refusal is not None:
            raise DeliveryFailed(SendFailure(self.refusal))


class _NoPages:
    async def pages_for(self, custody: Custody, step: Notice, now: datetime) -> list[Notice]:
        return []


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteCustodyStore]:
    store = SqliteCustodyStore(tmp_path / "sender.db")
    await store.open()
    yield store
    await store.close()


async def _crash_mid_send(store: SqliteCustodyStore, channel: str, kind: NoticeKind) -> Notice:
    """Store the custody with one notice, claimed for sending and never recorded."""
    notice = Notice("n_1", CUSTODY.id, kind, channel, START)
    await store.add_custody(CUSTODY, [notice], AuditEntry(at=START, actor="U0AAA", action="t"))
    assert await store.mark_sending(notice.id, START)
    return notice


def _sender(
    store: SqliteCustodyStore, history: _History, *, history_lookup: bool = True
) -> tuple[NoticeSender, _Loop, _Delivery]:
    loop, delivery = _Loop(), _Delivery()
    clock = FakeClock(START + timedelta(minutes=1))
    sender = NoticeSender(
        loop, store, clock, delivery, history, _NoPages(), history_lookup=history_lookup
    )
    return sender, loop, delivery


async def _stored(store: SqliteCustodyStore) -> Notice:
    """The one notice under test (an expiry sent in a channel also owes its card an update)."""
    notices = await store.notices_for(CUSTODY.id)
    [notice] = [n for n in notices if n.kind is not NoticeKind.CARD_UPDATE]
    return notice


# --- after a crash: back to the queue, marked or not --------------------------------


@pytest.mark.parametrize(
    ("channel", "kind", "busy", "history_lookup", "state", "may_have_posted"),
    [
        (JAIL, EXPIRED, (), True, NoticeState.PENDING, True),
        ("U0SGT", NoticeKind.ESCALATION, (), True, NoticeState.PENDING, True),
        (f"backup:{JAIL}", BACKUP, (), True, NoticeState.PENDING, True),
        ("pagerduty", EXPIRED, (), True, NoticeState.PENDING, False),
        ("webhook:0", EXPIRED, (), True, NoticeState.PENDING, False),
        (JAIL, EXPIRED, (), False, NoticeState.PENDING, False),
        (JAIL, EXPIRED, (JAIL,), True, NoticeState.SENDING, False),
    ],
    ids=["channel", "dm", "backup", "pagerduty", "webhook", "lookup-off", "sender-still-at-work"],
)
async def test_recover_in_flight(
    store: SqliteCustodyStore,
    channel: str,
    kind: NoticeKind,
    busy: tuple[str, ...],
    history_lookup: bool,
    state: NoticeState,
    may_have_posted: bool,
) -> None:
    await _crash_mid_send(store, channel, kind)
    sender, _, _ = _sender(store, _History(), history_lookup=history_lookup)
    await sender.recover_in_flight(busy)
    stored = await _stored(store)
    assert (stored.state, stored.may_have_posted) == (state, may_have_posted)


# --- the next send: what history shows decides --------------------------------------

THIS_NOTICE = {"ts": "9.1", "metadata": {"event_payload": {"notice_id": "n_1"}}}
ANOTHER_NOTICE = {"ts": "9.2", "metadata": {"event_payload": {"notice_id": "n_2"}}}
THIS_BACKUP = {"id": "Q1", "text": "... check the bot. (custody c_1)"}
ANOTHER_BACKUP = {"id": "Q2", "text": "... check the bot. (custody c_2)"}


@pytest.mark.parametrize(
    ("channel", "kind", "history", "posts", "sent_as", "recovered"),
    [
        (JAIL, EXPIRED, _History(messages=[THIS_NOTICE]), 0, "9.1", 1),
        ("U0SGT", NoticeKind.ESCALATION, _History(messages=[THIS_NOTICE]), 0, "9.1", 1),
        (JAIL, EXPIRED, _History(messages=[ANOTHER_NOTICE]), 1, "1.1", 0),
        (JAIL, EXPIRED, _History(), 1, "1.1", 0),
        (JAIL, EXPIRED, _History(refusal="missing_scope"), 1, "1.1", 0),
        (f"backup:{JAIL}", BACKUP, _History(scheduled=[THIS_BACKUP]), 0, "Q1", 1),
        (f"backup:{JAIL}", BACKUP, _History(scheduled=[ANOTHER_BACKUP]), 1, "1.1", 0),
        ("pagerduty", EXPIRED, _History(messages=[THIS_NOTICE]), 1, "1.1", 0),
    ],
    ids=[
        "found-in-channel",
        "found-in-dm",
        "another-notice-there",
        "history-empty",
        "history-refused-post-anyway",
        "backup-found-scheduled",
        "another-custodys-backup",
        "pagerduty-sent-again",
    ],
)
async def test_a_notice_left_sending_is_found_or_posted_once(
    store: SqliteCustodyStore,
    channel: str,
    kind: NoticeKind,
    history: _History,
    posts: int,
    sent_as: str,
    recovered: int,
) -> None:
    await _crash_mid_send(store, channel, kind)
    sender, loop, delivery = _sender(store, history)
    await sender.recover_in_flight(())

    assert await sender.send(await _stored(store), START + timedelta(minutes=1))

    stored = await _stored(store)
    assert len(delivery.posted) == posts
    assert (stored.state, stored.message_ts) == (NoticeState.SENT, sent_as)
    assert (loop.stats.recovered, loop.stats.sent) == (recovered, posts)


@pytest.mark.parametrize(
    "refusal", ["ratelimited", "internal_error"], ids=["rate-limited", "server-error"]
)
async def test_a_lookup_that_may_pass_is_retried_and_nothing_is_posted(
    store: SqliteCustodyStore, refusal: str
) -> None:
    await _crash_mid_send(store, JAIL, EXPIRED)
    sender, loop, delivery = _sender(store, _History(refusal=refusal))
    await sender.recover_in_flight(())

    assert not await sender.send(await _stored(store), START + timedelta(minutes=1))

    stored = await _stored(store)
    assert delivery.posted == []
    # Two attempts: the one the crash cut short, and this one.
    assert (stored.state, stored.attempts, stored.last_error) == (
        NoticeState.PENDING,
        2,
        refusal,
    )
    assert stored.may_have_posted, "the next attempt must look again"
    assert loop.failed == [refusal]


async def test_with_the_lookup_off_history_is_never_read(store: SqliteCustodyStore) -> None:
    """The benchmark switch (B4): the notice is posted again without a look."""
    await _crash_mid_send(store, JAIL, EXPIRED)
    history = _History(messages=[THIS_NOTICE])
    sender, _, delivery = _sender(store, history, history_lookup=False)
    await sender.recover_in_flight(())

    assert await sender.send(await _stored(store), START + timedelta(minutes=1))

    assert (history.looked, delivery.posted) == (0, ["n_1"])


# --- a reminder a later one supersedes, an earlier attempt may have posted ---------


@pytest.mark.parametrize(
    ("superseded", "later_due", "history", "state", "posts", "error"),
    [
        (True, timedelta(seconds=30), [THIS_NOTICE], NoticeState.SENT, [], None),
        (True, timedelta(seconds=30), [ANOTHER_NOTICE], NoticeState.SKIPPED, [], "superseded"),
        (False, timedelta(seconds=30), [THIS_NOTICE], NoticeState.SENT, [], None),
        (False, timedelta(seconds=30), [], NoticeState.SKIPPED, [], "superseded"),
        (False, timedelta(minutes=5), [], NoticeState.SENT, ["n_1"], None),
    ],
    ids=[
        "superseded-found-recorded-sent",
        "superseded-not-found-skipped-not-posted",
        "later-due-outside-the-batch-found",
        "later-due-outside-the-batch-not-found-skipped",
        "later-not-yet-due-not-found-posted",
    ],
)
async def test_a_reminder_that_may_have_posted_is_never_skipped_without_looking(
    store: SqliteCustodyStore,
    superseded: bool,
    later_due: timedelta,
    history: list[dict[str, Any]],
    state: NoticeState,
    posts: list[str],
    error: str | None,
) -> None:
    reminder = Notice("n_1", CUSTODY.id, NoticeKind.REMINDER, JAIL, START, lead_seconds=86400)
    later = Notice("n_2", CUSTODY.id, NoticeKind.REMINDER, JAIL, START + later_due, 43200)
    audit = AuditEntry(at=START, actor="U0AAA", action="t")
    await store.add_custody(CUSTODY, [reminder, later], audit)
    assert await store.mark_sending(reminder.id, START)
    await store.mark_pending(reminder.id, may_have_posted=True)  # a crash after the post
    sender, _, delivery = _sender(store, _History(messages=history))

    [claimed] = [n for n in await store.notices_for(CUSTODY.id) if n.id == reminder.id]
    assert await sender.send(claimed, START + timedelta(minutes=1), superseded=superseded)

    [stored] = [n for n in await store.notices_for(CUSTODY.id) if n.id == reminder.id]
    assert (stored.state, stored.last_error) == (state, error)
    assert stored.message_ts == ("9.1" if history == [THIS_NOTICE] else "1.1" if posts else None)
    assert delivery.posted == posts


# --- a page that goes out while someone answers ------------------------------------


@dataclass
class _AnsweredWhileSending(_Delivery):
    """Slack takes the page; meanwhile, in the desk, someone acknowledges or closes."""

    store: SqliteCustodyStore | None = None
    answer: str = ""

    async def deliver(self, custody: Custody, notice: Notice, now: datetime) -> DeliveryReceipt:
        assert self.store is not None
        audit = AuditEntry(at=now, actor="U0DESK", action=self.answer)
        if self.answer == "acknowledge":
            await self.store.acknowledge(
                custody.id,
                at=now,
                by="U0DESK",
                cancel_step_ids=[],
                new_notices=[],
                audit=audit,
                expected_acknowledged_at=None,
            )
        elif self.answer == "release":
            await self.store.close_custody(
                custody.id,
                state=CustodyState.RELEASED,
                at=now,
                by="U0DESK",
                reason=None,
                closing_notices=[],
                audit=audit,
            )
        self.posted.append(notice.id)
        return DeliveryReceipt(message_ts="7.7", message_channel="D0SGT")


@pytest.mark.parametrize(
    ("answer", "rewrites"),
    [("", 0), ("acknowledge", 1), ("release", 1)],
    ids=["nobody-answered", "acknowledged-while-sending", "released-while-sending"],
)
async def test_a_page_sent_while_someone_answered_is_rewritten(
    store: SqliteCustodyStore, answer: str, rewrites: int
) -> None:
    page = Notice("n_1", CUSTODY.id, NoticeKind.ESCALATION, "U0SGT", START, level=1, round=1)
    await store.add_custody(CUSTODY, [page], AuditEntry(at=START, actor="U0AAA", action="t"))
    loop = _Loop()
    delivery = _AnsweredWhileSending(store=store, answer=answer)
    clock = FakeClock(START + timedelta(minutes=1))
    sender = NoticeSender(loop, store, clock, delivery, _History(), _NoPages())

    assert await sender.send(page, START + timedelta(minutes=1))

    notices = await store.notices_for(CUSTODY.id)
    updates = [n for n in notices if n.kind is NoticeKind.PAGE_UPDATE]
    assert len(updates) == rewrites
    assert all(u.detail == {"page_notice_id": "n_1", "ts": "7.7"} for u in updates)
    assert all(u.channel == "update:D0SGT" for u in updates)


async def test_a_failing_sent_listener_leaves_the_notice_recorded_sent(
    store: SqliteCustodyStore,
) -> None:
    reminder = Notice("n_1", CUSTODY.id, NoticeKind.REMINDER, JAIL, START, lead_seconds=3600)
    await store.add_custody(CUSTODY, [reminder], AuditEntry(at=START, actor="U0AAA", action="t"))
    heard: list[str] = []

    def listener(notice: Notice) -> None:
        heard.append(notice.id)
        raise RuntimeError("the Home tab is broken")

    clock = FakeClock(START + timedelta(minutes=1))
    sender = NoticeSender(
        _Loop(), store, clock, _Delivery(), _History(), _NoPages(), on_sent=listener
    )

    assert await sender.send(reminder, START + timedelta(minutes=1))
    assert heard == ["n_1"]
    [stored] = [n for n in await store.notices_for(CUSTODY.id) if n.id == "n_1"]
    assert stored.state is NoticeState.SENT
