"""What handlers may use: built once by the composition root (``bot.app``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.core.facility import Config
from bot.services.clock import Clock
from bot.services.desk import CustodyDesk
from storage.interface import CustodyStore


@dataclass(frozen=True)
class HandlerDeps:
    config: Config
    store: CustodyStore
    clock: Clock
    desk: CustodyDesk


def request_id(body: Mapping[str, Any]) -> str | None:
    """The Slack request an audited change came from: its ``trigger_id`` (slash commands,
    clicks and form submissions all carry one; README, "Audit chain")."""
    trigger = body.get("trigger_id")
    return str(trigger) if trigger else None
