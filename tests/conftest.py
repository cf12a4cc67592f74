"""Shared fixtures: a fake clock, a real SQLite file, the fake Slack, and the real service."""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.app import WsoService
from bot.config import Config, Settings, parse_config
from bot.core.facility import Facility
from bot.core.model import CUSTODY_WINDOW, AuditEntry, Custody
from bot.services.clock import FakeClock
from storage.sqlite_store import SqliteCustodyStore
from tests.fakes.signed_requests import SignedSlackClient
from tests.fakes.slack import FakeSlack

BOT_TOKEN = "xoxb-test-token"
SIGNING_SECRET = "test-signing-secret"
OFFICER = "U0AAA"
OTHER_OFFICER = "U0BBB"
DESK_STAFF = "U0DESK"
STRANGER = "U0NOBODY"
JAIL = "C0JAIL"
ICE = "C0ICE"
# Saturday 2026-11-28 14:00 in Chicago (CST, UTC-6).
START = datetime(2026, 11, 28, 20, 0, tzinfo=UTC)
# The unit tables' custody: arrested at START, its window ending Monday 14:00 CST.
ARRESTED = START
DEADLINE = ARRESTED + CUSTODY_WINDOW


def config_document(**overrides: Any) -> dict[str, Any]:
    facility: dict[str, Any] = {
        "id": "county-jail",
        "name": "County Jail",
        "timezone": "America/Chicago",
        "jail_channel": JAIL,
        "ice_channel": ICE,
        "officers": [OFFICER, OTHER_OFFICER],
        "staff": [DESK_STAFF],
        "escalation": [{"notify": ["U0SGT"], "after": "0s"}],
    }
    facility.update(overrides)
    return {"reminders": {"before": ["24h", "12h", "4h", "1h", "30m"]}, "facility": [facility]}


def north_annex(**overrides: Any) -> dict[str, Any]:
    """The second facility of the two-facility tests: its own zone and channels."""
    facility: dict[str, Any] = {
        "id": "north-annex",
        "name": "North Annex",
        "timezone": "America/New_York",
        "jail_channel": "C0NJAIL",
        "ice_channel": "C0NICE",
        "officers": [OFFICER, "U0NORTH"],
    }
    facility.update(overrides)
    return facility


def two_facility_document() -> dict[str, Any]:
    document = config_document()
    document["facility"].append(north_annex())
    return document


# The first facility as a config file says it, for tests that write one (processes, paths).
COUNTY_JAIL_TOML = """\
[[facility]]
id = "county-jail"
name = "County Jail"
timezone = "America/Chicago"
jail_channel = "C0JAIL"
ice_channel = "C0ICE"
officers = ["U0AAA"]
"""


def custody(arrested: datetime = START, /, **overrides: Any) -> Custody:
    """A County Jail custody arrested (and logged) at ``arrested``: plain values."""
    values: dict[str, Any] = {
        "id": "c_1",
        "facility_id": "county-jail",
        "booking": "B-1",
        "arrested_at": arrested,
        "deadline": arrested + CUSTODY_WINDOW,
        "logged_by": OFFICER,
        "logged_at": arrested,
    }
    values.update(overrides)
    return Custody(**values)


def county_jail(**overrides: Any) -> Facility:
    """The first facility as the core sees it (plain values, no config file)."""
    values: dict[str, Any] = {
        "id": "county-jail",
        "name": "County Jail",
        "timezone_name": "America/Chicago",
        "jail_channel": JAIL,
        "ice_channel": ICE,
        "officers": frozenset({OFFICER}),
    }
    values.update(overrides)
    return Facility(**values)


def actions_by_people(trail: list[AuditEntry]) -> list[str]:
    """The actions of an audit trail that people took (the bot's own, such as each notice
    it sent, left out)."""
    return [entry.action for entry in trail if entry.actor != "system"]


REPO = Path(__file__).resolve().parent.parent
INDEX_PROBE_SECONDS = 5


