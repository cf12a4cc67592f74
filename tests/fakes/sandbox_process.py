"""``wso-bot sandbox`` as a real process, as a user starts it (the console script)."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path
from typing import Any

from tests.fakes.process import clean_env, first_answer, wso_bot
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
        return await first_answer(
            f"{self.url}/state", self.process, self.log, within_seconds, what="ready"
        )

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
