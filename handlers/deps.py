"""What handlers may use: built once by the composition root (``bot.app``)."""

from __future__ import annotations

from dataclasses import dataclass

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
