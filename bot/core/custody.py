"""When a custody window closes.

The WSO rule (ICE's statement) is 48 elapsed hours from the arrest, with no
exclusions: the arithmetic is done on UTC instants, so a DST change inside the
window neither adds nor removes an hour.
"""

from __future__ import annotations

from datetime import datetime

from bot.core.model import CUSTODY_WINDOW, CountingRule, require_utc


def custody_deadline(
    arrested_at: datetime, rule: CountingRule = CountingRule.ELAPSED_48H
) -> datetime:
    """The instant (UTC) by which ICE must take custody under ``rule``."""
    require_utc("arrested_at", arrested_at)
    if rule is CountingRule.ELAPSED_48H:
        return arrested_at + CUSTODY_WINDOW
    raise ValueError(f"unknown counting rule {rule!r}")
