"""Where a notice goes: one codec from the stored address to a typed target and back. Pure.

A notice's ``channel`` column holds the target's *address*:

* ``C…``/``G…``/``D…``: a Slack channel, posted to with ``wso_custody`` metadata;
* ``U…``/``W…``: a person, paged by direct message;
* ``pagerduty``: the facility's PagerDuty service (Events API v2);
* ``webhook:<n>``: the n-th ``[[webhook]]`` (0-based);
* ``escalation`` / ``ice_escalation``: a chain step, never delivered itself: the
  dispatcher expands it into pages (``bot.core.escalation``);
* ``backup:<channel>``: Slack's own copy of the expiry notice in that channel
  (``bot.core.backup_plan``);
* ``card:<channel>``: the custody card in that channel, updated in place
  (``chat.update``; ``bot.core.card_plan``);
* ``update:<conversation>``: a page the bot sent there (a DM's ``D…``), updated in place.

Card and page updates have addresses of their own, so a failing or slow
``chat.update`` is retried in its own queue and never holds the channel's thread
replies or new pages.

``parse_target`` is the only reader of that spelling, and the ``*_target``
functions its only writers; everything else asks a ``Target`` what it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# The two escalation chains' step addresses (``bot.core.escalation`` plans them).
EXPIRY_CHAIN = "escalation"
ICE_CHAIN = "ice_escalation"
CHAIN_TARGETS = frozenset({EXPIRY_CHAIN, ICE_CHAIN})

PAGERDUTY_TARGET = "pagerduty"
WEBHOOK_PREFIX = "webhook:"
BACKUP_PREFIX = "backup:"
CARD_PREFIX = "card:"
PAGE_UPDATE_PREFIX = "update:"


class TargetKind(StrEnum):
    CHANNEL = "channel"
    DIRECT_MESSAGE = "direct_message"
    PAGERDUTY = "pagerduty"
    WEBHOOK = "webhook"
    CHAIN_STEP = "chain_step"
    SLACK_BACKUP = "slack_backup"
    CARD = "card"
    PAGE_UPDATE = "page_update"


# Addresses spelled ``<prefix><Slack channel>``: their Slack channel is the rest.
_PREFIXED = {
    TargetKind.SLACK_BACKUP: BACKUP_PREFIX,
    TargetKind.CARD: CARD_PREFIX,
    TargetKind.PAGE_UPDATE: PAGE_UPDATE_PREFIX,
}

# Targets that are Slack conversations: messages land there, with history to search.
SLACK_MESSAGE_KINDS = frozenset({TargetKind.CHANNEL, TargetKind.DIRECT_MESSAGE})


@dataclass(frozen=True)
class Target:
    """A notice's target: what kind it is, and its stored address."""

    kind: TargetKind
    address: str

    def __str__(self) -> str:
        return self.address

    @property
    def is_slack_conversation(self) -> bool:
        return self.kind in SLACK_MESSAGE_KINDS

    @property
    def slack_channel(self) -> str | None:
        """The Slack channel (or DM user) it posts into: a backup's channel too."""
        prefix = _PREFIXED.get(self.kind)
        if prefix is not None:
            return self.address.removeprefix(prefix)
        return self.address if self.is_slack_conversation else None

    @property
    def webhook_index(self) -> int | None:
        if self.kind is not TargetKind.WEBHOOK:
            return None
        return int(self.address.removeprefix(WEBHOOK_PREFIX))

    @property
    def outage_place(self) -> str:
        """Where its failures happen: a backup fails with its channel (one outage); an
        update of a message (``chat.update``) is an outage of its own."""
        if self.kind in (TargetKind.CARD, TargetKind.PAGE_UPDATE):
            return self.address
        return self.slack_channel or self.address


def target_kind(address: str) -> TargetKind:
    """The kind of a stored address (see the module docstring for the spelling)."""
    if address in CHAIN_TARGETS:
        return TargetKind.CHAIN_STEP
    if address.startswith(BACKUP_PREFIX):
        return TargetKind.SLACK_BACKUP
    if address.startswith(CARD_PREFIX):
        return TargetKind.CARD
    if address.startswith(PAGE_UPDATE_PREFIX):
        return TargetKind.PAGE_UPDATE
    if address == PAGERDUTY_TARGET:
        return TargetKind.PAGERDUTY
    if address.startswith(WEBHOOK_PREFIX):
        return TargetKind.WEBHOOK
    if address[:1] in ("U", "W"):
        return TargetKind.DIRECT_MESSAGE
    return TargetKind.CHANNEL


def parse_target(address: str) -> Target:
    return Target(target_kind(address), address)


def webhook_target(index: int) -> str:
    return f"{WEBHOOK_PREFIX}{index}"


def backup_target(channel: str) -> str:
    return f"{BACKUP_PREFIX}{channel}"


def card_target(channel: str) -> str:
    return f"{CARD_PREFIX}{channel}"


def page_update_target(conversation: str) -> str:
    return f"{PAGE_UPDATE_PREFIX}{conversation}"
