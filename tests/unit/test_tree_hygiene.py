"""The tree holds no merge-conflict leftovers: a README or module with markers ships broken."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TEXT_SUFFIXES = {".py", ".md", ".sql", ".toml", ".yml", ".yaml", ".txt", ".json", ".cfg", ""}
MARKER = re.compile(r"^(<{7} |>{7} |\|{7} )", re.MULTILINE)
SKIPPED_DIRS = {".git", ".venv", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"}


def project_text_files() -> list[Path]:
    found = []
    for path in REPO.rglob("*"):
        if any(part in SKIPPED_DIRS or part.endswith(".egg-info") for part in path.parts):
            continue
        if path.is_file() and path.suffix in TEXT_SUFFIXES and path.stat().st_size < 2_000_000:
            found.append(path)
    return found


def test_the_tree_has_text_files_to_check() -> None:
    names = {p.relative_to(REPO).as_posix() for p in project_text_files()}
    assert {"README.md", "pyproject.toml", "bot/app.py"} <= names


@pytest.mark.parametrize("marker", ["<<<<<<< HEAD\n", ">>>>>>> branch\n", "||||||| base\n"])
def test_the_marker_pattern_finds_each_conflict_line(marker: str) -> None:
    assert MARKER.search("text\n" + marker + "more\n")


def test_no_file_holds_a_merge_conflict_marker() -> None:
    leftovers = []
    for path in project_text_files():
        text = path.read_text(errors="replace")
        for match in MARKER.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            leftovers.append(f"{path.relative_to(REPO)}:{line}")
    assert leftovers == [], f"merge-conflict markers left in: {leftovers}"
