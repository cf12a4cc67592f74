"""A plain, non-editable install works: the wheel carries the SQL schema and the console script.

The wheel is built exactly as ``pip install .`` builds it (isolated build, from
the package registry), then imported from its own folder, not from this checkout.
The isolated build fetches setuptools and wheel from the package index, so the
test is skipped, saying why, where the index cannot be reached.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def pip(command: str, *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", command, "--no-deps", "--quiet", *args],
        check=True,
        capture_output=True,
        timeout=300,
    )


@pytest.mark.needs_index
def test_wheel_ships_schema_and_console_script_and_runs_outside_the_checkout(
    tmp_path: Path,
) -> None:
    # Build from a copy: setuptools leaves build/ behind, and a stale one would leak old files.
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    for package in ("bot", "handlers", "storage"):
        shutil.copytree(
            REPO / package, source / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    wheel_dir = tmp_path / "wheel"
    pip("wheel", "-w", str(wheel_dir), str(source))
    [wheel] = wheel_dir.glob("wso_custody_clock-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(n for n in names if n.endswith("entry_points.txt"))
        assert "wso-bot = bot.cli:main" in archive.read(entry_points).decode()
    assert {
        "storage/sqlite/schema.sql",
        "storage/sqlite/queries.sql",
        "bot/cli.py",
        "handlers/slash_command.py",
        "bot/sandbox/static/sandbox.html",
        "bot/sandbox/static/sandbox.js",
    } <= names

    target = tmp_path / "site"
    pip("install", "--target", str(target), str(wheel))
    probe = textwrap.dedent(
        f"""
        import asyncio, bot, storage
        from storage.sqlite_store import SqliteCustodyStore
        assert bot.__file__.startswith({str(target)!r}), bot.__file__
        async def main():
            store = SqliteCustodyStore("installed.db")
            await store.open()
            assert await store.count_open_custodies() == 0
            await store.close()
        asyncio.run(main())
        from bot.cli import main
        raise SystemExit(main(["check-config", {str(REPO / "wso.example.toml")!r}]))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env={"PYTHONPATH": str(target)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout
