"""What every benchmark needs: processes, the fake Slack, results, machine facts.

Processes are started with ``PR_SET_PDEATHSIG`` = SIGKILL, so none outlives
the benchmark even if it is killed itself; each is also ended explicitly.
The bot runs on core 0 (``taskset -c 0``), the fake Slack and the benchmark
itself on core 1, when the machine has two cores.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import math
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp

from bench.figures import percentile as percentile  # the benchmarks import it from here
from bot.core.model import Notice
from storage.sqlite import DatabaseReader
from tests.fakes.server import unused_port

REPO = Path(__file__).resolve().parent.parent
PYTHON = Path(sys.executable)
WSO_BOT = PYTHON.with_name("wso-bot")
BOT_TOKEN = "xoxb-bench-token"
SIGNING_SECRET = "bench-signing-secret"
OFFICER = "U0BENCH"
SERGEANT = "U0SGT"
JAIL = "C0JAIL"
ICE = "C0ICE"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PR_SET_PDEATHSIG = 1

BOT_CORE = 0
LOAD_CORE = 1


# --- machine -----------------------------------------------------------------------


# Read once at import, before the benchmark pins itself to the load core.
_INITIAL_CORES = sorted(os.sched_getaffinity(0))


def usable_cores() -> list[int]:
    return list(_INITIAL_CORES)


def can_pin() -> bool:
    cores = usable_cores()
    return BOT_CORE in cores and LOAD_CORE in cores


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def machine_summary() -> str:
    return (
        f"machine: {os.cpu_count()} cores ({len(usable_cores())} usable), CPU {cpu_model()}, "
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{platform.system()} {platform.release()}; bot pinned to core {BOT_CORE}, "
        f"load generator + fake Slack to core {LOAD_CORE}: {'yes' if can_pin() else 'no'}"
    )


def pin_self_to_load_core() -> None:
    if can_pin():
        os.sched_setaffinity(0, {LOAD_CORE})


# --- results -----------------------------------------------------------------------


@dataclass(frozen=True)
class Goal:
    op: str  # "<=" or ">="
    target: float
    text: str

    def met(self, value: float) -> bool:
        if math.isnan(value):
            return False
        return value <= self.target if self.op == "<=" else value >= self.target


def at_most(target: float, text: str | None = None) -> Goal:
    return Goal("<=", target, text or f"<= {target:g}")


def at_least(target: float, text: str | None = None) -> Goal:
    return Goal(">=", target, text or f">= {target:g}")


@dataclass
class Measurement:
    metric: str
    value: float
    unit: str = ""
    goal: Goal | None = None


@dataclass
class RunResult:
    measurements: list[Measurement] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    profile: list[str] = field(default_factory=list)  # a py-spy summary, when one was taken

    def add(self, metric: str, value: float, unit: str = "", goal: Goal | None = None) -> None:
        self.measurements.append(Measurement(metric, float(value), unit, goal))

    def note(self, text: str) -> None:
        self.notes.append(text)


def by_kind_summary(by_kind: dict[str, list[float]]) -> str:
    """Each kind's ``kind (n, p50, max)``, for a note on lateness in ms."""
    return ", ".join(
        f"{kind} ({len(v)}, {percentile(v, 50):.0f}, {max(v):.0f})"
        for kind, v in sorted(by_kind.items())
    )


# --- processes ---------------------------------------------------------------------

_LIVE: list[subprocess.Popen[Any]] = []


def _child_setup(core: int | None) -> Callable[[], None]:
    libc = ctypes.CDLL(None, use_errno=True)

    def setup() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if core is not None and can_pin():
            os.sched_setaffinity(0, {core})

    return setup


def spawn(
    args: Sequence[str],
    *,
    core: int | None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    stdout: Any = subprocess.DEVNULL,
    stderr: Any = subprocess.DEVNULL,
) -> subprocess.Popen[Any]:
    """Start a child that dies with us; on ``core`` (``taskset -c`` when available)."""
    command = list(args)
    if core is not None and can_pin() and shutil.which("taskset"):
        command = ["taskset", "-c", str(core), *command]
    process = subprocess.Popen(
        command,
        env=env,
        cwd=cwd,
        stdout=stdout,
        stderr=stderr,
        preexec_fn=_child_setup(core),
    )
    _LIVE.append(process)
    return process


