"""Senders per target: one slow or congested channel holds up no other notice."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import WsoService
from bot.core.model import AuditEntry, Custody, Notice, NoticeKind, NoticeState
from bot.services.clock import FakeClock
from bot.services.dispatcher import Dispatcher
from bot.services.outbound import DeliveryReceipt
from storage.sqlite_store import SqliteCustodyStore
from tests.conftest import JAIL, START
from tests.fakes.signed_requests import SignedSlackClient
from tests.fakes.signed_requests import wso_payload as payload
from tests.fakes.slack import FakeSlack, RecordedCall
from tests.fakes.waiting import eventually, settle

SERGEANT = "U0SGT"  # level 1 of the test config's escalation chain, "after 0s"
OTHER_CHANNEL = "C0OTHER"


def first_post_of(fake_slack: FakeSlack, kind: str, channel: str | None = None) -> RecordedCall:
    for call in fake_slack.calls_to("chat.postMessage"):
        in_channel = channel is None or call.payload["channel"] == channel
        if call.ok and in_channel and payload(call.payload)["kind"] == kind:
            return call
    raise AssertionError(f"no {kind} post{'' if channel is None else ' to ' + channel}")


async def test_a_page_goes_out_while_the_expiry_notices_are_still_in_flight(
    slack: SignedSlackClient, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    await slack.command("arrest B-1")
    await fake_slack.wait_for_posts(2)
    fake_slack.latency = 0.5  # every Slack call now takes half a second
    clock.advance(timedelta(hours=48))
    await fake_slack.wait_for_posts(1, channel=SERGEANT)
    expired = first_post_of(fake_slack, "expired")
    page = first_post_of(fake_slack, "escalation", SERGEANT)
    # The page was planned from the expiry's chain step; it must not wait for the
    # expiry posts' Slack round trip (0.5 s) before its own request starts.
    assert page.at - expired.at < 0.25


async def test_a_backlogged_channel_does_not_hold_up_another_channels_notice(
    slack: SignedSlackClient, fake_slack: FakeSlack, clock: FakeClock, service: WsoService
) -> None:
    await slack.command("arrest B-1")
    await fake_slack.wait_for_posts(2)  # one of the jail channel's burst of 4 is used
    [custody] = await service.store.find_custodies("B-1")
    now = clock.now()
    # More backlog in one channel than the dispatcher reads in one batch, all older
    # than the other channel's notice.
    backlog = [
        Notice(f"n_backlog_{i}", custody.id, NoticeKind.LOGGED, JAIL, now - timedelta(minutes=10))
        for i in range(600)
    ]
    other = Notice("n_other", custody.id, NoticeKind.LOGGED, OTHER_CHANNEL, now)
    await service.store.add_notices([*backlog, other])
    service.dispatcher.wake()

    await fake_slack.wait_for_posts(1, channel=OTHER_CHANNEL, timeout=3)
    await settle(service)
    assert len(fake_slack.posts(JAIL)) == 4, "the jail channel went past its burst"
    clock.advance(timedelta(seconds=1))
    await fake_slack.wait_for_posts(5, channel=JAIL)  # and it drains a token a second


class _StoreThatFailsOnce(SqliteCustodyStore):
    """A real store whose first ``mark_sent`` fails, as a full disk would."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.failures_left = 1

    async def mark_sent(self, *args: Any, **kwargs: Any) -> None:
        if self.failures_left:
            self.failures_left -= 1
            raise sqlite3.OperationalError("disk I/O error")
        await super().mark_sent(*args, **kwargs)


class _RecordingDelivery:
    def __init__(self) -> None:
        self.delivered: list[str] = []

    async def deliver(self, custody: Custody, notice: Notice, now: datetime) -> DeliveryReceipt:
        self.delivered.append(notice.id)
        return DeliveryReceipt(message_ts=f"1.{len(self.delivered)}", message_channel=JAIL)


