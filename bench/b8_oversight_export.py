"""B8: ``wso-bot export`` and ``wso-bot report`` over 100k custodies: time and memory.

The data set: 100,000 custodies of every outcome (``tests/oversight_data.py``) arrested
over the year 2025 in two facilities (Chicago, Honolulu), written through the store's
``add_custodies``. Each command runs as the real console script on the bot's core
(``taskset -c 0``), as an operator runs it; the time is the process's wall time, start
to exit (Python's start-up and imports included), the memory its peak RSS
(``ru_maxrss`` from ``wait4``). Streaming shows as memory that does not grow with the
rows: the same export over a tenth of the year (~10k rows) is run for comparison.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.common import BOT_CORE, WSO_BOT, RunResult, at_most, spawn, workdir
from storage.sqlite import SqliteCustodyStore
from tests.oversight_data import TWO_FACILITIES_TOML, store_custodies, varied_custodies

NAME = "B8"
TITLE = "oversight export and report over 100k custodies"
DEFAULT_RUNS = 3
PROFILES = False
YEAR = ("--from", "2025-01-01", "--to", "2025-12-31")
TENTH = ("--from", "2025-01-01", "--to", "2025-02-06")


def sizes(quick: bool) -> int:
    return 10_000 if quick else 100_000


async def _write_dataset(db: Path, count: int) -> None:
    store = SqliteCustodyStore(db)
    await store.open()
    try:
        start, end = datetime(2025, 1, 1, 10, tzinfo=UTC), datetime(2026, 1, 1, 6, tzinfo=UTC)
        await store_custodies(
            store, varied_custodies(count, ["county-jail", "island-jail"], start, end)
        )
    finally:
        await store.close()


def _timed(tmp: Path, *args: str) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB) and standard error of one ``wso-bot`` run."""
    env = {**os.environ, "WSO_DB": str(tmp / "wso.db"), "WSO_CONFIG": str(tmp / "wso.toml")}
    started = time.monotonic()
    process = spawn([str(WSO_BOT), *args], core=BOT_CORE, env=env, cwd=tmp, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.monotonic() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    said = process.stderr.read().decode() if process.stderr else ""
    if process.returncode != 0:
        raise RuntimeError(f"wso-bot {args[0]} exited {process.returncode}: {said}")
    return elapsed, usage.ru_maxrss / 1024, said.strip()


async def run(quick: bool) -> RunResult:
    count = sizes(quick)
    result = RunResult()
    with workdir("b8") as tmp:
        (tmp / "wso.toml").write_text(TWO_FACILITIES_TOML)
        built = time.monotonic()
        await _write_dataset(tmp / "wso.db", count)
        result.note(f"B8: {count:,} custodies written in {time.monotonic() - built:.1f} s")
        csv_s, csv_mb, said = _timed(tmp, "export", *YEAR, "--format", "csv", "--out", "a.csv")
        rows = sum(1 for _ in (tmp / "a.csv").open()) - 1
        if rows != count:
            raise RuntimeError(f"the CSV has {rows} rows for {count} custodies: {said}")
        json_s, json_mb, _ = _timed(tmp, "export", *YEAR, "--format", "json", "--out", "a.json")
        _, tenth_mb, _ = _timed(tmp, "export", *TENTH, "--format", "csv", "--out", "b.csv")
        report_s, report_mb, said = _timed(tmp, "report", *YEAR, "--out", "report.html")
        result.note(f"B8: {said}")
    k = f"{count // 1000}k"
    result.add(f"export CSV, {k} custodies", csv_s, "s", at_most(10))
    result.add(f"export JSON, {k} custodies", json_s, "s", at_most(10))
    result.add(f"report, {k} custodies", report_s, "s", at_most(10))
    result.add(f"export peak RSS, {k} rows", csv_mb, "MB")
    result.add("export RSS growth, 10x the rows", csv_mb - tenth_mb, "MB", at_most(10))
    result.add(f"report peak RSS, {k} custodies", report_mb, "MB")
    result.add("JSON export peak RSS", json_mb, "MB")
    return result


if __name__ == "__main__":
    print(asyncio.run(run(quick=True)))