@functools.cache
def package_index_unreachable() -> str | None:
    """Why pip cannot fetch this project's build requirements now, or None if it can.

    Asks pip itself (its configured index, extra indexes and local wheels), for the
    very packages an isolated build fetches, with a short timeout and no retries.
    """
    requires = tomllib.loads((REPO / "pyproject.toml").read_text())["build-system"]["requires"]
    pip = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    patience = ["--retries", "0", "--timeout", str(INDEX_PROBE_SECONDS)]
    with tempfile.TemporaryDirectory() as scratch:
        try:
            probe = subprocess.run(
                [*pip, *patience, "-d", scratch, *requires],
                capture_output=True,
                text=True,
                timeout=INDEX_PROBE_SECONDS * 4,
            )
        except subprocess.TimeoutExpired:
            return f"pip could not fetch {', '.join(requires)} in time"
    if probe.returncode != 0:
        said = [line for line in (probe.stdout + probe.stderr).splitlines() if line.strip()]
        where = next((line for line in said if line.startswith("Looking in")), "")
        return f"pip could not fetch {', '.join(requires)}: {said[-1] if said else ''} {where}"
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("needs_index") is not None:
        why = package_index_unreachable()
        if why is not None:
            pytest.skip(f"needs the package index, which cannot be reached: {why}")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def config() -> Config:
    return parse_config(config_document(), source="test")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "wso.db"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[SqliteCustodyStore]:
    opened = SqliteCustodyStore(db_path)
    await opened.open()
    yield opened
    await opened.close()


class SmallDisk:
    """A 2 MiB filesystem of its own (tmpfs), which ``full()`` fills up for real."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextlib.contextmanager
    def full(self) -> Iterator[None]:
        """No byte free until the block ends: writes fail with ENOSPC, as on a full disk."""
        filler = self.path / "filler"
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        try:
            chunk = 1 << 16
            while chunk:
                try:
                    os.write(fd, bytes(chunk))
                except OSError as error:
                    if error.errno != errno.ENOSPC:
                        raise
                    chunk //= 2
        finally:
            os.close(fd)
        try:
            yield
        finally:
            filler.unlink()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[SmallDisk]:
    """A real disk-full, not a patched error: SQLite's own ENOSPC path, as production sees it.

    Mounting a tmpfs needs root (CAP_SYS_ADMIN). CI runs the suite as root; where
    mounting is not allowed, the tests that need it are skipped and say why.
    """
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    try:
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=2m,mode=0755", "tmpfs", str(mount_point)],
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        pytest.skip("mounting a small tmpfs needs the mount command (util-linux) and root")
    if mounted.returncode != 0:
        pytest.skip(f"mounting a small tmpfs needs root: {mounted.stderr.strip()}")
    try:
        yield SmallDisk(mount_point)
    finally:
        # Lazy: a test that failed half-way may still hold a file open in it.
        subprocess.run(["umount", "--lazy", str(mount_point)], check=True)


@pytest.fixture
async def fake_slack(clock: FakeClock) -> AsyncIterator[FakeSlack]:
    async with FakeSlack(token=BOT_TOKEN, wall_time=lambda: clock.now().timestamp()) as slack:
        yield slack


def make_settings(fake_slack: FakeSlack, db_path: Path) -> Settings:
    return Settings(
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake_slack.api_url,
        db_path=db_path,
        host="127.0.0.1",
        port=0,
    )


@pytest.fixture
async def service(
    fake_slack: FakeSlack, db_path: Path, config: Config, clock: FakeClock
) -> AsyncIterator[WsoService]:
    running = WsoService(make_settings(fake_slack, db_path), config, clock=clock)
    await running.start(host="127.0.0.1", port=0)
    yield running
    await running.stop()


StartService = Callable[..., Awaitable[tuple[WsoService, SignedSlackClient]]]


@pytest.fixture
async def start_service(
    fake_slack: FakeSlack, db_path: Path, config: Config, clock: FakeClock
) -> AsyncIterator[StartService]:
    """Start (and later stop) services over one database file, as restarts do.

    ``await start_service()`` uses the test's config; ``start_service(config=...)`` another,
    ``settings=`` other settings (say, a PagerDuty URL), and ``store=`` a store of its own.
    """
    started: list[WsoService] = []
    clients: list[SignedSlackClient] = []

    async def start(
        *,
        config: Config = config,
        settings: Settings | None = None,
        store: SqliteCustodyStore | None = None,
    ) -> tuple[WsoService, SignedSlackClient]:
        settings = settings or make_settings(fake_slack, db_path)
        service = WsoService(settings, config, clock=clock, store=store)
        await service.start(host="127.0.0.1", port=0)
        started.append(service)
        client = SignedSlackClient(f"http://127.0.0.1:{service.port}", SIGNING_SECRET)
        await client.__aenter__()
        clients.append(client)
        return service, client

    yield start
    for client in clients:
        await client.__aexit__(None, None, None)
    for service in started:
        if service.dispatcher.is_running:
            await service.stop()


@pytest.fixture
async def slack(service: WsoService) -> AsyncIterator[SignedSlackClient]:
    """Sends signed requests to the running service, as Slack does."""
    async with SignedSlackClient(f"http://127.0.0.1:{service.port}", SIGNING_SECRET) as client:
        yield client
