"""Every notice a custody event owes, across all targets: tables of plain values. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.custody_plan import (
    mirrors,
    plan_acknowledged_custody,
    plan_closed_custody,
    plan_delivery_alert,
    plan_logged_custody,
)
from bot.core.facility import (
    Config,
    EscalationLevel,
    Facility,
    IceEscalationLevel,
    Reminders,
    Webhook,
)
from bot.core.model import Custody, Notice, NoticeKind
from tests.conftest import county_jail, custody

NOW = datetime(2026, 11, 28, 20, 0, tzinfo=UTC)
H = timedelta(hours=1)
M = timedelta(minutes=1)
DEADLINE = 48 * H  # after NOW, for a custody arrested now
JAIL, ICE = "C0JAIL", "C0ICE"
BACKUP = "backup:C0JAIL"

LOGGED = NoticeKind.LOGGED
REMINDER = NoticeKind.REMINDER
EXPIRED = NoticeKind.EXPIRED
STEP = NoticeKind.PAGE_STEP

CUSTODY = custody(NOW)
OVERDUE = custody(NOW - 49 * H, logged_at=NOW)  # logged an hour after its deadline
PLAIN = county_jail(officers=frozenset({"U0BBB", "U0AAA"}))
PAGED = replace(PLAIN, pagerduty_routing_key="R" * 32)
CHAIN = replace(
    PLAIN,
    escalation=(EscalationLevel(("U0SGT",), 0 * M), EscalationLevel(("U0LT",), 15 * M)),
    escalation_repeat=1,
    ice_escalation=(
        IceEscalationLevel(("U0ICE",), before=4 * H),
        IceEscalationLevel(("U0ICE2",), before=4 * H, after=10 * M),
    ),
)
ONE_REMINDER = Reminders(before=(H,))


def config(facility: Facility, webhooks: int = 0) -> Config:
    hooks = tuple(Webhook(f"https://hooks.example/{i}", "secret") for i in range(webhooks))
    return Config(reminders=ONE_REMINDER, facilities=(facility,), webhooks=hooks)


# A planned notice: (kind, target, due after NOW, lead_seconds, level, round).
Row = tuple[NoticeKind, str, timedelta, int | None, int | None, int | None]


def rows(notices: Sequence[Notice]) -> list[Row]:
    return [(n.kind, n.channel, n.due_at - NOW, n.lead_seconds, n.level, n.round) for n in notices]


def channel_rows(target: str) -> list[Row]:
    """Logged now, the one-hour reminder, the expiry at the deadline."""
    return [
        (LOGGED, target, 0 * H, None, None, None),
        (REMINDER, target, DEADLINE - H, 3600, None, None),
        (EXPIRED, target, DEADLINE, None, None, None),
    ]


def expiry_chain_rows(start: timedelta) -> list[Row]:
    """CHAIN's expiry chain from ``start``: the sergeant, the lieutenant 15 minutes on, twice."""
    return [
        (STEP, "escalation", start, None, 1, 1),
        (STEP, "escalation", start + 15 * M, None, 2, 1),
        (STEP, "escalation", start + 15 * M, None, 1, 2),
        (STEP, "escalation", start + 30 * M, None, 2, 2),
    ]


BACKUP_ROWS: list[Row] = [
    (NoticeKind.BACKUP, BACKUP, 0 * H, None, None, None),
    # Slack posts it a minute after the deadline; failing its deletion, tidied 10 minutes later.
    (NoticeKind.BACKUP_DELETE, BACKUP, DEADLINE + 11 * M, None, None, None),
]


