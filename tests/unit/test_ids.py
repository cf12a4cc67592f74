"""Custody and notice ids: unique, 32 hex digits, increasing with time."""

from __future__ import annotations

import re
import time

from bot.core.custody import new_custody_id
from bot.core.ids import time_ordered_hex
from bot.core.notice_plan import new_notice_id


def test_ids_keep_their_shape() -> None:
    assert re.fullmatch(r"c_[0-9a-f]{32}", new_custody_id())
    assert re.fullmatch(r"n_[0-9a-f]{32}", new_notice_id())


def test_ids_are_unique_and_later_ones_sort_after_earlier_ones() -> None:
    earlier = [time_ordered_hex() for _ in range(10_000)]
    time.sleep(0.002)  # the ids carry the real millisecond: the point is that it moved on
    later = time_ordered_hex()
    assert len(set(earlier)) == len(earlier)
    assert all(later > one for one in earlier)
