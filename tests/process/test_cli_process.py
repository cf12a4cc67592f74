"""``wso-bot`` as a real process: config checks, start-up refusals, SIGTERM, kill -9 and restart.

Start-up refusals include a database in use by another bot and a damaged one.

These use the real clock (a process cannot share a fake one), so arrests are
backdated to put their due notices a couple of seconds ahead.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import resource
import signal
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import BOT_TOKEN, COUNTY_JAIL_TOML, ICE, JAIL, SIGNING_SECRET
from tests.fakes.damaged_db import DISPATCHER_INDEX, corrupt_header, corrupt_index_page
from tests.fakes.process import BotProcess, Bots, clean_env, run, serve_refused, wso_bot
from tests.fakes.server import unused_port
from tests.fakes.signed_requests import SignedSlackClient
from tests.fakes.signed_requests import wso_payload as payload
from tests.fakes.slack import FakeSlack

REPO = Path(__file__).resolve().parents[2]
GOOD_CONFIG = '\n[reminders]\nbefore = ["30m"]\n\n' + COUNTY_JAIL_TOML


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "wso.toml"
    path.write_text(GOOD_CONFIG)
    return path


def test_check_config_accepts_the_shipped_example(tmp_path: Path) -> None:
    result = run(wso_bot("check-config", str(REPO / "wso.example.toml")), tmp_path)

    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout
    assert "county-jail" in result.stdout


@pytest.mark.parametrize(
    ("broken", "key"),
    [
        pytest.param(
            GOOD_CONFIG.replace("America/Chicago", "America/Chicgo"),
            "facility[0].timezone",
            id="unknown zone",
        ),
        pytest.param(
            GOOD_CONFIG.replace('jail_channel = "C0JAIL"\n', ""),
            "facility[0].jail_channel",
            id="missing channel",
        ),
        pytest.param(
            GOOD_CONFIG.replace('"30m"', '"30 minutes"'), "reminders.before[0]", id="bad duration"
        ),
        pytest.param(
            GOOD_CONFIG.replace("officers", "oficers"), "facility[0].oficers", id="typo in key"
        ),
        pytest.param(GOOD_CONFIG + "\n[[facility\n", "invalid TOML", id="bad TOML"),
        pytest.param(
            GOOD_CONFIG + 'policy = "48h-weekdays"\n', "facility[0].policy", id="unknown policy"
        ),
    ],
)
def test_config_errors_name_the_key_and_stop_serve(tmp_path: Path, broken: str, key: str) -> None:
    path = tmp_path / "wso.toml"
    path.write_text(broken)

    checked = run(wso_bot("check-config", str(path)), tmp_path)
    served = serve_refused(path, tmp_path)

    for result in (checked, served):
        assert result.returncode == 2
        assert key in result.stderr
    assert not (tmp_path / "wso.db").exists(), "serve touched the database despite a bad config"


def test_serve_without_credentials_explains_how_to_set_up_slack(tmp_path: Path) -> None:
    result = run(wso_bot("serve"), tmp_path)

    assert result.returncode == 2
    for hint in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "manifest.yml", "export"):
        assert hint in result.stderr
    assert "Traceback" not in result.stderr


async def test_serve_handles_a_command_and_stops_cleanly_on_sigterm(
    tmp_path: Path, config_path: Path, real_time_slack: FakeSlack, processes: Bots
) -> None:
    bot = processes.start(tmp_path, config_path, real_time_slack.api_url)
    health = await bot.wait_healthy()
    assert health["database"] == "ok" and health["dispatcher"] == "running"

    async with SignedSlackClient(bot.url, SIGNING_SECRET) as slack:
        reply = await slack.command("arrest B-100 I-205")
    assert reply.status == 200 and "Logged" in reply.text
    await real_time_slack.wait_for_posts(2)

    started = time.monotonic()
    assert bot.kill(signal.SIGTERM) == 0
    assert time.monotonic() - started < 10


def posts_of(fake: FakeSlack, channel: str, booking: str) -> list[dict[str, Any]]:
    return [p for p in fake.posts(channel) if payload(p)["booking"] == booking]


async def a_later_arrest_is_posted(bot: BotProcess, fake: FakeSlack, booking: str) -> None:
    """Log another arrest and wait for its notice in both channels: a positive signal.

    A channel's notices go out one sender at a time, so anything the bot was about to
    post there before (a double, say) has reached the fake Slack by then.
    """
    async with SignedSlackClient(bot.url, SIGNING_SECRET) as slack:
        assert "Logged" in (await slack.command(f"arrest {booking}")).text
    for channel in (JAIL, ICE):
        await fake.wait_for(
            lambda channel=channel: bool(posts_of(fake, channel, booking)),
            timeout=10,
            what=f"the later arrest {booking} posted in {channel}",
        )


async def test_kill_9_then_restart_catches_up_without_doubling(
    tmp_path: Path, config_path: Path, real_time_slack: FakeSlack, processes: Bots
) -> None:
    first = processes.start(tmp_path, config_path, real_time_slack.api_url)
    await first.wait_healthy()
    # The 30m reminder falls due 2 s from now, while the bot is dead.
    arrested = datetime.now(UTC) - timedelta(hours=47, minutes=30) + timedelta(seconds=2)
    async with SignedSlackClient(first.url, SIGNING_SECRET) as slack:
        await slack.command(f"arrest B-200 at {arrested:%Y-%m-%dT%H:%M:%SZ}")
    await real_time_slack.wait_for_posts(2)
    first.kill(signal.SIGKILL)
    await asyncio.sleep(3)  # real time passes the reminder's due time while the bot is dead
    assert len(real_time_slack.posts()) == 2

    second = processes.start(tmp_path, config_path, real_time_slack.api_url)
    restarted = time.monotonic()
    await real_time_slack.wait_for_posts(4, timeout=10)
    assert time.monotonic() - restarted < 5, "restart did not catch up within 5 s"
    await a_later_arrest_is_posted(second, real_time_slack, "B-201")
    for channel in (JAIL, ICE):
        posts = posts_of(real_time_slack, channel, "B-200")
        assert [payload(p)["kind"] for p in posts] == ["logged", "reminder"]
        assert payload(posts[-1])["late"] is True and "Late reminder" in posts[-1]["text"]
    notice_ids = [payload(p)["notice_id"] for p in real_time_slack.posts()]
    assert len(notice_ids) == len(set(notice_ids))


def slack_env(fake: FakeSlack, token: str = BOT_TOKEN) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake.api_url,
    }


async def check(path: Path, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``wso-bot check-config`` in a thread: the fake Slack answers on this event loop."""
    return await asyncio.to_thread(run, wso_bot("check-config", str(path)), cwd, **env)