@pytest.mark.parametrize(
    ("custody", "cfg", "expected"),
    [
        pytest.param(
            CUSTODY,
            config(PLAIN),
            channel_rows(JAIL) + channel_rows(ICE) + BACKUP_ROWS,
            id="channels and the Slack-side backup",
        ),
        pytest.param(
            CUSTODY,
            config(PAGED, webhooks=2),
            channel_rows(JAIL)
            + channel_rows(ICE)
            + [  # one copy per event (not per channel) and target; PagerDuty: the expiry only
                (LOGGED, "webhook:0", 0 * H, None, None, None),
                (LOGGED, "webhook:1", 0 * H, None, None, None),
                (REMINDER, "webhook:0", DEADLINE - H, 3600, None, None),
                (REMINDER, "webhook:1", DEADLINE - H, 3600, None, None),
                (EXPIRED, "webhook:0", DEADLINE, None, None, None),
                (EXPIRED, "webhook:1", DEADLINE, None, None, None),
                (EXPIRED, "pagerduty", DEADLINE, None, None, None),
            ]
            + BACKUP_ROWS,
            id="mirrored to each webhook and PagerDuty",
        ),
        pytest.param(
            CUSTODY,
            config(CHAIN),
            channel_rows(JAIL)
            + channel_rows(ICE)
            + BACKUP_ROWS
            + [
                (STEP, "ice_escalation", DEADLINE - 4 * H, 4 * 3600, 1, 1),
                (STEP, "ice_escalation", DEADLINE - 4 * H + 10 * M, 13800, 2, 1),
            ]
            + expiry_chain_rows(DEADLINE),
            id="the ICE chain before the deadline, the expiry chain twice after it",
        ),
        pytest.param(
            OVERDUE,
            config(CHAIN),
            [
                (LOGGED, JAIL, 0 * H, None, None, None),
                (EXPIRED, JAIL, 0 * H, None, None, None),
                (LOGGED, ICE, 0 * H, None, None, None),
                (EXPIRED, ICE, 0 * H, None, None, None),
                # No backup: it would be in the past. No ICE page: its time is gone.
                *expiry_chain_rows(0 * H),
            ],
            id="logged after its deadline: expired and paged now",
        ),
    ],
)
def test_a_logged_custody_owes(custody: Custody, cfg: Config, expected: list[Row]) -> None:
    planned = plan_logged_custody(custody, cfg.facilities[0], cfg, NOW)

    assert rows(planned) == expected
    assert {n.custody_id for n in planned} == {custody.id}
    assert len({n.id for n in planned}) == len(planned)


@pytest.mark.parametrize(
    ("kind", "cfg", "targets"),
    [
        pytest.param(NoticeKind.TRANSFERRED, config(PLAIN), [JAIL, ICE], id="transfer"),
        pytest.param(NoticeKind.RELEASED, config(PLAIN), [JAIL, ICE], id="release"),
        pytest.param(
            NoticeKind.RELEASED,
            config(PAGED, webhooks=1),
            [JAIL, ICE, "webhook:0", "pagerduty"],
            id="release, mirrored (PagerDuty resolves)",
        ),
        pytest.param(
            NoticeKind.TRANSFERRED,
            config(PAGED, webhooks=1),
            [JAIL, ICE, "webhook:0", "pagerduty"],
            id="transfer, mirrored",
        ),
    ],
)
def test_a_closed_custody_tells_both_channels_and_the_mirrors_now(
    kind: NoticeKind, cfg: Config, targets: list[str]
) -> None:
    closed_at = NOW + 2 * H

    planned = plan_closed_custody(CUSTODY, kind, cfg.facilities[0], cfg, closed_at)

    assert rows(planned) == [(kind, t, 2 * H, None, None, None) for t in targets]


def failed(kind: NoticeKind, target: str) -> Notice:
    return Notice("n_failed", CUSTODY.id, kind, target, NOW)


@pytest.mark.parametrize(
    ("notice", "alerted"),
    [
        pytest.param(failed(LOGGED, ICE), [JAIL], id="ICE channel: told in the jail channel"),
        pytest.param(failed(LOGGED, "U0SGT"), [JAIL], id="a DM: told in the jail channel"),
        pytest.param(failed(EXPIRED, "webhook:0"), [JAIL], id="a webhook: the jail channel"),
        pytest.param(
            failed(LOGGED, JAIL), ["U0AAA", "U0BBB"], id="jail channel: each officer by DM"
        ),
        pytest.param(
            failed(NoticeKind.BACKUP, BACKUP), ["U0AAA", "U0BBB"], id="its backup: by DM too"
        ),
        pytest.param(failed(NoticeKind.DELIVERY_PROBLEM, JAIL), [], id="an alert: not alerted"),
        pytest.param(failed(STEP, "escalation"), [], id="a chain step: not alerted"),
    ],
)
def test_a_stuck_notice_is_alerted_on_a_path_that_does_not_depend_on_it(
    notice: Notice, alerted: list[str]
) -> None:
    planned = plan_delivery_alert(CUSTODY, PLAIN, notice, "not_in_channel", NOW)

    assert [(n.kind, n.channel, n.due_at) for n in planned] == [
        (NoticeKind.DELIVERY_PROBLEM, target, NOW) for target in alerted
    ]
    for alert in planned:
        assert alert.detail == {
            "failed_target": notice.channel,
            "failed_kind": notice.kind.value,
            "error": "not_in_channel",
        }


def steps_pending_at(facility: Facility, at: datetime) -> list[Notice]:
    """The chain steps of a custody logged at NOW that are still to come at ``at``."""
    planned = plan_logged_custody(CUSTODY, facility, config(facility), NOW)
    return [n for n in planned if n.kind is STEP and n.due_at > at]