def end_process(process: subprocess.Popen[Any], sig: int = signal.SIGKILL) -> int | None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(sig)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    with contextlib.suppress(ValueError):
        _LIVE.remove(process)
    return process.returncode


def end_all_processes() -> None:
    for process in list(_LIVE):
        end_process(process)


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds (from /proc/<pid>/stat)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return math.nan


# --- configs -----------------------------------------------------------------------


def facility_toml(
    *,
    reminders: Iterable[str] = ("24h", "12h", "4h", "1h", "30m"),
    ice_channel: str = ICE,
    escalation: Sequence[tuple[str, str]] = (),
) -> str:
    """A config with one facility whose only officer is ``OFFICER``."""
    return facilities_toml(
        1, reminders=reminders, shared_channel=ice_channel == JAIL, escalation=escalation
    )


def facility_ids(count: int) -> list[str]:
    return ["county-jail"] if count == 1 else [f"fac-{i:03d}" for i in range(count)]


def facilities_toml(
    count: int,
    *,
    reminders: Iterable[str] = ("24h", "12h", "4h", "1h", "30m"),
    shared_channel: bool = False,
    escalation: Sequence[tuple[str, str]] = (),
    officers: Sequence[str] = (OFFICER,),
) -> str:
    """``count`` facilities, each with its own channels; ``OFFICER`` is the officer of each.

    One facility uses ``JAIL``/``ICE``; more get ``C0JAIL000``/``C0ICE000``, … An
    escalation user or officer containing ``{n}`` becomes one user per facility
    (``U0SGT{n}``).
    """
    before = ", ".join(f'"{r}"' for r in reminders)
    text = f"[reminders]\nbefore = [{before}]\n"
    for index, facility_id in enumerate(facility_ids(count)):
        suffix = "" if count == 1 else f"{index:03d}"
        jail = f"{JAIL}{suffix}"
        ice = jail if shared_channel else f"{ICE}{suffix}"
        officer_list = ", ".join(f'"{officer.replace("{n}", suffix)}"' for officer in officers)
        text += f"""
[[facility]]
id = "{facility_id}"
name = "Facility {facility_id}"
timezone = "America/Chicago"
jail_channel = "{jail}"
ice_channel = "{ice}"
officers = [{officer_list}]
"""
        for user, after in escalation:
            who = user.replace("{n}", suffix)
            text += f'\n[[facility.escalation]]\nnotify = ["{who}"]\nafter = "{after}"\n'
    return text


def load_config(path: Path) -> Any:
    from bot.config import load_config as load

    return load(path)


# --- the fake Slack ----------------------------------------------------------------


class FakeSlackProcess:
    """``bench.fake_slack_proc`` on the load core, and a client for its extra methods."""

    def __init__(self, workdir: Path, latency: float = 0.0) -> None:
        self.log_path = workdir / "fake-slack.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = spawn(
            [str(PYTHON), "-m", "bench.fake_slack_proc", "--latency", str(latency)],
            core=LOAD_CORE,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=self._log,
        )
        assert self.process.stdout is not None
        deadline = time.monotonic() + 30
        line = ""
        while time.monotonic() < deadline and not line.startswith("PORT "):
            line = self.process.stdout.readline().decode()
            if not line and self.process.poll() is not None:
                break
        if not line.startswith("PORT "):
            self.stop()
            raise RuntimeError(f"fake Slack did not start: {self.log_path.read_text()[-2000:]}")
        self.port = int(line.split()[1])
        self.api_url = f"http://127.0.0.1:{self.port}/api/"
        self._session: aiohttp.ClientSession | None = None
        self._since = 0
        self.rows: list[list[Any]] = []

    @property
    def pid(self) -> int:
        return self.process.pid

    async def _get(self, method: str, **params: Any) -> dict[str, Any]:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        async with self._session.get(f"{self.api_url}{method}", params=params) as response:
            body: dict[str, Any] = await response.json()
            return body

    async def poll_posts(self) -> list[list[Any]]:
        """New post rows since the last poll: [notice_id, kind, channel, arrived, ts]."""
        body = await self._get("bench.posts", since=self._since)
        new: list[list[Any]] = body["posts"]
        self._since = int(body["next"])
        self.rows.extend(new)
        return new

    def first_arrivals(self) -> dict[str, float]:
        """When each notice id first reached the fake (wall clock), from the rows polled."""
        arrived: dict[str, float] = {}
        for notice_id, _kind, _channel, when, _ts in self.rows:
            arrived.setdefault(str(notice_id), float(when))
        return arrived

    async def stats(self) -> dict[str, Any]:
        return await self._get("bench.stats")

    async def set_latency(self, seconds: float) -> None:
        await self._get("bench.latency", value=seconds)

    async def outage(self, channel: str, seconds: float, shapes: Sequence[str]) -> dict[str, Any]:
        """Every call naming ``channel`` fails for ``seconds``, in each shape in turn."""
        body = await self._get(
            "bench.outage", channel=channel, seconds=seconds, shape=",".join(shapes)
        )
        if not body.get("ok"):
            raise RuntimeError(f"bench.outage refused: {body}")
        return body

    async def history(self, channel: str) -> list[list[Any]]:
        """[notice_id, kind, ts] of each message in ``channel``'s history, oldest first."""
        body = await self._get("bench.history", channel=channel)
        messages: list[list[Any]] = body["messages"]
        return messages

    async def scheduled(self, channel: str) -> list[dict[str, Any]]:
        body = await self._get("bench.scheduled", channel=channel)
        scheduled: list[dict[str, Any]] = body["scheduled"]
        return scheduled

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def stop(self) -> None:
        end_process(self.process, signal.SIGTERM)
        self._log.close()


