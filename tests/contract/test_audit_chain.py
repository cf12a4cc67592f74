"""The audit chain in a real SQLite file: append-only, tamper-evident, purgeable.

Records are written through the store, as the bot writes them; then the file is changed
behind its back with plain ``sqlite3`` (an attacker with the file drops the triggers
first), and ``wso-bot audit verify`` (the CLI's ``main``) must name the first broken
event. A purge (``wso-bot purge``) must leave no personal text in the file and a chain
that still verifies.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.core import audit
from bot.core.audit import Origin
from bot.core.model import AuditEntry, Custody, CustodyState, Notice, NoticeKind, Source
from storage.interface import CustodyStore
from storage.lock_file import LockFile
from storage.sqlite import SqliteCustodyStore
from storage.sqlite.queries import QUERIES

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CLOSED = T0 + timedelta(hours=20)
JAIL = "C0JAIL"
TYPED = Origin("U0AAA", Source.SLASH_COMMAND, JAIL, "1.2.abc")
FORM = Origin("U0DESK", Source.MODAL, JAIL, "1.2.submit")
REASON = "bail posted by his sister"
NOTE = "brother will bring his medication"
DISPUTE = "says he was born in El Paso"
RECEIVED_BY = "Officer Diaz, badge 4471"
OPEN_NOTE = "interpreter needed: Mam"
PERSONAL_TEXT = (REASON, NOTE, DISPUTE, RECEIVED_BY)


def custody(number: int) -> Custody:
    return Custody(
        f"c{number}", "county-jail", f"B-{number}", T0, T0 + timedelta(hours=48), "U0AAA", T0
    )


def note_notice(c: Custody, suffix: str, **detail: str) -> Notice:
    kind = NoticeKind.DISPUTED if "note" in detail else NoticeKind.NOTE
    return Notice(f"{c.id}-{suffix}", c.id, kind, JAIL, T0, detail=detail)


async def write_records(path: Path) -> None:
    """Three custodies: one noted and released with a reason, one disputed and transferred
    to a named officer, one still open with a note; an on-call override given."""
    store = SqliteCustodyStore(path)
    await store.open()
    try:
        released, transferred, still_open = custody(1), custody(2), custody(3)
        for each in (released, transferred, still_open):
            logged = audit.arrest_logged(T0, TYPED, each, None)
            await store.add_custody(each, [note_notice(each, "logged")], logged)
        await store.add_to_open_custody(
            released.id,
            [note_notice(released, "n", by="U0AAA", text=NOTE)],
            audit.note_added(T0, TYPED, released, NOTE),
        )
        await store.add_to_open_custody(
            still_open.id,
            [note_notice(still_open, "n", by="U0AAA", text=OPEN_NOTE)],
            audit.note_added(T0, TYPED, still_open, OPEN_NOTE),
        )
        await store.dispute_custody(
            transferred.id,
            at=T0,
            by="U0AAA",
            note=DISPUTE,
            new_notices=[note_notice(transferred, "d", by="U0AAA", note=DISPUTE)],
            audit=audit.custody_disputed(T0, TYPED, transferred, DISPUTE),
        )
        state = CustodyState.RELEASED
        await store.close_custody(
            released.id,
            state=state,
            at=CLOSED,
            by="U0DESK",
            reason=REASON,
            closing_notices=[],
            audit=audit.custody_closed(CLOSED, FORM, released, state, REASON),
        )
        state = CustodyState.TRANSFERRED
        await store.close_custody(
            transferred.id,
            state=state,
            at=CLOSED,
            by="U0DESK",
            reason=None,
            closing_notices=[],
            audit=audit.custody_closed(CLOSED, FORM, transferred, state, None, RECEIVED_BY),
            received_by=RECEIVED_BY,
            taken_at=CLOSED,
        )
    finally:
        await store.close()


@pytest.fixture
async def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "wso.db"
    await write_records(path)
    return path


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """Run ``wso-bot ARGV``; its exit code and everything it printed."""
    code = main(list(argv))
    printed = capsys.readouterr()
    return code, printed.out + printed.err


def tamper(path: Path, *statements: str) -> None:
    """Change the file as someone holding it could: triggers dropped, rows changed."""
    with closing(sqlite3.connect(path)) as raw:
        raw.execute("DROP TRIGGER audit_log_no_update")
        raw.execute("DROP TRIGGER audit_log_no_delete")
        for statement in statements:
            raw.execute(statement)
        raw.commit()


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as raw:
        return raw.execute(sql).fetchall()


async def test_an_untouched_file_verifies(
    db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    [(count,)] = rows(db_path, "SELECT count(*) FROM audit_log")
    code, said = cli(capsys, "audit", "verify", "--db", str(db_path))
    assert code == 0
    assert f"audit chain intact: {count} events" in said


async def test_an_empty_database_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "empty.db"
    store = SqliteCustodyStore(path)
    await store.open()
    await store.close()
    code, said = cli(capsys, "audit", "verify", "--db", str(path))
    assert code == 0
    assert "the audit log is empty; there is nothing to verify" in said
    path.unlink()
    path.touch()  # a file with no tables at all
    assert cli(capsys, "audit", "verify", "--db", str(path))[0] == 0


def test_a_missing_database_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, said = cli(capsys, "audit", "verify", "--db", str(tmp_path / "nowhere.db"))
    assert code == 2
    assert "no database at" in said and "nowhere.db" in said and "WSO_DB" in said


# Each way of tampering, and the event verify must name first.
TAMPERING = {
    "edited": (
        ("UPDATE audit_log SET actor = 'U0EVIL' WHERE id = 4",),
        4,
        "does not match its hash",
    ),
    "personal-part-edited": (
        ("UPDATE audit_personal SET personal = replace(personal, 'brother', 'cousin')",),
        4,
        "personal part",
    ),
    "deleted": (("DELETE FROM audit_log WHERE id = 5",), 6, "event 5 is missing"),
    "inserted": (
        (
            "UPDATE audit_log SET id = -id WHERE id >= 5",
            "UPDATE audit_log SET id = 1 - id WHERE id < 0",
            "INSERT INTO audit_log (id, at, actor, action, custody_id, prev_hash, hash)"
            " SELECT 5, at, actor, 'custody_voided', custody_id, hash, hash"
            " FROM audit_log WHERE id = 4",
        ),
        5,
        "written outside the bot",
    ),
    "reordered": (
        (
            "UPDATE audit_log SET id = -1 WHERE id = 5",
            "UPDATE audit_log SET id = 5 WHERE id = 6",
            "UPDATE audit_log SET id = 6 WHERE id = -1",
        ),
        5,
        "does not follow event 4",
    ),
}


@pytest.mark.parametrize(("statements", "seq", "words"), TAMPERING.values(), ids=TAMPERING)
async def test_tampering_is_named_at_the_first_broken_event(
    db_path: Path,
    capsys: pytest.CaptureFixture[str],
    statements: tuple[str, ...],
    seq: int,
    words: str,
) -> None:
    tamper(db_path, *statements)
    code, said = cli(capsys, "audit", "verify", "--db", str(db_path))
    assert code == 1
    assert f"audit chain BROKEN at event {seq}:" in said
    assert words in said


async def test_the_database_refuses_to_change_or_delete_an_audit_row(db_path: Path) -> None:
    with closing(sqlite3.connect(db_path)) as raw:
        for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
            with pytest.raises(sqlite3.IntegrityError, match="audit_log rows are never"):
                raw.execute(statement)


def test_the_store_interface_has_no_call_that_changes_or_removes_an_audit_event() -> None:
    calls = {name for name, _ in inspect.getmembers(CustodyStore, inspect.isfunction)}
    about_audit = {name for name in calls if "audit" in name or "purge" in name}
    assert about_audit == {"record_audit", "audit_trail", "purge_personal_data"}
    # No statement the store runs changes or deletes an audit row, but the one-time
    # chaining of older rows (schema version 5, before the triggers exist).
    writers = {
        name
        for name, sql in QUERIES.items()
        if any(f"{verb} audit_log" in " ".join(sql.split()) for verb in ("UPDATE", "DELETE FROM"))
    }
    assert writers == {"chain_legacy_audit_event"}


def all_text(path: Path) -> bytes:
    """Every byte of the database's files (the WAL too, if any)."""
    files = [path, path.with_name(path.name + "-wal")]
    return b"".join(each.read_bytes() for each in files if each.exists())