ACK = NoticeKind.ACKNOWLEDGED


@pytest.mark.parametrize(
    ("facility", "webhooks", "acked_at", "cancelled", "expected"),
    [
        pytest.param(
            CHAIN,
            0,
            DEADLINE + 2 * M,
            ["escalation"] * 3,  # every pending step: the chain starts again later
            [
                (ACK, JAIL, DEADLINE + 2 * M, None, None, None),
                (ACK, ICE, DEADLINE + 2 * M, None, None, None),
                *expiry_chain_rows(DEADLINE + 32 * M),
            ],
            id="after the deadline: the expiry chain again, reack_after later",
        ),
        pytest.param(
            CHAIN,
            0,
            DEADLINE - 4 * H + 2 * M,
            ["ice_escalation"],  # level 2, due before paging resumes; the expiry chain stands
            [
                (ACK, JAIL, DEADLINE - 4 * H + 2 * M, None, None, None),
                (ACK, ICE, DEADLINE - 4 * H + 2 * M, None, None, None),
                (STEP, "ice_escalation", DEADLINE - 4 * H + 32 * M, 12480, 1, 1),
            ],
            id="before the deadline: the ICE level again, reack_after later",
        ),
        pytest.param(
            replace(PAGED, escalation=CHAIN.escalation),
            1,
            DEADLINE + 2 * M,
            ["escalation"],
            [
                (ACK, JAIL, DEADLINE + 2 * M, None, None, None),
                (ACK, ICE, DEADLINE + 2 * M, None, None, None),
                (ACK, "webhook:0", DEADLINE + 2 * M, None, None, None),
                (ACK, "pagerduty", DEADLINE + 2 * M, None, None, None),
                (STEP, "escalation", DEADLINE + 32 * M, None, 1, 1),
                (STEP, "escalation", DEADLINE + 47 * M, None, 2, 1),
            ],
            id="mirrored: both channels, the webhook and PagerDuty (once) hear of it",
        ),
    ],
)
def test_an_acknowledgement_is_told_in_both_channels_and_pauses_the_paging(
    facility: Facility,
    webhooks: int,
    acked_at: timedelta,
    cancelled: list[str],
    expected: list[Row],
) -> None:
    cfg = config(facility, webhooks)

    pending = steps_pending_at(facility, NOW + acked_at)

    plan, planned = plan_acknowledged_custody(CUSTODY, facility, cfg, pending, 1, NOW + acked_at)

    assert [step.channel for step in plan.cancel] == cancelled
    assert plan.resumes_at == NOW + acked_at + facility.reack_after
    assert rows(planned) == expected


def event(kind: NoticeKind, target: str, lead: int | None = None) -> Notice:
    return Notice(f"n_{kind}_{target}_{lead}", CUSTODY.id, kind, target, NOW, lead_seconds=lead)


@pytest.mark.parametrize(
    ("events", "facility", "webhooks", "expected"),
    [
        pytest.param([event(LOGGED, JAIL)], PLAIN, 0, [], id="nothing to mirror to"),
        pytest.param(
            [event(LOGGED, JAIL), event(LOGGED, ICE)],
            PLAIN,
            2,
            [(LOGGED, "webhook:0"), (LOGGED, "webhook:1")],
            id="one copy per event and webhook, not per channel",
        ),
        pytest.param(
            [event(REMINDER, JAIL, 3600), event(REMINDER, JAIL, 1800)],
            PLAIN,
            1,
            [(REMINDER, "webhook:0"), (REMINDER, "webhook:0")],
            id="reminders of different leads are different events",
        ),
        pytest.param([event(LOGGED, JAIL)], PAGED, 0, [], id="PagerDuty does not hear of logs"),
        pytest.param(
            [event(kind, JAIL) for kind in (EXPIRED, ACK, NoticeKind.TRANSFERRED)],
            PAGED,
            0,
            [(EXPIRED, "pagerduty"), (ACK, "pagerduty"), (NoticeKind.TRANSFERRED, "pagerduty")],
            id="PagerDuty: expiry, acknowledgement, closing",
        ),
        pytest.param(
            [event(EXPIRED, JAIL)],
            PAGED,
            1,
            [(EXPIRED, "webhook:0"), (EXPIRED, "pagerduty")],
            id="webhooks first, then PagerDuty",
        ),
    ],
)
def test_mirrors(
    events: list[Notice], facility: Facility, webhooks: int, expected: list[tuple[NoticeKind, str]]
) -> None:
    copies = mirrors(events, facility, config(facility, webhooks))

    assert [(n.kind, n.channel) for n in copies] == expected
    originals = {n.id for n in events}
    assert all(n.id not in originals and n.due_at == NOW for n in copies)
