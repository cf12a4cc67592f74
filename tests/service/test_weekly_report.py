"""The weekly oversight summary: posted at the ``[report]`` moment, escaped, retried.

START is Saturday 2026-11-28 14:00 in Chicago; the summary is due Monday 08:00 CST
(14:00 UTC) and covers Monday 23 to Sunday 29 November.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.app import WsoService
from bot.config import parse_config
from bot.core.facility import Config
from bot.core.model import CUSTODY_WINDOW, AuditEntry, Custody, CustodyState
from bot.services.clock import FakeClock
from tests.conftest import OFFICER, StartService, config_document
from tests.fakes.slack import FakeSlack

OVERSIGHT = "C0OVERSIGHT"
DUE = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)
HOSTILE_NAME = "<!channel> *County* Jail"


def report_config(**report: Any) -> Config:
    document = config_document(name=HOSTILE_NAME)
    document["report"] = {"channel": OVERSIGHT, **report}
    return parse_config(document, source="test")


def arrested(booking: str, at: datetime, **changes: Any) -> Custody:
    return Custody(
        id=f"c_{booking}",
        facility_id="county-jail",
        booking=booking,
        arrested_at=at,
        deadline=at + CUSTODY_WINDOW,
        logged_by=OFFICER,
        logged_at=at,
        **changes,
    )


async def store_week(service: WsoService) -> None:
    """Three custodies in the week (one held past its deadline), one the week before."""
    monday = datetime(2026, 11, 23, 15, tzinfo=UTC)  # 09:00 CST
    custodies = [
        arrested("B-ON-TIME", monday, state=CustodyState.TRANSFERRED, closed_at=monday + 6 * H),
        arrested(
            "B-LATE",
            monday + 24 * H,
            state=CustodyState.RELEASED,
            closed_at=monday + 75 * H,
            close_reason="Window expired",
            a_number="A098765432",
        ),
        arrested("B-EARLY-WEEK", monday - 24 * H),  # Sunday 22nd: the week before
        arrested(
            "B-FRIDAY", monday + 100 * H, state=CustodyState.VOIDED, closed_at=monday + 101 * H
        ),
    ]
    await service.store.add_custodies(
        [(c, [], AuditEntry(c.logged_at, OFFICER, "arrest_logged", c.id)) for c in custodies]
    )


H = timedelta(hours=1)


@pytest.mark.parametrize("config", [report_config()], ids=["monday-8"])
async def test_the_summary_is_posted_at_the_moment_escaped_and_named(
    start_service: StartService, fake_slack: FakeSlack, clock: FakeClock, config: Config
) -> None:
    service, _ = await start_service(config=config)
    await store_week(service)
    clock.set(DUE - timedelta(seconds=1))
    clock.set(DUE)

    [post] = await fake_slack.wait_for_posts(1, channel=OVERSIGHT)
    text = post["text"]
    assert "WSO custody summary, 2026-11-23 to 2026-11-29" in text
    assert "Custodies: 3 (1 transferred, 1 released, 1 voided)" in text
    assert "Transferred to ICE within the window: 50% (1 of 2)" in text
    assert "Held past the deadline: 1*" in text
    assert "B-LATE at &lt;!channel&gt; *County* Jail: released" in text
    assert "<!channel>" not in str(post)
    assert "B-EARLY-WEEK" not in text
    assert "098765432" not in str(post) and "5432" not in str(post)
    assert "wso-bot report --from 2026-11-23 --to 2026-11-29" in text


@pytest.mark.parametrize("config", [report_config(time="07:00")], ids=["monday-7"])
async def test_a_failed_post_is_tried_again_and_then_next_week(
    start_service: StartService, fake_slack: FakeSlack, clock: FakeClock, config: Config
) -> None:
    await start_service(config=config)
    due = DUE - H
    fake_slack.fail_channel(OVERSIGHT, "not_in_channel")
    clock.set(due)
    await fake_slack.wait_until(
        lambda: any(c.payload.get("channel") == OVERSIGHT for c in fake_slack.calls),
        what="a first attempt",
    )
    assert not fake_slack.posts(OVERSIGHT)
    fake_slack.clear_faults()  # the bot was invited
    clock.set(due + timedelta(minutes=1))  # the first retry, a minute later

    [post] = await fake_slack.wait_for_posts(1, channel=OVERSIGHT)
    assert "2026-11-23 to 2026-11-29" in post["text"]
    clock.set(due + timedelta(days=7))
    posts = await fake_slack.wait_for_posts(2, channel=OVERSIGHT)
    assert "2026-11-30 to 2026-12-06" in posts[1]["text"]