async def test_unknown_user_group_is_named_by_check_config_but_does_not_stop_serve(
    tmp_path: Path, real_time_slack: FakeSlack, processes: Bots
) -> None:
    real_time_slack.usergroups["S0REAL"] = ["U0AAA"]
    path = tmp_path / "wso.toml"
    path.write_text(
        GOOD_CONFIG
        + '\n[[facility.escalation]]\nnotify = ["S0REAL"]\n'
        + '\n[[facility.escalation]]\nnotify = ["U0SGT", "S0NOPE"]\nafter = "15m"\n'
    )

    offline = await check(path, tmp_path)
    checked = await check(path, tmp_path, **slack_env(real_time_slack))
    bot = processes.start(tmp_path, path, real_time_slack.api_url)
    health = await bot.wait_healthy()

    assert offline.returncode == 0 and "not checked against Slack" in offline.stdout
    assert checked.returncode == 2, checked.stderr
    assert "facility[0].escalation[1].notify[1]" in checked.stderr
    assert "S0NOPE" in checked.stderr and "S0REAL" not in checked.stderr
    assert "OK" not in checked.stdout
    [warning] = health["config_warnings"]
    assert warning.startswith("facility[0].escalation[1].notify[1]: Slack has no user group S0NOPE")
    logged = [line for line in bot.log().splitlines() if "config.unknown_user_group" in line]
    assert len(logged) == 1 and "facility[0].escalation[1].notify[1]" in logged[0]
    assert '"level": "error"' in logged[0]


@pytest.mark.parametrize(
    "error", ["invalid_auth", "not_authed", "account_inactive", "token_revoked"]
)
async def test_check_config_fails_on_a_token_slack_refuses(
    tmp_path: Path, config_path: Path, real_time_slack: FakeSlack, error: str
) -> None:
    if error == "invalid_auth":  # the fake answers a wrong token as Slack does
        env = slack_env(real_time_slack, token="xoxb-not-the-right-token")
    else:
        real_time_slack.fail_next("auth.test", status=200, error=error)
        env = slack_env(real_time_slack)

    result = await check(config_path, tmp_path, **env)

    assert result.returncode == 2
    assert f"Slack refused SLACK_BOT_TOKEN ({error})" in result.stderr
    assert "OAuth & Permissions" in result.stderr
    assert "OK" not in result.stdout
    assert "Traceback" not in result.stderr
    assert [call.method for call in real_time_slack.calls] == ["auth.test"]


