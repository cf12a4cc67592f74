"""A database of an earlier release gets its audit chain when this one first opens it.

The committed files (``data/wso-v2.db`` to ``wso-v5.db`` and ``wso-v7.db``; their ``make_*``
scripts say how they were written) are opened by the current store: the rows they hold
are chained in order, once, each keeping its number and content; the personal values
that version 7 (and those before) kept in its rows move apart; and the migration is itself
the next event.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from bot.cli import main
from storage.sqlite import SqliteCustodyStore
from tests.contract.test_audit_chain import trail

DATA = Path(__file__).parent / "data"
FIXTURES = {version: DATA / f"wso-v{version}.db" for version in (2, 3, 4, 5, 7)}


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as raw:
        return raw.execute(sql).fetchall()


async def reopen(path: Path) -> None:
    store = SqliteCustodyStore(path)
    await store.open()
    await store.close()


@pytest.fixture(params=sorted(FIXTURES), ids=lambda version: f"from-v{version}")
def old_copy(tmp_path: Path, request: pytest.FixtureRequest) -> tuple[int, Path]:
    version: int = request.param
    path = tmp_path / "wso.db"
    shutil.copyfile(FIXTURES[version], path)
    return version, path


def test_the_committed_files_are_of_their_versions_and_unchained() -> None:
    for version, path in FIXTURES.items():
        assert rows(path, "SELECT version FROM schema_version") == [(version,)]
        columns = {row[1] for row in rows(path, "PRAGMA table_info(audit_log)")}
        assert "hash" not in columns


def test_older_rows_are_chained_in_order_once_and_the_migration_is_an_event(
    old_copy: tuple[int, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    version, path = old_copy
    before = rows(path, "SELECT id, at, actor, action, custody_id FROM audit_log ORDER BY id")
    code = main(["audit", "verify", "--db", str(path)])
    assert code == 2  # not chained yet: verify says to start the bot once
    assert f"schema version {version}" in capsys.readouterr().err

    asyncio.run(reopen(path))

    after = rows(path, "SELECT id, at, actor, action, custody_id FROM audit_log ORDER BY id")
    assert after[: len(before)] == before  # each keeps its number and content
    [(actor, source, action, detail)] = rows(
        path, f"SELECT actor, source, action, detail FROM audit_log WHERE id > {len(before)}"
    )
    assert (actor, source, action) == ("system", "startup", "audit_chain_started")
    assert json.loads(str(detail)) == {
        "events_chained": len(before),
        "from_schema_version": version,
        "to_schema_version": 8,
    }
    assert main(["audit", "verify", "--db", str(path)]) == 0
    assert f"intact: {len(before) + 1} events" in capsys.readouterr().out

    hashes = rows(path, "SELECT id, prev_hash, hash FROM audit_log ORDER BY id")
    asyncio.run(reopen(path))  # once: a second opening chains nothing again
    assert rows(path, "SELECT id, prev_hash, hash FROM audit_log ORDER BY id") == hashes


def test_version_7_rows_keep_their_personal_values_apart_and_can_be_purged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "wso.db"
    shutil.copyfile(FIXTURES[7], path)
    asyncio.run(reopen(path))
    details = [json.loads(str(d)) for (d,) in rows(path, "SELECT detail FROM audit_log")]
    assert not any(key in d for d in details for key in ("reason", "text", "note"))
    [released] = [e for e in asyncio.run(trail(path, "custody-1")) if e.action.endswith("released")]
    assert released.detail["reason"] == "bail posted by his sister"  # read back whole
    assert released.facility_id == "county-jail"  # from its custody

    [corrected] = [
        e for e in asyncio.run(trail(path, "custody-3")) if e.action.endswith("corrected")
    ]
    assert corrected.detail["to_policy"] == "48h-excluding-weekends-holidays v1, holidays US"

    assert main(["purge", "--closed-before", "2026-03-04", "--db", str(path)]) == 0
    assert "2 custodies" in capsys.readouterr().out
    # The A-number goes with the rest of a closed custody's personal data; an open one keeps it.
    assert rows(path, "SELECT id, a_number FROM custodies ORDER BY id") == [
        ("custody-1", None),
        ("custody-2", None),
        ("custody-3", "A098765432"),
    ]
    [released] = [e for e in asyncio.run(trail(path, "custody-1")) if e.action.endswith("released")]
    assert released.erased and "reason" not in released.detail
    still_open = asyncio.run(trail(path, "custody-3"))
    assert [e.detail.get("text") for e in still_open if e.action == "note_added"] == [
        "interpreter needed: Mam"
    ]
    assert main(["audit", "verify", "--db", str(path)]) == 0