class _History:
    """Slack history as the delivery above left it."""

    def __init__(self, delivery: _RecordingDelivery) -> None:
        self._delivery = delivery

    async def direct_message_channel(self, user_id: str) -> str:
        return user_id

    async def scheduled_messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        return []

    async def find_posted(
        self,
        channel: str,
        since: datetime,
        matches: Callable[[dict[str, Any]], bool],
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - the protocol's per-call budget
        thread_ts: str | None = None,
    ) -> str | None:
        for number, notice_id in enumerate(self._delivery.delivered, start=1):
            message = {"metadata": {"event_payload": {"notice_id": notice_id}}}
            if matches(message):
                return f"1.{number}"
        return None


async def _store_one_notice(store: SqliteCustodyStore) -> tuple[Custody, Notice]:
    """A custody with one ``logged`` notice for the jail channel, due at START."""
    custody = Custody(
        id="c_1",
        facility_id="county-jail",
        booking="B-1",
        arrested_at=START,
        deadline=START + timedelta(hours=48),
        logged_by="U0AAA",
        logged_at=START,
    )
    notice = Notice("n_1", custody.id, NoticeKind.LOGGED, JAIL, START)
    await store.add_custody(custody, [notice], AuditEntry(at=START, actor="U0AAA", action="t"))
    return custody, notice


class _NoPages:
    async def pages_for(self, custody: Custody, step: Notice, now: datetime) -> list[Notice]:
        return []


async def test_a_sender_that_dies_of_a_database_error_is_retried_and_nothing_doubles(
    tmp_path: Path,
) -> None:
    clock = FakeClock(START)
    store = _StoreThatFailsOnce(tmp_path / "flaky.db")
    await store.open()
    delivery = _RecordingDelivery()
    dispatcher = Dispatcher(store, delivery, _History(delivery), _NoPages(), clock)
    custody, _ = await _store_one_notice(store)
    dispatcher.start()
    try:
        await eventually(  # the retry comes after a second of real time
            lambda: store.notices_for(custody.id),
            lambda notices: [n.state for n in notices] == [NoticeState.SENT],
            "the notice sent after the sender's retry",
        )
        assert delivery.delivered == ["n_1"], "posted again although Slack had it"
        assert dispatcher.is_running
        assert "disk I/O error" in (dispatcher.stats.last_loop_error or "")
    finally:
        await dispatcher.stop()
        await store.close()


async def test_slack_calls_share_kept_alive_connections(
    slack: SignedSlackClient, fake_slack: FakeSlack
) -> None:
    for number in range(3):
        await slack.command(f"arrest B-{number}")
    await fake_slack.wait_for_posts(6)
    await fake_slack.wait_for(lambda: len(fake_slack.scheduled(JAIL)) == 3, what="3 backups")
    delivery_calls = [
        call
        for call in fake_slack.calls
        if call.method in ("chat.postMessage", "chat.scheduleMessage")
    ]
    connections = {call.peer for call in delivery_calls}
    assert None not in connections
    # Senders run side by side, so a few connections are open at once; not one per call.
    assert len(connections) < len(delivery_calls) / 2


@pytest.mark.parametrize(
    ("history_lookup", "posts"), [(True, ["n_1"]), (False, ["n_1", "n_1"])], ids=["on", "off"]
)
async def test_a_notice_left_in_doubt_is_looked_up_unless_the_lookup_is_off(
    tmp_path: Path, history_lookup: bool, posts: list[str]
) -> None:
    """The benchmark switch (B4 "reconciliation off"): the duplicate it measures is real."""
    clock = FakeClock(START)
    store = SqliteCustodyStore(tmp_path / "off.db")
    await store.open()
    delivery = _RecordingDelivery()
    history = _History(delivery)
    custody, notice = await _store_one_notice(store)
    delivery.delivered.append(notice.id)  # Slack has it ...
    await store.mark_sending(notice.id, START)  # ... but a crash came before it was marked
    dispatcher = Dispatcher(
        store, delivery, history, _NoPages(), clock, history_lookup=history_lookup
    )
    try:
        await dispatcher.tick()
        await dispatcher.stop()
        assert delivery.delivered == posts
        [stored] = await store.notices_for(custody.id)
        assert stored.state is NoticeState.SENT
    finally:
        await store.close()
