"""Was every due notice delivered once? Checks the database against what Slack received.

A notice that is posted to Slack (a channel notice or a page, not an internal
step or backup) and was due by the cut-off must be either

* posted — exactly once — and marked ``sent``, or
* ``skipped`` as ``superseded`` by the README's catch-up rule: a reminder
  with a later reminder or the expiry of the same custody and channel that
  was posted; a chain step with a later step of the same custody that ran.

Anything else is lost. Reminders posted although a later reminder or the
expiry of the same custody and channel was due at the same restart are
counted apart (``sent_despite_rule``): nothing is lost, but the rule says
they should have been skipped.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bot.core.model import Notice, NoticeKind, NoticeState
from bot.core.targets import TargetKind

POSTED = (TargetKind.CHANNEL, TargetKind.DIRECT_MESSAGE)
SUPERSEDABLE = (NoticeKind.REMINDER, NoticeKind.EXPIRED)


@dataclass
class Accounting:
    due: int = 0
    posted_once: int = 0
    legit_skipped: int = 0
    lost: int = 0
    duplicate_channel: int = 0  # notices posted to a channel more than once
    duplicate_dm: int = 0  # pages (direct messages) posted more than once
    sent_despite_rule: int = 0
    lost_examples: list[str] = field(default_factory=list)
    lost_by_reason: Counter[str] = field(default_factory=Counter)

    def lose(self, row: Notice, reason: str) -> None:
        self.lost += 1
        self.lost_by_reason[reason] += 1
        if len(self.lost_examples) < 5:
            self.lost_examples.append(
                f"{row.id} {row.kind} {row.channel} due {row.due_at.isoformat()} "
                f"state {row.state} ({reason})"
            )


def account(
    notices: Iterable[Notice],
    posts: Iterable[list[Any]],
    cutoff: float,
    since: float,
    restart_groups: Iterable[tuple[float, float]] = (),
) -> Accounting:
    """Check every posted-kind notice due in [``since``, ``cutoff``] (epoch seconds).

    Notices due before ``since`` were stored as already sent by the data builder.

    ``restart_groups``: (down since, back at) pairs; a reminder due while the bot
    was down whose later reminder or expiry was also due by "back at" should be skipped.
    """
    rows = list(notices)
    post_count: Counter[str] = Counter(str(p[0]) for p in posts)
    by_thread: dict[tuple[str, str], list[Notice]] = defaultdict(list)
    for row in rows:
        by_thread[(row.custody_id, row.channel)].append(row)
    result = Accounting()
    groups = list(restart_groups)
    for row in rows:
        if row.target.kind not in POSTED:
            continue
        due = row.due_at.timestamp()
        if not since <= due <= cutoff:
            continue
        result.due += 1
        count = post_count.get(row.id, 0)
        if count > 1:
            if row.target.kind is TargetKind.CHANNEL:
                result.duplicate_channel += 1
            else:
                result.duplicate_dm += 1
        if count >= 1:
            if row.state is not NoticeState.SENT:
                result.lose(row, f"posted but stored as {row.state}")
            else:
                result.posted_once += 1
                if _should_have_been_skipped(row, due, by_thread, groups):
                    result.sent_despite_rule += 1
            continue
        if row.state is NoticeState.SKIPPED and row.last_error == "superseded":
            if _superseded_by_posted(row, by_thread, post_count):
                result.legit_skipped += 1
            else:
                result.lose(row, "skipped, but nothing later was posted")
        elif row.state is NoticeState.SENT:
            result.lose(row, "stored as sent, never reached Slack")
        else:
            result.lose(row, f"never posted ({row.state})")
    return result


def _superseded_by_posted(
    row: Notice,
    by_thread: dict[tuple[str, str], list[Notice]],
    post_count: Counter[str],
) -> bool:
    if row.kind is not NoticeKind.REMINDER:
        return False
    return any(
        _later(other, row) and other.kind in SUPERSEDABLE and post_count.get(other.id, 0) > 0
        for other in by_thread[(row.custody_id, row.channel)]
    )


def _should_have_been_skipped(
    row: Notice,
    due: float,
    by_thread: dict[tuple[str, str], list[Notice]],
    groups: list[tuple[float, float]],
) -> bool:
    """A reminder due during an outage whose successor was also due when the bot came back."""
    if row.kind is not NoticeKind.REMINDER:
        return False
    for down, back in groups:
        if down <= due <= back:
            return any(
                _later(other, row)
                and other.kind in SUPERSEDABLE
                and other.due_at.timestamp() <= back
                for other in by_thread[(row.custody_id, row.channel)]
            )
    return False


def _later(other: Notice, notice: Notice) -> bool:
    """Stored after ``notice`` (plan order within a custody and target)."""
    return (other.seq or 0) > (notice.seq or 0)
