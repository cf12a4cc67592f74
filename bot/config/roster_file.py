"""The officer roster file (``roster = "officers.csv"``): read strictly, every mistake named.

One header line, then one row per WSO officer::

    user_id,name,badge,facility,certified_on,expires_on
    U0AAA,Dana Reyes,4417,county-jail,2026-01-15,2028-01-15

The file is read at start-up, by ``wso-bot check-config`` and again on SIGHUP. A
malformed row, a date that is not one, an unknown facility or a Slack user id listed
twice stops the load with a ``ConfigError`` naming the file, the line and what was
wrong, with a right row to copy; a reload that fails keeps the roster in force.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path

from bot.config.fields import _USER_ID, ConfigError, UnreadableFile, read_small_file
from bot.core.facility import Facility
from bot.core.roster import Roster, RosterEntry

# Far above any jail's roster (a row is ~60 bytes), and read whole at start and on SIGHUP.
MAX_ROSTER_FILE_BYTES = 1024 * 1024
MAX_OFFICER_NAME_CHARS = 80
ROSTER_COLUMNS = ("user_id", "name", "badge", "facility", "certified_on", "expires_on")
HEADER_LINE = ",".join(ROSTER_COLUMNS)
EXAMPLE_ROW = "U0AAA,Dana Reyes,4417,county-jail,2026-01-15,2028-01-15"
_BADGE = re.compile(r"[A-Za-z0-9][A-Za-z0-9./#-]{0,31}", re.ASCII)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
# Control, format (bidi, zero-width) and line-separator characters have no place in a name.
_NOT_IN_TEXT = frozenset({"Cc", "Cf", "Zl", "Zp"})


class _RowError(Exception):
    """What is wrong with one row (the caller adds the file and line)."""


def load_roster(path: Path, facilities: Sequence[Facility], shown_as: str = "") -> Roster:
    """Read and check the roster at ``path`` against the configured ``facilities``.

    ``shown_as`` is the file as the config names it (``officers.csv``), kept for messages.
    Raises ``ConfigError`` (key ``roster``) naming the file and the line.
    """
    try:
        data = read_small_file(path, MAX_ROSTER_FILE_BYTES, "an officer roster")
    except FileNotFoundError:
        raise ConfigError(
            "roster",
            f"file not found: {path} (a relative path is read from the config file's folder); "
            f"start from officers.example.csv, whose first line is {HEADER_LINE}",
        ) from None
    except UnreadableFile as problem:
        raise ConfigError("roster", f"cannot read {path}: {problem}") from None
    except OSError as error:
        raise ConfigError("roster", f"cannot read {path}: {error.strerror}") from None
    try:
        text = data.decode("utf-8-sig")  # a spreadsheet's UTF-8 export starts with a BOM
    except UnicodeDecodeError as error:
        raise _error(path, _line_of(data, error.start), "the file is not UTF-8 text") from None
    roster = parse_roster(text, path, facilities, shown_as or path.name)
    require_officers_everywhere(facilities, roster)
    return replace(roster, sha256=hashlib.sha256(data).hexdigest())


def parse_roster(text: str, path: Path, facilities: Sequence[Facility], shown_as: str) -> Roster:
    """The rows of ``text`` (the file at ``path``), each checked; raises ``ConfigError``."""
    known = {facility.id for facility in facilities}
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    entries: list[RosterEntry] = []
    lines: dict[str, int] = {}
    ended_at = 0  # the line the previous record ended on
    try:
        for row in reader:
            line, ended_at = ended_at + 1, reader.line_num
            if ended_at > line and row:
                raise _error(
                    path, line, "a quoted field runs over several lines; keep each row on one"
                )
            if line == 1:
                _check_header(row, path)
            elif row:  # a blank line is skipped
                entry = _entry(row, line, path, known)
                _reject_duplicate(entry, lines, path)
                entries.append(entry)
    except csv.Error as error:
        raise _error(path, reader.line_num, f"not valid CSV ({error})") from None
    if ended_at == 0:
        raise _error(path, 1, f"the file is empty; its first line must be {HEADER_LINE}")
    return Roster(tuple(entries), source=shown_as)


def require_officers_everywhere(facilities: Sequence[Facility], roster: Roster) -> None:
    """Refuse a facility with no officer at all: nobody could log its arrests."""
    for index, facility in enumerate(facilities):
        if not facility.officers and not roster.officer_ids(facility.id):
            raise ConfigError(
                f"facility[{index}].officers",
                f'facility "{facility.id}" has no officers: list their member IDs here, like '
                f'["U0AAA"], or give them rows in the roster ({roster.source or "the file"}) '
                f"with {facility.id} in the facility column",
            )


def _error(path: Path, line: int, what: str) -> ConfigError:
    return ConfigError(
        "roster", f"{path}, line {line}: {what}. A right row looks like: {EXAMPLE_ROW}"
    )


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _check_header(row: list[str], path: Path) -> None:
    got = _shown(",".join(cell.strip() for cell in row), 120)
    if tuple(cell.strip().lower() for cell in row) != ROSTER_COLUMNS:
        raise ConfigError(
            "roster",
            f'{path}, line 1: the first line must be the header {HEADER_LINE} (got "{got}")',
        )


def _entry(row: list[str], line: int, path: Path, known: set[str]) -> RosterEntry:
    try:
        return _read_row([cell.strip() for cell in row], line, known)
    except _RowError as problem:
        raise _error(path, line, str(problem)) from None


def _read_row(cells: list[str], line: int, known: set[str]) -> RosterEntry:
    if len(cells) != len(ROSTER_COLUMNS):
        raise _RowError(
            f"{len(cells)} fields, but a row has {len(ROSTER_COLUMNS)} ({HEADER_LINE}); "
            "a name with a comma goes in double quotes"
        )
    user_id, name, badge, facility_id, certified, expires = cells
    if not _USER_ID.fullmatch(user_id):
        raise _RowError(
            f'user id "{_shown(user_id)}" is not a Slack member ID (like U0AAA): "Copy member ID" '
            "on their Slack profile gives it"
        )
    certified_on = _date(certified, "certification date")
    expires_on = _date(expires, "expiry date")
    if expires_on <= certified_on:
        raise _RowError(
            f"the expiry date {expires_on} is not after the certification date {certified_on}"
        )
    return RosterEntry(
        user_id=user_id,
        name=_name(name),
        badge=_badge(badge),
        facility_id=_facility(facility_id, known),
        certified_on=certified_on,
        expires_on=expires_on,
        line=line,
    )


def _name(value: str) -> str:
    if not value:
        raise _RowError("the name is empty; give the officer's name, like Dana Reyes")
    if len(value) > MAX_OFFICER_NAME_CHARS:
        raise _RowError(f"the name is {len(value)} characters; keep it to {MAX_OFFICER_NAME_CHARS}")
    if any(unicodedata.category(char) in _NOT_IN_TEXT for char in value):
        raise _RowError("the name has control or invisible characters; type it as plain text")
    return value


def _badge(value: str) -> str:
    if not _BADGE.fullmatch(value):
        raise _RowError(
            f'badge "{_shown(value)}" is not a badge number: 1-32 letters, digits and . / # -, '
            "like 4417 or K-12"
        )
    return value


def _facility(value: str, known: set[str]) -> str:
    if value in known:
        return value
    close = difflib.get_close_matches(value, sorted(known), n=1)
    hint = f' (did you mean "{close[0]}"?)' if close else ""
    raise _RowError(
        f'unknown facility "{_shown(value)}"{hint}; the config\'s facilities are '
        + ", ".join(sorted(known))
    )


def _date(value: str, what: str) -> date:
    try:
        if _DATE.fullmatch(value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise _RowError(f'{what} "{_shown(value)}" is not a date; write it YYYY-MM-DD, like 2026-01-15')


def _reject_duplicate(entry: RosterEntry, lines: dict[str, int], path: Path) -> None:
    first = lines.setdefault(entry.user_id, entry.line)
    if first != entry.line:
        raise _error(
            path,
            entry.line,
            f"user id {entry.user_id} is listed twice (line {first} and line {entry.line}); "
            "an officer has one row: WSO officers arrest only in their own jail",
        )


def _shown(value: str, limit: int = 40) -> str:
    """A cell quoted back in an error: printable, and short."""
    cleaned = "".join(c for c in value if unicodedata.category(c) not in _NOT_IN_TEXT)
    return cleaned if len(cleaned) <= limit else cleaned[:limit] + "…"
