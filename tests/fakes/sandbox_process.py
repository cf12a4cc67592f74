"""``wso-bot sandbox`` as a real process, as a user starts it (the console script)."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import aiohttp

from tests.fakes.process import clean_env, wso_bot
from tests.fakes.server import unused_port


class SandboxProcess:
    """``wso-bot sandbox --port N [args]`` in ``workdir``; its terminal output in a log file."""

    def __init__(self, workdir: Path, *args: str, port: int | None = None, **env: str) -> None:
        self.port = port or unused_port()
        self.workdir = workdir
        self.log_path = workdir / f"sandbox-{self.port}.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            wso_bot("sandbox", "--port", str(self.port), *args),
            cwd=workdir,
            env=clean_env(**env),
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.url = f"http://127.0.0.1:{self.port}/sandbox"

    async def wait_ready(self, within_seconds: float = 30.0) -> dict[str, Any]:
        """The page's screen, once the sandbox answers; fails with its output if it exits."""
        deadline = time.monotonic() + within_seconds
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                assert self.process.poll() is None, f"the sandbox exited:\n{self.log()}"
                try:
                    async with session.get(f"{self.url}/state") as response:
                        if response.status == 200:
                            screen: dict[str, Any] = await response.json()
                            return screen
                except aiohttp.ClientConnectionError:
                    pass
                await asyncio.sleep(0.05)  # a process starting: nothing to wait on but its port
        raise AssertionError(f"the sandbox did not answer within {within_seconds} s:\n{self.log()}")

    def stop(self) -> int:
        """Ctrl-C, as a person stops it; returns its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=20)
        finally:
            self._log.close()

    def log(self) -> str:
        return self.log_path.read_text()
