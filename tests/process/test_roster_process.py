"""The officer roster with the real ``wso-bot``: ``check-config`` names a bad row's line and
refuses to start; ``SIGHUP`` reads the file again, and a bad one keeps the old roster."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import aiohttp

from tests.conftest import COUNTY_JAIL_TOML, SIGNING_SECRET
from tests.fakes.process import BotProcess, Bots, run, serve_refused, wso_bot
from tests.fakes.roster_files import ROSTER_KEY, write_config
from tests.fakes.signed_requests import SignedSlackClient
from tests.fakes.slack import FakeSlack
from tests.fakes.waiting import eventually

CERTIFIED = "U0ROSTER,Dana Reyes,4417,county-jail,2025-01-15,2099-01-15"
EXPIRED = "U0ROSTER,Dana Reyes,4417,county-jail,2020-01-15,2021-01-15"
BAD_DATE = "U0ROSTER,Dana Reyes,4417,county-jail,2025-01-15,2099-02-30"


def write(folder: Path, *rows: str) -> Path:
    return write_config(folder, ROSTER_KEY + COUNTY_JAIL_TOML, *rows)


def test_check_config_and_serve_name_the_bad_rows_line(tmp_path: Path) -> None:
    path = write(tmp_path, CERTIFIED.replace("U0ROSTER", "U0OTHER"), BAD_DATE)

    checked = run(wso_bot("check-config", str(path)), tmp_path)
    served = serve_refused(path, tmp_path)

    for result in (checked, served):
        assert result.returncode == 2, result.stderr
        assert f"roster: {tmp_path / 'officers.csv'}, line 3: expiry date" in result.stderr
        assert "A right row looks like: U0AAA,Dana Reyes,4417,county-jail" in result.stderr
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "wso.db").exists()


def test_check_config_counts_the_roster(tmp_path: Path) -> None:
    result = run(wso_bot("check-config", str(write(tmp_path, CERTIFIED))), tmp_path)

    assert result.returncode == 0, result.stderr
    assert f"officer roster {tmp_path / 'officers.csv'}: 1 officer(s)" in result.stdout
    assert "U0AAA listed in officers with no roster row" in result.stdout


async def health(bot: BotProcess) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session, session.get(f"{bot.url}/healthz") as response:
        body: dict[str, Any] = await response.json()
        return body


async def test_sighup_reads_the_roster_again_and_keeps_the_old_one_if_it_is_bad(
    tmp_path: Path, real_time_slack: FakeSlack, processes: Bots
) -> None:
    bot = processes.start(tmp_path, write(tmp_path, EXPIRED), real_time_slack.api_url)
    await bot.wait_healthy()
    async with SignedSlackClient(bot.url, SIGNING_SECRET) as slack:
        refused = await slack.command("arrest B-1", user_id="U0ROSTER")
        assert "has expired" in refused.text

        write(tmp_path, BAD_DATE)
        bot.process.send_signal(signal.SIGHUP)
        [warning] = (
            await eventually(lambda: health(bot), lambda h: h["config_warnings"], "a warning")
        )["config_warnings"]
        assert "line 2: expiry date" in warning and "still in force" in warning
        assert "has expired" in (await slack.command("arrest B-1", user_id="U0ROSTER")).text

        write(tmp_path, CERTIFIED)
        bot.process.send_signal(signal.SIGHUP)
        await eventually(lambda: health(bot), lambda h: h["config_warnings"] == [], "no warning")
        logged = await slack.command("arrest B-1", user_id="U0ROSTER")
        assert logged.text.startswith(":white_check_mark: Logged WSO arrest")

    assert bot.process.poll() is None, "SIGHUP ended the process"
    assert bot.kill(signal.SIGTERM) == 0
    log = bot.log()
    assert '"roster.reload_failed"' in log and '"roster.reloaded"' in log
