"""Which card and page updates a change owes, and where a notice is posted. Pure tables."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bot.core.card_plan import (
    broadcast,
    card_of,
    card_wait,
    in_thread,
    plan_card_updates,
    plan_page_updates,
)
from bot.core.model import Notice, NoticeKind, NoticeState
from tests.conftest import ARRESTED, ICE, JAIL, custody

K = NoticeKind
NOW = ARRESTED + timedelta(hours=1)
CUSTODY = custody()


def notice(
    kind: NoticeKind, channel: str = JAIL, lead: int | None = None, **values: object
) -> Notice:
    return replace(Notice(f"n_{kind}_{channel}", CUSTODY.id, kind, channel, NOW, lead), **values)


@pytest.mark.parametrize(
    ("sent", "threaded", "broadcasts"),
    [
        pytest.param(notice(K.LOGGED), False, False, id="the card itself"),
        pytest.param(notice(K.REMINDER, lead=86400), True, False, id="24h reminder"),
        pytest.param(notice(K.REMINDER, lead=3601), True, False, id="just over an hour"),
        pytest.param(notice(K.REMINDER, lead=3600), True, True, id="1h reminder"),
        pytest.param(notice(K.REMINDER, lead=1800), True, True, id="30m reminder"),
        pytest.param(notice(K.EXPIRED), True, True, id="expiry"),
        pytest.param(notice(K.TRANSFERRED), True, False, id="transfer"),
        pytest.param(notice(K.ACKNOWLEDGED), True, False, id="acknowledged"),
        pytest.param(notice(K.ESCALATION, JAIL), False, False, id="page fallen back to channel"),
        pytest.param(notice(K.ESCALATION, "U0SGT"), False, False, id="page by DM"),
        pytest.param(notice(K.DELIVERY_PROBLEM), False, False, id="delivery alarm"),
        pytest.param(notice(K.EXPIRED, "webhook:0"), False, True, id="webhook copy"),
    ],
)
def test_what_goes_in_the_cards_thread_and_what_also_reaches_the_channel(
    sent: Notice, threaded: bool, broadcasts: bool
) -> None:
    assert in_thread(sent) is threaded
    assert broadcast(sent) is broadcasts


SENT_CARD = notice(K.LOGGED, state=NoticeState.SENT, message_ts="1.5", sent_at=NOW)
POSTING = notice(K.LOGGED, state=NoticeState.PENDING, next_attempt_at=NOW + timedelta(seconds=8))
PENDING_UPDATE = notice(K.CARD_UPDATE, f"card:{JAIL}")


@pytest.mark.parametrize(
    ("known", "targets"),
    [
        pytest.param([], [f"card:{JAIL}", f"card:{ICE}"], id="none pending: both"),
        pytest.param([PENDING_UPDATE], [f"card:{ICE}"], id="one pending: coalesced"),
        pytest.param(
            [replace(PENDING_UPDATE, state=NoticeState.SENT)],
            [f"card:{JAIL}", f"card:{ICE}"],
            id="the last one sent: a new one",
        ),
    ],
)
def test_at_most_one_card_update_pending_per_channel(
    known: list[Notice], targets: list[str]
) -> None:
    planned = plan_card_updates(CUSTODY, [JAIL, ICE, JAIL], known, NOW)
    assert [n.channel for n in planned] == targets
    assert all(n.kind is K.CARD_UPDATE and n.due_at == NOW for n in planned)


@pytest.mark.parametrize(
    ("known", "wait"),
    [
        pytest.param([SENT_CARD], None, id="card out: go"),
        pytest.param([POSTING], NOW + timedelta(seconds=8), id="card retrying: after its retry"),
        pytest.param(
            [replace(POSTING, next_attempt_at=None)],
            NOW + timedelta(seconds=1),
            id="card due: a second",
        ),
        pytest.param([], None, id="no card in that channel: nothing to wait for"),
    ],
)
def test_a_card_update_waits_for_its_card(known: list[Notice], wait: object) -> None:
    assert card_wait(PENDING_UPDATE, known, NOW) == wait
    assert card_of(known, JAIL) == (SENT_CARD if known == [SENT_CARD] else None)


def test_every_sent_page_gets_one_update_where_slack_put_it() -> None:
    dm = notice(K.ESCALATION, "U0SGT", message_ts="2.1", message_channel="D0SGT")
    in_channel = replace(notice(K.ESCALATION, JAIL, message_ts="2.2"), id="n_jail_page")
    unsent = replace(notice(K.ESCALATION, "U0LT"), id="n_unsent")
    planned = plan_page_updates(CUSTODY, [dm, in_channel, unsent], NOW)
    assert [(n.channel, n.detail["ts"]) for n in planned] == [
        ("update:D0SGT", "2.1"),
        (f"update:{JAIL}", "2.2"),
    ]
    again = plan_page_updates(CUSTODY, [dm, in_channel, *planned], NOW)
    assert again == []  # one pending per page
