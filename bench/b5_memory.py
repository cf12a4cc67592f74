"""B5: resident memory of ``wso-bot serve``, idle and with 100k open custodies.

RSS is ``VmRSS`` from ``/proc/<pid>/status`` of the bot process, read after
it answered ``/healthz`` and settled for a few seconds. "Idle" is a fresh
database; "loaded" is the B2 data set (100k open custodies, ~500k pending
notices), after ``/healthz`` (which counts the open custodies) and a
``/wso list`` have touched it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from bench import dataset
from bench.common import (
    JAIL,
    OFFICER,
    SIGNING_SECRET,
    BotProcess,
    FakeSlackProcess,
    RunResult,
    at_most,
    end_run,
    rss_mb,
    workdir,
)
from tests.fakes.signed_requests import SignedSlackClient

NAME = "B5"
TITLE = "memory (RSS)"
DEFAULT_RUNS = 3
PROFILES = False
SETTLE_SECONDS = 3.0


def sizes(quick: bool) -> int:
    return 10_000 if quick else 100_000


async def _rss_after_start(tmp: Path, config: Path, db: Path, api_url: str) -> float:
    bot = BotProcess(tmp, config, db, api_url)
    try:
        await bot.wait_healthy(60)
        async with SignedSlackClient(bot.url, SIGNING_SECRET) as slack:
            reply = await slack.command("list", user_id=OFFICER, channel_id=JAIL)
            if reply.status != 200:
                raise RuntimeError(f"/wso list answered {reply.status}")
            await slack.get_json("/healthz")
        await asyncio.sleep(SETTLE_SECONDS)
        return rss_mb(bot.pid)
    finally:
        bot.kill9()


async def run(quick: bool, profile_dir: Path | None = None) -> RunResult:
    custodies = sizes(quick)
    result = RunResult()
    template, _ = await dataset.template(custodies)
    with workdir("b5") as tmp:
        config = tmp / "wso.toml"
        config.write_text(dataset.TEMPLATE_TOML)
        fake = FakeSlackProcess(tmp)
        try:
            idle = await _rss_after_start(tmp, config, tmp / "empty.db", fake.api_url)
            loaded_db = tmp / "loaded.db"
            dataset.copy_db(template, loaded_db)
            loaded = await _rss_after_start(tmp, config, loaded_db, fake.api_url)
        finally:
            await end_run(None, fake)
    result.add("idle RSS", idle, "MB", at_most(80))
    result.add(f"RSS with {custodies // 1000}k open custodies", loaded, "MB")
    result.add("RSS growth with the data set", loaded - idle, "MB", at_most(25))
    return result
