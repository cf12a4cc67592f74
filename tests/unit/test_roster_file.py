"""The roster file (``roster = "officers.csv"``): read strictly, each mistake named by line.

Every refusal names the file, the line and what was wrong, and shows a right row; the
files are real files beside a real config file, read as ``check-config`` reads them.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from bot.config import MAX_ROSTER_FILE_BYTES, Config, ConfigError, load_config, load_roster
from bot.config.roster_file import EXAMPLE_ROW, HEADER_LINE
from bot.core.roster import RosterEntry
from tests.fakes.roster_files import COUNTY, NORTH, ROSTER_KEY, facility_toml, write_config

CONFIG = ROSTER_KEY + facility_toml(*COUNTY) + facility_toml(*NORTH, officers=["U0LISTED"])
DANA = "U0AAA,Dana Reyes,4417,county-jail,2025-01-15,2027-01-15"
SAM = 'U0BBB,"Lee, Sam",K-12,north-annex,2024-06-01,2026-12-20'


def write(tmp_path: Path, *rows: str, config: str = CONFIG, header: str = HEADER_LINE) -> Path:
    path = write_config(tmp_path, config)
    (tmp_path / "officers.csv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def refused(path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return caught.value


def test_a_good_roster_stands_in_place_of_officers(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, DANA, "", SAM))

    county, north = config.facilities
    assert config.roster.current.entries == (
        RosterEntry("U0AAA", "Dana Reyes", "4417", "county-jail", date(2025, 1, 15),
                    date(2027, 1, 15), line=2),
        RosterEntry("U0BBB", "Lee, Sam", "K-12", "north-annex", date(2024, 6, 1),
                    date(2026, 12, 20), line=4),
    )  # fmt: skip
    assert config.roster.current.source == "officers.csv"
    assert config.roster_path == str(tmp_path / "officers.csv")
    assert county.officers == frozenset() and county.is_officer("U0AAA")
    # Beside `officers`: both count.
    assert north.current_officers() == frozenset({"U0LISTED", "U0BBB"})
    assert county.roster is north.roster is config.roster


def test_a_spreadsheet_export_with_a_byte_order_mark_and_crlf_is_read(tmp_path: Path) -> None:
    text = "\ufeff" + "\r\n".join([HEADER_LINE, DANA, SAM]) + "\r\n"
    (tmp_path / "officers.csv").write_bytes(text.encode("utf-8"))
    path = tmp_path / "wso.toml"
    path.write_text(CONFIG, encoding="utf-8")

    assert [e.user_id for e in load_config(path).roster.current.entries] == ["U0AAA", "U0BBB"]


@pytest.mark.parametrize(
    ("rows", "line", "what"),
    [
        pytest.param([DANA, "U0CCC,Ana Cruz,3301,county-jail,2025-01-15"], 3, "5 fields",
                     id="a-field-missing"),
        pytest.param([DANA + ",extra"], 2, "7 fields", id="a-field-too-many"),
        pytest.param(["dana,Dana Reyes,4417,county-jail,2025-01-15,2027-01-15"], 2,
                     'user id "dana" is not a Slack member ID', id="user-id"),
        pytest.param(["U0AAA,,4417,county-jail,2025-01-15,2027-01-15"], 2, "the name is empty",
                     id="no-name"),
        pytest.param(["U0AAA," + "N" * 81 + ",4417,county-jail,2025-01-15,2027-01-15"], 2,
                     "the name is 81 characters", id="long-name"),
        pytest.param(["U0AAA,Dana\u202eReyes,4417,county-jail,2025-01-15,2027-01-15"], 2,
                     "control or invisible characters", id="bidi-in-name"),
        pytest.param(["U0AAA,Dana Reyes,<!channel>,county-jail,2025-01-15,2027-01-15"], 2,
                     'badge "<!channel>" is not a badge number', id="badge"),
        pytest.param(["U0AAA,Dana Reyes,4417,north-anex,2025-01-15,2027-01-15"], 2,
                     'unknown facility "north-anex" (did you mean "north-annex"?)',
                     id="unknown-facility"),
        pytest.param([DANA, "U0CCC,Ana Cruz,3301,mars-base,2025-01-15,2027-01-15"], 3,
                     "the config's facilities are county-jail, north-annex",
                     id="facility-not-configured"),
        pytest.param(["U0AAA,Dana Reyes,4417,county-jail,2025-02-30,2027-01-15"], 2,
                     'certification date "2025-02-30" is not a date', id="no-such-day"),
        pytest.param(["U0AAA,Dana Reyes,4417,county-jail,2025-01-15,01/15/2027"], 2,
                     'expiry date "01/15/2027" is not a date; write it YYYY-MM-DD',
                     id="us-date"),
        pytest.param(["U0AAA,Dana Reyes,4417,county-jail,2027-01-15,2025-01-15"], 2,
                     "the expiry date 2025-01-15 is not after the certification date",
                     id="expiry-before-certification"),
        pytest.param([DANA, SAM, DANA.replace("4417", "4418")], 4,
                     "user id U0AAA is listed twice (line 2 and line 4)", id="duplicate"),
        pytest.param([DANA, 'U0BBB,"Lee\nSam",K-12,north-annex,2024-06-01,2026-12-20'], 3,
                     "a quoted field runs over several lines", id="line-break-in-a-field"),
        pytest.param([DANA, 'U0BBB,"Lee" Sam,K-12,north-annex,2024-06-01,2026-12-20'], 3,
                     "not valid CSV", id="stray-quote"),
    ],
)  # fmt: skip
def test_a_bad_row_is_named_by_file_and_line_with_a_right_row(
    tmp_path: Path, rows: list[str], line: int, what: str
) -> None:
    error = refused(write(tmp_path, *rows))

    assert error.key == "roster"
    assert f"{tmp_path / 'officers.csv'}, line {line}: " in error.message
    assert what in error.message
    assert f"A right row looks like: {EXAMPLE_ROW}" in error.message
    assert str(error).startswith(f"{tmp_path / 'wso.toml'}: roster: ")


@pytest.mark.parametrize(
    "header",
    ["user_id,name,badge,facility,certified,expires", DANA, "user_id;name;badge;facility"],
)
def test_the_first_line_must_be_the_header(tmp_path: Path, header: str) -> None:
    error = refused(write(tmp_path, DANA, header=header))
    assert f"officers.csv, line 1: the first line must be the header {HEADER_LINE}" in (
        error.message
    )


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    write(tmp_path)
    (tmp_path / "officers.csv").write_bytes(b"")
    assert "line 1: the file is empty" in refused(tmp_path / "wso.toml").message


def test_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, DANA)
    (tmp_path / "officers.csv").write_bytes(
        (HEADER_LINE + "\n" + DANA + "\n").encode()
        + b"U0BBB,Jos\xe9,1,county-jail,2025-01-01,2026-01-01\n"
    )
    assert "officers.csv, line 3: the file is not UTF-8 text" in refused(path).message


def test_a_facility_left_without_any_officer_is_named(tmp_path: Path) -> None:
    error = refused(write(tmp_path, SAM))  # nobody at county-jail
    assert error.key == "facility[0].officers"
    assert 'facility "county-jail" has no officers' in error.message
    assert "officers.csv" in error.message


def test_without_a_roster_officers_are_still_required(tmp_path: Path) -> None:
    error = refused(write(tmp_path, DANA, config=CONFIG.replace('roster = "officers.csv"', "")))
    assert error.key == "facility[0].officers"


def test_a_missing_roster_file_says_where_it_looked(tmp_path: Path) -> None:
    path = write(tmp_path, DANA)
    (tmp_path / "officers.csv").unlink()
    error = refused(path)
    assert error.key == "roster"
    assert f"file not found: {tmp_path / 'officers.csv'}" in error.message
    assert "officers.example.csv" in error.message


def test_the_roster_is_read_from_the_config_files_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    etc = tmp_path / "etc"
    etc.mkdir()
    write(etc, DANA)
    monkeypatch.chdir(tmp_path)
    assert load_config(Path("etc/wso.toml")).roster_path == str(Path("etc/officers.csv"))


def test_a_roster_file_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    path = write(tmp_path, DANA)
    with (tmp_path / "officers.csv").open("a") as grown:
        grown.write(" " * MAX_ROSTER_FILE_BYTES)
    assert "it is larger than 1 MiB, the limit for an officer roster" in refused(path).message


def test_a_fifo_is_refused_without_hanging(tmp_path: Path) -> None:
    path = write(tmp_path, DANA)
    (tmp_path / "officers.csv").unlink()
    os.mkfifo(tmp_path / "officers.csv")
    assert "it is a FIFO (named pipe), not a regular file" in refused(path).message


def test_a_roster_key_that_is_not_a_file_name(tmp_path: Path) -> None:
    error = refused(write(tmp_path, DANA, config=CONFIG.replace('"officers.csv"', '""')))
    assert (error.key, error.message) == (
        "roster",
        'must name the officer roster file, like "officers.csv"',
    )


def test_load_roster_reads_the_file_again_as_a_reload_does(tmp_path: Path) -> None:
    config: Config = load_config(write(tmp_path, DANA))
    (tmp_path / "officers.csv").write_text(f"{HEADER_LINE}\n{DANA}\n{SAM}\n", encoding="utf-8")

    reread = load_roster(tmp_path / "officers.csv", config.facilities, "officers.csv")

    assert [e.user_id for e in reread.entries] == ["U0AAA", "U0BBB"]
    assert config.roster.current.entry("U0BBB") is None  # nothing changes until it is put in force


def test_the_shipped_example_roster_fits_the_shipped_example_config() -> None:
    repo = Path(__file__).resolve().parents[2]
    config = load_config(repo / "wso.example.toml")
    assert '#roster = "officers.csv"' in (repo / "wso.example.toml").read_text()

    roster = load_roster(repo / "officers.example.csv", config.facilities)

    assert {(e.user_id, e.facility_id) for e in roster.entries} == {
        ("U0AAA", "county-jail"),
        ("U0BBB", "county-jail"),
        ("U0CCC", "north-annex"),
    }
