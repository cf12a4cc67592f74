"""The floor (``bench.floor_app``) as a process of its own, on the bot's core.

It is started, pinned and ended like ``BotProcess`` (``taskset -c 0``, dies with the
benchmark), so that the same load generator, on the other core, can hit either.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import aiohttp

from bench.common import (
    PYTHON,
    REPO,
    SIGNING_SECRET,
    ServedProcess,
    environment_without_slack_or_wso,
)


class FloorProcess(ServedProcess):
    """``python -m bench.floor_app`` on the bot core, with a database of its own."""

    def __init__(self, workdir: Path, db: Path) -> None:
        super().__init__(workdir, "floor")
        env = environment_without_slack_or_wso()
        env["SLACK_SIGNING_SECRET"] = SIGNING_SECRET
        args = [str(PYTHON), "-m", "bench.floor_app", "--port", str(self.port), "--db", str(db)]
        self._spawn(args, env, REPO)

    async def wait_healthy(self, within: float = 30.0) -> None:
        """Wait until it answers ``/healthz``: it listens, its database is open."""
        deadline = time.monotonic() + within
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"the floor exited during start-up:\n{self.log_tail()}")
                with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
                    async with session.get(f"{self.url}/healthz") as response:
                        if response.status == 200:
                            return
                await asyncio.sleep(0.02)
        raise RuntimeError(f"the floor did not answer in {within:.0f} s:\n{self.log_tail()}")