# --- the bot -----------------------------------------------------------------------


class ServedProcess:
    """A server on the bot core (``taskset -c 0``), on a port of its own, logging to a file."""

    def __init__(self, workdir: Path, name: str) -> None:
        self.port = unused_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"{name}-{self.port}.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()

    def _spawn(self, args: Sequence[str], env: dict[str, str], cwd: Path) -> None:
        self.process = spawn(args, core=BOT_CORE, env=env, cwd=cwd, stderr=self._log)

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> int | None:
        code = end_process(self.process, signal.SIGTERM)
        self._log.close()
        return code

    def log_tail(self, chars: int = 3000) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text()[-chars:]
        return ""


def environment_without_slack_or_wso() -> dict[str, str]:
    """This process's environment less what configures the bot (each server sets its own)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "WSO_"))}


class BotProcess(ServedProcess):
    """``wso-bot serve`` on the bot core."""

    def __init__(
        self,
        workdir: Path,
        config: Path,
        db: Path,
        api_url: str,
        *,
        extra_env: dict[str, str] | None = None,
        log_level: str = "INFO",
    ) -> None:
        super().__init__(workdir, "bot")
        env = environment_without_slack_or_wso()
        env.update(
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=api_url,
            WSO_CONFIG=str(config),
            WSO_DB=str(db),
            PORT=str(self.port),
            HOST="127.0.0.1",
            LOG_LEVEL=log_level,
            PAGERDUTY_EVENTS_URL="http://127.0.0.1:9/",  # never used: no routing key configured
        )
        env.update(extra_env or {})
        self.started_wall = time.time()
        self.started = time.monotonic()
        self._spawn([str(WSO_BOT), "serve"], env, workdir)

    async def wait_healthy(self, within: float = 30.0) -> dict[str, Any]:
        """Wait until ``/healthz`` says the database and the dispatcher are up."""
        deadline = time.monotonic() + within
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"wso-bot exited during start-up:\n{self.log_tail()}")
                with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError, ValueError):
                    async with session.get(f"{self.url}/healthz") as response:
                        body: dict[str, Any] = await response.json(content_type=None)
                        # 503 with the database and dispatcher up means "up, but behind".
                        if response.status == 200 or (
                            body.get("database") == "ok" and body.get("dispatcher") == "running"
                        ):
                            return body
                await asyncio.sleep(0.02)
        raise RuntimeError(f"wso-bot did not become healthy in {within:.0f} s:\n{self.log_tail()}")

    async def health(self) -> dict[str, Any]:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session,
            session.get(f"{self.url}/healthz") as response,
        ):
            body: dict[str, Any] = await response.json(content_type=None)
            return body

    def kill9(self) -> None:
        end_process(self.process, signal.SIGKILL)
        self._log.close()

    def log_events(self) -> Counter[str]:
        events: Counter[str] = Counter()
        with contextlib.suppress(OSError):
            for line in self.log_path.read_text().splitlines():
                with contextlib.suppress(ValueError):
                    entry = json.loads(line)
                    events[f"{entry.get('level')}:{entry.get('event')}"] += 1
        return events


async def end_run(bot: BotProcess | None, fake: FakeSlackProcess) -> None:
    """After a run, or a run cut short: kill the bot if it still runs, then stop the fake."""
    if bot is not None:
        bot.kill9()
    await fake.close()
    fake.stop()


def bot_mentions(pattern: str) -> bool:
    """Whether the bot's source matches a regex (to detect optional hooks and features)."""
    compiled = re.compile(pattern, re.IGNORECASE)
    for path in (REPO / "bot").rglob("*.py"):
        with contextlib.suppress(OSError):
            if compiled.search(path.read_text()):
                return True
    return False


