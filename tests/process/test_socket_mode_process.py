"""``wso-bot serve`` in Socket Mode as a real process: dials out to the fake socket server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import COUNTY_JAIL_TOML, ICE, JAIL, OFFICER
from tests.fakes.process import Bots, run, wso_bot
from tests.fakes.slack import FakeSlack
from tests.fakes.socket_mode import FakeSocketMode
from tests.fakes.waiting import eventually

APP_TOKEN = "xapp-1-A0FAKE-1-process"


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "wso.toml"
    path.write_text(COUNTY_JAIL_TOML)
    return path


async def test_serve_by_socket_mode_without_a_signing_secret(
    tmp_path: Path, config_path: Path, real_time_slack: FakeSlack, processes: Bots
) -> None:
    async with FakeSocketMode() as socket:
        real_time_slack.socket_url = socket.url
        real_time_slack.app_token = APP_TOKEN
        bot = processes.start(
            tmp_path,
            config_path,
            real_time_slack.api_url,
            SLACK_SIGNING_SECRET="",
            SLACK_APP_TOKEN=APP_TOKEN,
        )
        await bot.wait_healthy()

        async def health() -> dict[str, Any]:
            async with (
                aiohttp.ClientSession() as session,
                session.get(f"{bot.url}/healthz") as response,
            ):
                report: dict[str, Any] = await response.json()
                return report

        await eventually(
            health, lambda h: h["socket"]["state"] == "connected", "the socket", timeout=20
        )
        ack = await socket.command("arrest B-77", user_id=OFFICER, channel_id=JAIL)

        assert "B-77" in ack["payload"]["text"]
        await real_time_slack.wait_for_posts(1, channel=ICE)
        assert "Socket Mode" in bot.log()
        assert APP_TOKEN not in bot.log()
        assert bot.kill(15) == 0


@pytest.mark.parametrize(
    ("environ", "said"),
    [
        pytest.param(
            {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xoxb-2"},
            "SLACK_APP_TOKEN: must be an app-level token starting with xapp-",
            id="bot-token-as-app-token",
        ),
        pytest.param(
            {"SLACK_BOT_TOKEN": "xoxb-1"},
            "SLACK_APP_TOKEN=xapp-",
            id="neither-secret-nor-app-token",
        ),
    ],
)
def test_serve_refuses_a_socket_mode_misconfiguration(
    tmp_path: Path, environ: dict[str, str], said: str
) -> None:
    result = run(wso_bot("serve"), tmp_path, **environ)

    assert result.returncode == 2
    assert said in result.stderr
    assert "Traceback" not in result.stderr