def test_a_purge_erases_personal_data_and_the_chain_still_verifies(
    db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert all(text.encode() in all_text(db_path) for text in PERSONAL_TEXT)
    hashes = rows(db_path, "SELECT id, hash FROM audit_log ORDER BY id")

    code, said = cli(capsys, "purge", "--closed-before", "2026-03-04", "--db", str(db_path))

    assert code == 0, said
    assert "2 custodies" in said
    for text in PERSONAL_TEXT:  # nowhere in the file: not in a row, not in free space
        assert text.encode() not in all_text(db_path), text
    assert OPEN_NOTE.encode() in all_text(db_path)  # an open custody keeps its note
    assert rows(db_path, "SELECT id, hash FROM audit_log ORDER BY id")[: len(hashes)] == hashes
    [purge] = rows(db_path, "SELECT actor, source, action, detail FROM audit_log")[len(hashes) :]
    assert purge[:3] == ("system", "cli", "personal_data_purged")
    assert json.loads(str(purge[3]))["closed_before"] == "2026-03-04T00:00:00.000000Z"
    assert (
        rows(db_path, "SELECT close_reason, received_by, dispute_note FROM custodies")
        == [(None, None, None)] * 3
    )
    assert cli(capsys, "audit", "verify", "--db", str(db_path))[0] == 0

    released = next(e for e in asyncio.run(trail(db_path, "c1")) if e.action == "custody_released")
    assert released.erased and "close_reason" not in released.after
    assert released.after["state"] == "released"  # the skeleton stays


async def trail(path: Path, custody_id: str) -> list[AuditEntry]:
    store = SqliteCustodyStore(path)
    await store.open()
    try:
        return await store.audit_trail(custody_id)
    finally:
        await store.close()


def test_a_purge_leaves_custodies_closed_after_the_date_alone(
    db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, said = cli(capsys, "purge", "--closed-before", "2026-03-03", "--db", str(db_path))
    assert code == 0, said
    assert "0 custodies" in said
    assert all(text.encode() in all_text(db_path) for text in PERSONAL_TEXT)
    assert cli(capsys, "audit", "verify", "--db", str(db_path))[0] == 0


@pytest.mark.parametrize(
    ("date", "words"),
    [
        ("03/04/2026", "is not a date written YYYY-MM-DD"),
        ("2026-02-30", "is not a date"),
        ("2999-01-01", "is in the future"),
    ],
)
def test_a_bad_purge_date_is_refused_with_an_example(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], date: str, words: str
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["purge", "--closed-before", date, "--db", str(tmp_path / "wso.db")])
    said = capsys.readouterr().err
    assert exit_.value.code == 2
    assert words in said and "for example --closed-before 2025-01-31" in said
    assert not (tmp_path / "wso.db").exists()


def test_a_purge_of_a_database_in_use_is_refused(
    db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lock = LockFile.acquire(db_path.resolve(), T0)  # as a running bot holds it
    try:
        code, said = cli(capsys, "purge", "--closed-before", "2026-03-04", "--db", str(db_path))
    finally:
        lock.release()
    assert code == 2
    assert "in use" in said and "retention_days" in said


async def test_notice_events_are_recorded_once_and_only_for_what_people_read(
    tmp_path: Path,
) -> None:
    store = SqliteCustodyStore(tmp_path / "wso.db")
    await store.open()
    try:
        c = custody(1)
        reminder = Notice("r", c.id, NoticeKind.REMINDER, JAIL, T0)
        expiry = Notice("x", c.id, NoticeKind.EXPIRED, JAIL, T0)
        backup = Notice("b", c.id, NoticeKind.BACKUP, f"backup:{JAIL}", T0)
        await store.add_custody(
            c, [reminder, expiry, backup], audit.arrest_logged(T0, TYPED, c, None)
        )
        for notice in (reminder, backup):
            assert await store.mark_sending(notice.id, T0)
            await store.mark_sent(notice.id, T0, "1.1")
        await store.mark_sent(reminder.id, T0, "1.1")  # again: already recorded
        for error in ("channel_not_found", "channel_not_found", "ratelimited"):
            await store.mark_failed(
                expiry.id, error=error, retry_at=T0 + timedelta(minutes=5), may_have_posted=False
            )
        await store.mark_failed(
            expiry.id, error="is_archived", retry_at=T0, may_have_posted=False
        )  # another error a person must fix: recorded too

        trail = await store.audit_trail(c.id)
    finally:
        await store.close()
    system = [(e.action, e.detail.get("notice"), e.detail.get("error")) for e in trail[1:]]
    assert system == [
        ("notice_sent", "r", None),
        ("notice_undeliverable", "x", "channel_not_found"),
        ("notice_undeliverable", "x", "is_archived"),
    ]
    sent = trail[1]
    assert (sent.actor, sent.source, sent.facility_id) == ("system", "scheduler", "county-jail")
    assert (sent.detail["kind"], sent.detail["target"], sent.after) == (
        "reminder",
        JAIL,
        {"state": "sent"},
    )
