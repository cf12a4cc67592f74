"""When a custody window closes, and which arrests the desk takes for a mistake.

The WSO rule (ICE's statement) is 48 elapsed hours from the arrest, with no
exclusions: the arithmetic is done on UTC instants, so a DST change inside the
window neither adds nor removes an hour.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core.ids import time_ordered_hex
from bot.core.model import CUSTODY_WINDOW, CountingRule, Custody, require_utc

# A custody window is 48 hours: an arrest logged weeks later is almost surely a mistyped date.
OLDEST_ARREST = timedelta(days=30)
# The same officer sending the same arrest again this soon is a double-submit, not a new arrest.
DOUBLE_SUBMIT_WINDOW = timedelta(minutes=2)


def new_custody_id() -> str:
    return "c_" + time_ordered_hex()


def custody_deadline(
    arrested_at: datetime, rule: CountingRule = CountingRule.ELAPSED_48H
) -> datetime:
    """The instant (UTC) by which ICE must take custody under ``rule``."""
    require_utc("arrested_at", arrested_at)
    if rule is CountingRule.ELAPSED_48H:
        return arrested_at + CUSTODY_WINDOW
    raise ValueError(f"unknown counting rule {rule!r}")


def is_implausibly_old(arrested_at: datetime, now: datetime) -> bool:
    """An arrest time more than :data:`OLDEST_ARREST` ago is refused as a likely typo."""
    return now - arrested_at > OLDEST_ARREST


def is_double_submission(existing: Custody, attempted: Custody) -> bool:
    """Same officer, same arrest, moments apart: answer as before instead of refusing.

    Slack users double-submit; an arrest logged "now" twice within the window
    counts as one when the two arrest times are within the window too.
    """
    return (
        existing.logged_by == attempted.logged_by
        and attempted.logged_at - existing.logged_at <= DOUBLE_SUBMIT_WINDOW
        and abs(attempted.arrested_at - existing.arrested_at) <= DOUBLE_SUBMIT_WINDOW
        and existing.warrant_form == attempted.warrant_form
        and existing.warrant_number == attempted.warrant_number
    )
