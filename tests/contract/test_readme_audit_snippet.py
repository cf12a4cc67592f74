"""The README's stand-alone verifier, run as printed there against real exports.

The block after the ``verify-export-snippet`` marker is written to a file and run by a
fresh, isolated Python (nothing of the bot importable), over ``wso-bot audit export`` of a
real database: intact, tampered with, and after a purge.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from tests.contract.test_audit_chain import write_records

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_snippet() -> str:
    text = README.read_text(encoding="utf-8")
    found = re.search(r"<!-- verify-export-snippet[^>]*-->\n```python\n(.*?)```", text, re.S)
    assert found, "the README has no verify-export-snippet block"
    return found.group(1)


@pytest.fixture
def snippet(tmp_path: Path) -> Path:
    path = tmp_path / "verify_export.py"
    path.write_text(readme_snippet(), encoding="utf-8")
    return path


def run(snippet: Path, export: Path) -> subprocess.CompletedProcess[str]:
    # -I: isolated; the snippet must need nothing but the standard library.
    return subprocess.run(
        [sys.executable, "-I", str(snippet), str(export)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=snippet.parent,
    )


def export(db: Path, out: Path, *extra: str) -> list[dict[str, object]]:
    assert main(["audit", "export", "--db", str(db), "--out", str(out), *extra]) == 0
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def test_the_snippet_is_about_fifteen_lines() -> None:
    code = [line for line in readme_snippet().splitlines() if line.strip()]
    assert len(code) <= 17


def rewrite(path: Path, lines: list[dict[str, object]]) -> None:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")


async def test_the_readme_snippet_verifies_a_real_export_and_catches_tampering(
    tmp_path: Path, snippet: Path
) -> None:
    db = tmp_path / "wso.db"
    await write_records(db)
    plain, personal = tmp_path / "plain.jsonl", tmp_path / "personal.jsonl"
    lines = export(db, plain)
    with_personal = export(db, personal, "--with-personal")
    assert all(line["personal"] is None for line in lines)
    assert any(line["personal"] for line in with_personal)

    for path in (plain, personal):
        verified = run(snippet, path)
        assert verified.returncode == 0, verified.stderr
        assert f"chain intact: {len(lines)} events, last hash {lines[-1]['hash']}" in (
            verified.stdout
        )

    edited = [dict(line) for line in lines]
    edited[2]["actor"] = "U0EVIL"
    rewrite(plain, edited)
    broken = run(snippet, plain)
    assert broken.returncode == 1 and "chain broken at event 3" in broken.stderr

    rewrite(plain, [line for line in lines if line["seq"] != 5])
    broken = run(snippet, plain)
    assert broken.returncode == 1 and "chain broken at event 6" in broken.stderr

    altered = [dict(line) for line in with_personal]
    [first] = [line for line in altered if line["personal"]][:1]
    first["personal"] = {"detail": {"note": "something else"}}
    rewrite(personal, altered)
    broken = run(snippet, personal)
    assert broken.returncode == 1
    assert f"personal part of event {first['seq']} altered" in broken.stderr


def test_an_export_after_a_purge_still_verifies(tmp_path: Path, snippet: Path) -> None:
    db = tmp_path / "wso.db"
    asyncio.run(write_records(db))
    assert main(["purge", "--closed-before", "2026-03-04", "--db", str(db)]) == 0
    out = tmp_path / "after.jsonl"
    lines = export(db, out, "--with-personal")
    assert lines[-1]["action"] == "personal_data_purged"
    verified = run(snippet, out)
    assert verified.returncode == 0, verified.stderr