async def test_check_config_with_a_good_token_says_whose_it_is(
    tmp_path: Path, config_path: Path, real_time_slack: FakeSlack
) -> None:
    result = await check(config_path, tmp_path, **slack_env(real_time_slack))

    assert result.returncode == 0, result.stderr
    assert "Slack token: OK (workspace Fake, bot user wso-bot)" in result.stdout
    assert len(real_time_slack.calls_to("auth.test")) == 1


async def test_check_config_reports_a_slack_it_cannot_reach_as_not_checked(
    tmp_path: Path, config_path: Path, real_time_slack: FakeSlack
) -> None:
    nothing_listening = f"http://127.0.0.1:{unused_port()}/api/"
    refused = await check(
        config_path, tmp_path, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_URL=nothing_listening
    )
    real_time_slack.set_down(True)
    down = await check(config_path, tmp_path, **slack_env(real_time_slack))

    for result, reason in ((refused, "connect_failed"), (down, "http_503")):
        assert result.returncode == 0, result.stderr
        assert f"Slack token: not checked (Slack could not be reached: {reason})" in result.stdout
        assert "OK" in result.stdout


async def test_check_config_refuses_special_files_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "duty.ics"
    os.mkfifo(fifo)
    calendars = {"fifo": fifo.name, "device": "/dev/zero"}
    results = {}
    for name, ical in calendars.items():
        path = tmp_path / f"{name}.toml"
        path.write_text(
            GOOD_CONFIG
            + 'escalation = [{ notify = ["oncall:duty"] }]\n'
            + f'\n[[schedule]]\nid = "duty"\ntimezone = "UTC"\nical = "{ical}"\n'
        )
        results[name] = await asyncio.to_thread(
            subprocess.run,
            wso_bot("check-config", str(path)),
            cwd=tmp_path,
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=20,
            # Before the fix /dev/zero was read until memory ran out: cap it at 1 GiB.
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (2**30, 2**30)),
        )

    for name, result in results.items():
        assert result.returncode == 2, name
        assert "schedule[0].ical" in result.stderr and "not a regular file" in result.stderr
        assert "Traceback" not in result.stderr


async def test_check_config_names_deep_nesting_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "wso.toml"
    path.write_text("deep = " + "[" * 100_000 + "]" * 100_000 + "\n" + GOOD_CONFIG)

    result = await check(path, tmp_path)

    assert result.returncode == 2
    assert "nested hundreds of levels deep" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("point", ["after_claim", "after_post", "mid_commit"])
async def test_kill_9_at_each_injected_point_delivers_every_notice_exactly_once(
    tmp_path: Path,
    config_path: Path,
    real_time_slack: FakeSlack,
    processes: Bots,
    point: str,
) -> None:
    crashing = processes.start(
        tmp_path, config_path, real_time_slack.api_url, WSO_FAULT_POINT=f"{point}:1"
    )
    await crashing.wait_healthy()
    async with SignedSlackClient(crashing.url, SIGNING_SECRET) as slack:
        try:
            reply = await slack.command("arrest B-300")
            assert "Logged" in reply.text
        except aiohttp.ServerDisconnectedError:
            pass  # killed before the answer went out: the custody was committed before it
    assert await asyncio.to_thread(crashing.process.wait, 10) == -signal.SIGKILL
    crashing.kill()  # closes its log

    restarted = processes.start(tmp_path, config_path, real_time_slack.api_url)
    await restarted.wait_healthy()
    await real_time_slack.wait_for(
        lambda: {m["channel"] for m in real_time_slack.posts()} >= {JAIL, ICE},
        timeout=10,
        what="the logged notice in both channels",
    )
    await a_later_arrest_is_posted(restarted, real_time_slack, "B-301")
    notice_ids = [
        payload(m)["notice_id"]
        for channel in (JAIL, ICE)
        for m in real_time_slack.messages(channel)
        if payload(m)["booking"] == "B-300"
    ]
    assert len(notice_ids) == 2, f"{point}: expected one logged notice per channel"
    assert len(set(notice_ids)) == 2, f"{point}: a notice was posted twice"
    async with SignedSlackClient(restarted.url, SIGNING_SECRET) as slack:
        status = await slack.command("status B-300")
    assert "open" in status.text


