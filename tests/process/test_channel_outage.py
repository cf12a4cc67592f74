"""``wso-bot serve`` itself keeps posting elsewhere while one channel's edge answers 503s.

The in-process tests of the same rule are in ``tests/service/test_channel_faults.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.conftest import COUNTY_JAIL_TOML, ICE, JAIL, SIGNING_SECRET
from tests.fakes.notices import copies, kinds
from tests.fakes.process import Bots
from tests.fakes.signed_requests import SignedSlackClient
from tests.fakes.slack import ANSWER_SHAPES, FakeSlack

NORTH_JAIL = "C0NJAIL"
NORTH_ICE = "C0NICE"
TWO_FACILITY_CONFIG = (
    "[reminders]\nbefore = []\n\n"
    + COUNTY_JAIL_TOML
    + """
[[facility]]
id = "north-annex"
name = "North Annex"
timezone = "America/New_York"
jail_channel = "C0NJAIL"
ice_channel = "C0NICE"
officers = ["U0AAA"]
"""
)


async def test_the_real_process_keeps_posting_elsewhere_while_one_channel_answers_503s(
    tmp_path: Path, real_time_slack: FakeSlack, processes: Bots
) -> None:
    """``wso-bot serve`` itself, over signed HTTP, with the edge failing one jail channel."""
    config_path = tmp_path / "wso.toml"
    config_path.write_text(TWO_FACILITY_CONFIG)
    outage = real_time_slack.outage(ANSWER_SHAPES["plain_503"], channel=JAIL)
    bot = processes.start(tmp_path, config_path, real_time_slack.api_url)
    await bot.wait_healthy()
    expired_at = datetime.now(UTC) - timedelta(hours=48, minutes=5)
    async with SignedSlackClient(bot.url, SIGNING_SECRET) as slack:
        for booking, facility in (("B-1", "county-jail"), ("B-2", "north-annex")):
            reply = await slack.command(
                f"arrest {booking} at {expired_at:%Y-%m-%dT%H:%M:%SZ} facility {facility}"
            )
            assert reply.status == 200 and "Logged" in reply.text, reply.text

        for channel in (NORTH_JAIL, NORTH_ICE, ICE):
            await real_time_slack.wait_for(
                lambda channel=channel: "expired" in kinds(real_time_slack, channel),
                timeout=3,
                what=f"the expiry in {channel} while {JAIL} answers 503",
            )
        health = await slack.get_json("/healthz")
        assert health.json["dispatcher"] == "running"
        assert health.json["last_slack_error"] == "http_503"

        outage.end()
        await real_time_slack.wait_for(
            lambda: kinds(real_time_slack, JAIL) == ["logged", "expired"],
            timeout=15,
            what="the jail channel's notices once the edge recovers",
        )
        assert set(copies(real_time_slack, JAIL).values()) == {1}
        health = await slack.get_json("/healthz")
        assert health.json["last_slack_error"] is None
