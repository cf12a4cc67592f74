"""The target codec: every stored address to a typed target, and every writer back. Pure."""

from __future__ import annotations

import pytest

from bot.core.escalation import EXPIRY_CHAIN, ICE_CHAIN
from bot.core.targets import (
    PAGERDUTY_TARGET,
    Target,
    TargetKind,
    backup_target,
    card_target,
    page_update_target,
    parse_target,
    target_kind,
    webhook_target,
)

# address -> (kind, is_slack_conversation, slack_channel, webhook_index, outage_place)
ADDRESSES: dict[str, tuple[TargetKind, bool, str | None, int | None, str]] = {
    "C0JAIL": (TargetKind.CHANNEL, True, "C0JAIL", None, "C0JAIL"),
    "G0PRIVATE": (TargetKind.CHANNEL, True, "G0PRIVATE", None, "G0PRIVATE"),
    "D0DM": (TargetKind.CHANNEL, True, "D0DM", None, "D0DM"),
    "U0SGT": (TargetKind.DIRECT_MESSAGE, True, "U0SGT", None, "U0SGT"),
    "W0ENTERPRISE": (TargetKind.DIRECT_MESSAGE, True, "W0ENTERPRISE", None, "W0ENTERPRISE"),
    "pagerduty": (TargetKind.PAGERDUTY, False, None, None, "pagerduty"),
    "webhook:0": (TargetKind.WEBHOOK, False, None, 0, "webhook:0"),
    "webhook:12": (TargetKind.WEBHOOK, False, None, 12, "webhook:12"),
    "escalation": (TargetKind.CHAIN_STEP, False, None, None, "escalation"),
    "ice_escalation": (TargetKind.CHAIN_STEP, False, None, None, "ice_escalation"),
    # A backup fails with its channel: one outage, not two.
    "backup:C0JAIL": (TargetKind.SLACK_BACKUP, False, "C0JAIL", None, "C0JAIL"),
    # A card or page update is an outage of its own: it never holds the channel's notices.
    "card:C0JAIL": (TargetKind.CARD, False, "C0JAIL", None, "card:C0JAIL"),
    "update:D0DM": (TargetKind.PAGE_UPDATE, False, "D0DM", None, "update:D0DM"),
}


def test_every_target_kind_has_an_address_in_the_table() -> None:
    assert {kind for kind, *_ in ADDRESSES.values()} == set(TargetKind)


@pytest.mark.parametrize(("address", "expected"), ADDRESSES.items(), ids=list(ADDRESSES))
def test_an_address_reads_as_its_target(
    address: str, expected: tuple[TargetKind, bool, str | None, int | None, str]
) -> None:
    target = parse_target(address)

    assert target == Target(expected[0], address)
    assert target_kind(address) is expected[0]
    found = (
        target.kind,
        target.is_slack_conversation,
        target.slack_channel,
        target.webhook_index,
        target.outage_place,
    )
    assert found == expected
    assert str(target) == address  # and back: the target is stored as its address


@pytest.mark.parametrize(
    ("written", "kind", "address"),
    [
        pytest.param(webhook_target(0), TargetKind.WEBHOOK, "webhook:0", id="webhook 0"),
        pytest.param(webhook_target(3), TargetKind.WEBHOOK, "webhook:3", id="webhook 3"),
        pytest.param(
            backup_target("C0JAIL"), TargetKind.SLACK_BACKUP, "backup:C0JAIL", id="backup"
        ),
        pytest.param(card_target("C0JAIL"), TargetKind.CARD, "card:C0JAIL", id="card"),
        pytest.param(
            page_update_target("D0DM"), TargetKind.PAGE_UPDATE, "update:D0DM", id="page update"
        ),
        pytest.param(PAGERDUTY_TARGET, TargetKind.PAGERDUTY, "pagerduty", id="pagerduty"),
        pytest.param(EXPIRY_CHAIN, TargetKind.CHAIN_STEP, "escalation", id="expiry chain"),
        pytest.param(ICE_CHAIN, TargetKind.CHAIN_STEP, "ice_escalation", id="ice chain"),
    ],
)
def test_each_writer_writes_an_address_that_reads_back(
    written: str, kind: TargetKind, address: str
) -> None:
    assert written == address
    assert parse_target(written).kind is kind


@pytest.mark.parametrize("index", [0, 1, 9, 10, 255])
def test_a_webhook_index_survives_the_round_trip(index: int) -> None:
    assert parse_target(webhook_target(index)).webhook_index == index


@pytest.mark.parametrize("channel", ["C0JAIL", "G0PRIVATE", "C0WITH:COLON"])
def test_a_backups_channel_survives_the_round_trip(channel: str) -> None:
    target = parse_target(backup_target(channel))
    assert (target.slack_channel, target.outage_place) == (channel, channel)