def serve_once(workdir: Path, config: Path, api_url: str) -> subprocess.CompletedProcess[str]:
    """``wso-bot serve`` over ``workdir/wso.db``, for a start-up that must be refused."""
    return run(
        wso_bot("serve"),
        workdir,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=api_url,
        WSO_CONFIG=str(config),
        WSO_DB=str(workdir / "wso.db"),
        PORT=str(unused_port()),
        HOST="127.0.0.1",
    )


async def test_a_second_bot_on_the_same_database_is_refused_naming_the_first(
    tmp_path: Path, config_path: Path, real_time_slack: FakeSlack, processes: Bots
) -> None:
    first = processes.start(tmp_path, config_path, real_time_slack.api_url)
    await first.wait_healthy()

    second = await asyncio.to_thread(serve_once, tmp_path, config_path, real_time_slack.api_url)

    db = (tmp_path / "wso.db").resolve()
    assert second.returncode == 2, second.stderr
    assert f"the database {db} is in use by pid {first.process.pid} " in second.stderr
    assert f"lock file {db}.lock" in second.stderr
    assert "Traceback" not in second.stderr
    assert (await first.wait_healthy())["database"] == "ok"  # the first runs on, untouched

    first.kill(signal.SIGKILL)  # the kernel drops a dead holder's lock: a restart just works
    restarted = processes.start(tmp_path, config_path, real_time_slack.api_url)
    assert (await restarted.wait_healthy())["database"] == "ok"


@pytest.mark.parametrize(
    ("damage", "found"),
    [
        pytest.param(
            functools.partial(corrupt_index_page, index=DISPATCHER_INDEX),
            "PRAGMA quick_check found",
            id="index page",
        ),
        pytest.param(corrupt_header, "file is not a database", id="header"),
    ],
)
async def test_serve_refuses_a_damaged_database_and_says_what_to_do(
    tmp_path: Path,
    config_path: Path,
    real_time_slack: FakeSlack,
    processes: Bots,
    damage: Callable[[Path], None],
    found: str,
) -> None:
    bot = processes.start(tmp_path, config_path, real_time_slack.api_url)
    await bot.wait_healthy()
    async with SignedSlackClient(bot.url, SIGNING_SECRET) as slack:
        assert "Logged" in (await slack.command("arrest B-400")).text
    assert bot.kill(signal.SIGTERM) == 0  # a clean stop folds the WAL into wso.db
    damage(tmp_path / "wso.db")

    refused = await asyncio.to_thread(serve_once, tmp_path, config_path, real_time_slack.api_url)

    db = (tmp_path / "wso.db").resolve()
    assert refused.returncode == 2, refused.stderr
    assert f"the database {db} is damaged: {found}" in refused.stderr
    assert "With the bot stopped, restore wso.db from a backup" in refused.stderr
    assert f"sqlite3 {db} 'PRAGMA integrity_check'" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_check_config_without_a_path_checks_the_file_wso_config_names(
    tmp_path: Path, config_path: Path
) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text(GOOD_CONFIG.replace("America/Chicago", "America/Chicgo"))

    named = run(wso_bot("check-config"), tmp_path, WSO_CONFIG=str(config_path))
    named_broken = run(wso_bot("check-config"), tmp_path, WSO_CONFIG=str(broken))

    assert named.returncode == 0, named.stderr
    assert f"{config_path}: OK" in named.stdout
    assert named_broken.returncode == 2
    assert f"{broken}: facility[0].timezone" in named_broken.stderr


async def test_log_level_from_the_environment_filters_the_log(
    tmp_path: Path, real_time_slack: FakeSlack, processes: list[BotProcess]
) -> None:
    path = tmp_path / "wso.toml"
    path.write_text(GOOD_CONFIG + '\n[[facility.escalation]]\nnotify = ["S0NOPE"]\n')
    bot = BotProcess(tmp_path, path, real_time_slack.api_url, LOG_LEVEL="warning")
    processes.append(bot)
    await bot.wait_healthy()
    assert bot.kill(signal.SIGTERM) == 0  # stopped cleanly: its log is complete

    records = [json.loads(line) for line in bot.log().splitlines() if line.startswith("{")]
    levels = [record["level"] for record in records]
    events = [record["event"] for record in records]
    assert "config.unknown_user_group" in events  # an error: logged at WARNING
    assert "info" not in levels  # service.started, service.stopped: not logged
