"""``wso-bot`` as a real process, as a user runs it: the console script and a clean environment.

The process tests use the real clock (a process cannot share a fake one) and the
fake Slack on the wall clock (the ``real_time_slack`` fixture in
``tests/process/conftest.py``).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from tests.conftest import BOT_TOKEN, SIGNING_SECRET
from tests.fakes.server import unused_port

WSO_BOT = Path(sys.executable).with_name("wso-bot")


def wso_bot(*args: str) -> list[str]:
    """The installed console script, as a user runs it."""
    assert WSO_BOT.exists(), f"console script missing at {WSO_BOT}: is the package installed?"
    return [str(WSO_BOT), *args]


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without the bot's settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "WSO_"))}
    env.pop("PORT", None)
    env.update(extra)
    return env


def run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, env=clean_env(**env), capture_output=True, text=True, timeout=60
    )


async def first_answer(
    url: str,
    process: subprocess.Popen[bytes],
    log: Callable[[], str],
    within_seconds: float,
    *,
    what: str,
) -> dict[str, Any]:
    """The JSON of ``url``'s first 200 answer, from a process that is starting up.

    Fails with the process's output if it exits first or does not answer in time.
    """
    deadline = time.monotonic() + within_seconds
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            assert process.poll() is None, f"the process exited during start-up:\n{log()}"
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        body: dict[str, Any] = await response.json()
                        return body
            except aiohttp.ClientConnectionError:
                pass
            # A real process starting up: there is no event to wait on but its port.
            await asyncio.sleep(0.05)
    raise AssertionError(f"{url} did not become {what} within {within_seconds} s:\n{log()}")


def serve_refused(config: Path, workdir: Path) -> subprocess.CompletedProcess[str]:
    """``wso-bot serve`` with stand-in credentials over ``workdir/wso.db``, for a config it
    must refuse: it exits (a good config would leave it serving until the timeout)."""
    return run(
        wso_bot("serve"),
        workdir,
        SLACK_BOT_TOKEN="xoxb-x",
        SLACK_SIGNING_SECRET="s",
        WSO_CONFIG=str(config),
        WSO_DB=str(workdir / "wso.db"),
        PORT=str(unused_port()),
    )


class BotProcess:
    """One ``wso-bot serve`` process against the fake Slack, over ``workdir/wso.db``."""

    def __init__(self, workdir: Path, config: Path, api_url: str, **extra_env: str) -> None:
        self.port = unused_port()
        self.log_path = workdir / f"bot-{self.port}.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in kill()
        self.process = subprocess.Popen(
            wso_bot("serve"),
            cwd=workdir,
            env=clean_env(
                **{
                    "SLACK_BOT_TOKEN": BOT_TOKEN,
                    "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                    "SLACK_API_URL": api_url,
                    "WSO_CONFIG": str(config),
                    "WSO_DB": str(workdir / "wso.db"),
                    "PORT": str(self.port),
                    "HOST": "127.0.0.1",
                    **extra_env,  # may override any of these (say, a blank secret)
                }
            ),
            stdout=subprocess.DEVNULL,
            stderr=self._log,
        )
        self.url = f"http://127.0.0.1:{self.port}"

    async def wait_healthy(self, within_seconds: float = 20.0) -> dict[str, Any]:
        return await first_answer(
            f"{self.url}/healthz", self.process, self.log, within_seconds, what="healthy"
        )

    def kill(self, sig: int = signal.SIGKILL) -> int:
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=15)
        finally:
            self._log.close()

    def log(self) -> str:
        return self.log_path.read_text()


class Bots(list[BotProcess]):
    """The bots a test started (the ``processes`` fixture): killed at its end if still running."""

    def start(self, workdir: Path, config: Path, api_url: str, **extra_env: str) -> BotProcess:
        bot = BotProcess(workdir, config, api_url, **extra_env)
        self.append(bot)
        return bot

    def kill_running(self) -> None:
        for bot in self:
            if bot.process.poll() is None:
                bot.kill()
