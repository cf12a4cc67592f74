"""``wso-bot audit`` and ``wso-bot purge`` as the installed console script: exit codes, and
the database found by ``WSO_DB`` as ``serve`` finds it (no Slack credentials needed)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from tests.contract.test_audit_chain import write_records
from tests.fakes.process import run, wso_bot


async def test_verify_export_and_purge_exit_codes(tmp_path: Path) -> None:
    db = tmp_path / "records.db"
    await write_records(db)

    verified = run(wso_bot("audit", "verify"), tmp_path, WSO_DB=str(db))
    assert verified.returncode == 0, verified.stderr
    assert "audit chain intact: 8 events" in verified.stdout

    exported = run(wso_bot("audit", "export"), tmp_path, WSO_DB=str(db))
    assert exported.returncode == 0, exported.stderr
    assert len(exported.stdout.splitlines()) == 8  # the events alone: no message mixed in

    purged = run(wso_bot("purge", "--closed-before", "2026-03-04", "--db", str(db)), tmp_path)
    assert purged.returncode == 0, purged.stderr
    assert "2 custodies" in purged.stdout

    bad_date = run(wso_bot("purge", "--closed-before", "next week", "--db", str(db)), tmp_path)
    assert bad_date.returncode == 2
    assert "for example --closed-before 2025-01-31" in bad_date.stderr

    with closing(sqlite3.connect(db)) as raw:
        raw.execute("DROP TRIGGER audit_log_no_update")
        raw.execute("UPDATE audit_log SET action = 'custody_transferred' WHERE id = 7")
        raw.commit()
    broken = run(wso_bot("audit", "verify", "--db", str(db)), tmp_path)
    assert broken.returncode == 1
    assert "audit chain BROKEN at event 7" in broken.stderr

    missing = run(wso_bot("audit", "verify"), tmp_path)  # ./wso.db: there is none
    assert missing.returncode == 2
    assert "no database at wso.db" in missing.stderr
