"""``/healthz`` tells the truth about the database: a full disk, a deleted file, damage.

Each fault is real (a full filesystem, a file unlinked under the running bot,
a corrupt page on disk), and the answer is read from the real endpoint.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.app import WsoService
from bot.config import Config
from bot.services.clock import FakeClock
from storage.sqlite_store import SqliteCustodyStore
from tests.conftest import START, SmallDisk, StartService, make_settings
from tests.fakes.damaged_db import AUDIT_INDEX, corrupt_index_page
from tests.fakes.signed_requests import SignedSlackClient, SlackReply
from tests.fakes.slack import FakeSlack
from tests.fakes.waiting import eventually

UNRECORDED = "may not have been recorded"


@pytest.fixture
def db_file(db_path: Path) -> Path:
    """The database path as the bot names it (symlinks resolved)."""
    return db_path.resolve()


async def health_when(
    slack: SignedSlackClient, condition: Callable[[dict[str, Any]], bool]
) -> SlackReply:
    """The first ``/healthz`` answer that meets ``condition`` (within 10 s)."""
    return await eventually(
        lambda: slack.get_json("/healthz"), lambda h: condition(h.json), "/healthz", timeout=10
    )


async def test_healthz_names_a_failed_write_at_once_and_clears_after_the_next(
    fake_slack: FakeSlack, start_service: StartService, small_disk: SmallDisk
) -> None:
    """The disk really fills up (a 2 MiB tmpfs), so SQLite fails the way it does in production.

    A patched store would prove only the patch. ``small_disk`` needs root to mount
    the tmpfs, as CI has; elsewhere this test is skipped and says so.
    """
    _, slack = await start_service(settings=make_settings(fake_slack, small_disk.path / "wso.db"))
    assert (await slack.get_json("/healthz")).json["database"] == "ok"

    with small_disk.full():
        refused = await slack.command("arrest B-1")
        full = await slack.get_json("/healthz")
    logged = await slack.command("arrest B-1")
    cleared = await slack.get_json("/healthz")

    assert UNRECORDED in refused.text
    assert full.status == 503 and full.json["ok"] is False
    assert full.json["database"] == (
        f"error: write failed (add_custody) since {START.isoformat(timespec='seconds')}: "
        "database or disk is full"
    )
    assert UNRECORDED not in logged.text and "B-1" in logged.text
    assert cleared.status == 200 and cleared.json["database"] == "ok"


@pytest.mark.parametrize("name", ["wso.db-wal", "wso.db"])
async def test_healthz_names_a_database_file_deleted_under_the_running_bot(
    slack: SignedSlackClient, service: WsoService, db_file: Path, name: str
) -> None:
    assert (await slack.get_json("/healthz")).status == 200
    deleted = db_file.with_name(name)

    deleted.unlink()
    health = await slack.get_json("/healthz")

    assert health.status == 503 and health.json["ok"] is False
    assert health.json["database"].startswith(f"error: {deleted} was deleted while the bot runs")
    assert "Stop the bot" in health.json["database"]


async def test_damage_found_after_start_turns_health_red_and_stops_the_dispatcher(
    fake_slack: FakeSlack,
    start_service: StartService,
    db_path: Path,
    db_file: Path,
    config: Config,
    clock: FakeClock,
) -> None:
    """A large database is checked in the background (``integrity_wait_seconds``); 0 forces it."""
    first, slack = await start_service()
    await slack.command("arrest B-1")
    await first.stop()
    corrupt_index_page(db_path, AUDIT_INDEX)
    store = SqliteCustodyStore(db_path, integrity_wait_seconds=0, clock=clock)
    service = WsoService(make_settings(fake_slack, db_path), config, clock=clock, store=store)
    await service.start(host="127.0.0.1", port=0)
    try:
        async with SignedSlackClient(f"http://127.0.0.1:{service.port}", slack.signing_secret) as c:
            health = await health_when(c, lambda report: report["dispatcher"] == "stopped")
    finally:
        await service.stop()

    assert health.status == 503 and health.json["ok"] is False
    assert health.json["database"].startswith("error: database damaged since")
    assert (
        f"the database {db_file} is damaged: PRAGMA quick_check found" in (health.json["database"])
    )
