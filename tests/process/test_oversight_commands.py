"""``wso-bot export`` and ``wso-bot report`` as a user runs them, over a real SQLite file.

The counts are checked against the database with SQL of the test's own, and each
facility's calendar with zoneinfo, not with the code under test.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import sqlite3
from collections import Counter
from contextlib import closing
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from storage.sqlite import SqliteCustodyStore
from tests.fakes.process import run, wso_bot
from tests.oversight_data import TWO_FACILITIES_TOML, store_custodies, varied_custodies

ZONES = {"county-jail": ZoneInfo("America/Chicago"), "island-jail": ZoneInfo("Pacific/Honolulu")}
FIRST, LAST = date(2025, 3, 1), date(2025, 3, 31)
PERIOD = ("--from", FIRST.isoformat(), "--to", LAST.isoformat())


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A config of two facilities (Chicago, Honolulu) and 600 custodies over ~10 weeks."""
    path = tmp_path_factory.mktemp("oversight")
    (path / "wso.toml").write_text(TWO_FACILITIES_TOML)

    async def write() -> None:
        store = SqliteCustodyStore(path / "wso.db")
        await store.open()
        try:
            start, end = datetime(2025, 2, 10, tzinfo=UTC), datetime(2025, 4, 20, tzinfo=UTC)
            custodies = varied_custodies(600, list(ZONES), start, end)
            await store_custodies(store, custodies)
        finally:
            await store.close()

    asyncio.run(write())
    return path


def in_period_by_sql(db: Path) -> dict[str, tuple[str, bool]]:
    """custody id -> (state, closed after its deadline), for the period, read independently."""
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as raw:
        rows = raw.execute(
            "SELECT id, facility_id, arrested_at, state, deadline, "
            "CASE WHEN state = 'transferred' THEN coalesce(custody_taken_at, closed_at) "
            "ELSE closed_at END FROM custodies"
        ).fetchall()
    found = {}
    for custody_id, facility, arrested, state, deadline, ended in rows:
        instant = datetime.fromisoformat(arrested.replace("Z", "+00:00"))
        if FIRST <= instant.astimezone(ZONES[facility]).date() <= LAST:
            found[custody_id] = (state, ended is not None and ended > deadline)
    return found


def test_the_csv_parses_back_and_its_counts_match_the_database(workdir: Path) -> None:
    result = run(wso_bot("export", *PERIOD, "--format", "csv", "--out", "out.csv"), workdir)

    assert result.returncode == 0, result.stderr
    with (workdir / "out.csv").open(newline="") as exported:
        rows = list(csv.DictReader(exported))
    expected = in_period_by_sql(workdir / "wso.db")
    assert 150 < len(expected) < 400  # the period is a part of the data, both facilities
    assert {row["custody_id"] for row in rows} == set(expected)
    assert len(rows) == len(expected)
    assert f"{len(rows)} custodies arrested 2025-03-01 to 2025-03-31" in result.stderr
    assert Counter(row["outcome"] for row in rows) == Counter(s for s, _ in expected.values())
    late = {cid for cid, (_, closed_late) in expected.items() if closed_late}
    assert {r["custody_id"] for r in rows if r["closed_after_deadline"] == "true"} == late
    assert {row["facility"] for row in rows} == set(ZONES)
    island = next(row for row in rows if row["facility"] == "island-jail")
    assert island["facility_name"] == "Island <Jail> & Annex"
    assert island["arrested_at_local"].endswith("-10:00")
    assert not (workdir / "out.csv.partial").exists()


def test_the_json_export_holds_the_same_custodies_with_types(workdir: Path) -> None:
    result = run(wso_bot("export", *PERIOD, "--format", "json"), workdir)  # to stdout

    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert {row["custody_id"] for row in rows} == set(in_period_by_sql(workdir / "wso.db"))
    transferred = next(row for row in rows if row["outcome"] == "transferred")
    assert isinstance(transferred["hours_to_ice_pickup"], float)
    assert isinstance(transferred["closed_after_deadline"], bool)
    still_open = [row for row in rows if row["outcome"] == "open"]
    assert still_open and all(row["closed_after_deadline"] is None for row in still_open)


@pytest.mark.parametrize("command", ["export", "report"])
@pytest.mark.parametrize(
    ("period", "said"),
    [
        pytest.param(("--from", "2025-03-31", "--to", "2025-03-01"), "reversed", id="reversed"),
        pytest.param(("--from", "2025-03-01"), "--to is missing", id="no-to"),
        pytest.param(("--from", "03/01/2025", "--to", "2025-03-31"), "YYYY-MM-DD", id="us-date"),
        pytest.param(("--from", "2025-02-29", "--to", "2025-03-31"), "calendar", id="no-feb-29"),
    ],
)
def test_a_bad_period_gets_a_clear_error_with_an_example(
    workdir: Path, command: str, period: tuple[str, ...], said: str
) -> None:
    result = run(wso_bot(command, *period, "--out", f"bad-{command}.out"), workdir)

    assert result.returncode == 2
    assert said in result.stderr
    assert f"For example: wso-bot {command} --from 2026-11-01 --to 2026-11-30" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (workdir / f"bad-{command}.out").exists()


def test_a_missing_database_is_named(workdir: Path) -> None:
    result = run(wso_bot("export", *PERIOD, "--db", "nowhere.db"), workdir)

    assert result.returncode == 2
    assert "no database at nowhere.db" in result.stderr
    assert not (workdir / "nowhere.db").exists()


def test_the_report_is_one_page_with_the_chart_and_the_late_custodies_named(
    workdir: Path,
) -> None:
    result = run(wso_bot("report", *PERIOD, "--out", "report.html"), workdir)
    assert result.returncode == 0, result.stderr
    exported = run(wso_bot("export", *PERIOD), workdir)
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))

    page = (workdir / "report.html").read_text()
    late = [row for row in rows if row["held_past_deadline"] == "true"]
    assert late
    assert f"Held past the deadline ({len(late)})" in page
    for row in late:
        assert f"<td>{row['booking']}</td>" in page
    assert f">{len(rows):,}</div>" in page  # the number of custodies
    assert 'src="data:image/png;base64,iVBORw0KGgo' in page  # a PNG inside the page
    assert "Island &lt;Jail&gt; &amp; Annex" in page and "<Jail>" not in page
    assert f"{len(rows)} custodies arrested" in result.stderr


def test_check_config_names_the_weekly_report(tmp_path: Path) -> None:
    config = tmp_path / "wso.toml"
    config.write_text(TWO_FACILITIES_TOML + '\n[report]\nchannel = "C0OVERSIGHT"\ntime = "07:30"\n')

    result = run(wso_bot("check-config", str(config)), tmp_path)

    assert result.returncode == 0, result.stderr
    assert "weekly report: C0OVERSIGHT, mondays at 07:30 America/Chicago" in result.stdout
    config.write_text(TWO_FACILITIES_TOML + '\n[report]\nchannel = "C0X"\nweekday = "someday"\n')
    refused = run(wso_bot("check-config", str(config)), tmp_path)
    assert refused.returncode == 2
    assert "report.weekday" in refused.stderr and "not a weekday" in refused.stderr
