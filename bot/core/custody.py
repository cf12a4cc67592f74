"""A new custody's id, and which arrests the desk takes for a mistake.

When the custody window closes is :mod:`bot.core.policy` (the counting policies).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core.ids import time_ordered_hex
from bot.core.model import Custody

# A custody window lasts a few days at most, even with weekends and holidays not counted: an
# arrest logged weeks later is almost surely a mistyped date.
OLDEST_ARREST = timedelta(days=30)
# The same officer sending the same arrest again this soon is a double-submit, not a new arrest.
DOUBLE_SUBMIT_WINDOW = timedelta(minutes=2)


def new_custody_id() -> str:
    return "c_" + time_ordered_hex()


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