# --- the database, read beside the bot (read-only, through the store's reader) -------


def read_notices(db: Path) -> list[Notice]:
    return DatabaseReader(db).notices()


def count_unsettled(db: Path, due_until: datetime) -> int:
    """Notices due by ``due_until`` still pending or in flight."""
    return DatabaseReader(db).count_unsent_due(due_until)


# --- profiling ---------------------------------------------------------------------


def py_spy() -> str | None:
    for candidate in (
        shutil.which("py-spy"),
        str(PYTHON.with_name("py-spy")),
        "/tmp/benchtools/bin/py-spy",
    ):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def start_profile(pid: int, seconds: float, out: Path) -> subprocess.Popen[Any] | None:
    """py-spy record of ``pid`` (collapsed stacks) on the load core; None without py-spy."""
    tool = py_spy()
    if tool is None:
        return None
    return spawn(
        [
            tool,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(max(1, int(seconds))),
            "--rate",
            "250",
            "--format",
            "raw",
            "--nonblocking",
            "--threads",
            "--output",
            str(out),
        ],
        core=LOAD_CORE,
    )


def summarize_profile(path: Path, top: int = 12) -> list[str]:
    """Top functions by own and by inclusive samples from py-spy's collapsed stacks."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    total = 0
    with contextlib.suppress(OSError):
        for line in path.read_text().splitlines():
            stack, _, count_text = line.rpartition(" ")
            if not stack or not count_text.isdigit():
                continue
            count = int(count_text)
            frames = [_short_frame(f) for f in stack.split(";")]
            if frames and frames[0].startswith("thread "):
                threads[_thread_name(frames)] += count
                frames = frames[1:]
            if not frames:
                continue
            total += count
            own[frames[-1]] += count
            for frame in set(frames):
                inclusive[frame] += count
    if total == 0:
        return ["profile: no samples"]
    lines = [f"profile: {total} samples (busy threads only); by thread:"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in threads.most_common(4)]
    lines.append("top by own time (C calls count for the Python function that made them):")
    lines += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in own.most_common(top)]
    lines.append("top by inclusive time (in the bot's packages):")
    ours = [
        (frame, n)
        for frame, n in inclusive.most_common()
        if any(part in frame for part in ("bot/", "storage/", "handlers/"))
    ]
    lines += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in ours[:top]]
    return lines


def _thread_name(frames: list[str]) -> str:
    """Name a thread by its outermost Python function (the event loop or a worker)."""
    for frame in frames[1:]:
        if "_connection_worker_thread" in frame:
            return "aiosqlite worker thread (SQLite calls, incl. fsync)"
    return "main thread (event loop)" if any("run_forever" in f for f in frames) else frames[-1]


def _short_frame(frame: str) -> str:
    # py-spy: "function (path/to/file.py:line)"
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    path, _, _line = where.rpartition(":")
    for marker in ("site-packages/", "/lib/python3", str(REPO) + "/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{name} ({path})"


# --- temp dirs ---------------------------------------------------------------------


@contextlib.contextmanager
def workdir(prefix: str) -> Any:
    """A temporary directory on the real disk (not tmpfs: fsync costs what it costs)."""
    path = Path(tempfile.mkdtemp(prefix=f"wso-bench-{prefix}-"))
    try:
        yield path
    finally:
        if os.environ.get("WSO_BENCH_KEEP"):  # keep logs and database to look into
            print(f"[{prefix}] kept {path}", file=sys.stderr)
        else:
            shutil.rmtree(path, ignore_errors=True)
