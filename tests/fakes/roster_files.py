"""Officer rosters for tests: a real CSV file beside a real config file, as operators write them."""

from __future__ import annotations

from pathlib import Path

from bot.config.roster_file import HEADER_LINE

ROSTER_KEY = 'roster = "officers.csv"\n'


def facility_toml(
    facility_id: str,
    name: str,
    zone: str,
    channels: tuple[str, str],
    **lists: list[str],
) -> str:
    """One ``[[facility]]`` table; ``lists`` are its people (``officers=[...]``, ``staff=...``)."""
    lines = [
        "",
        "[[facility]]",
        f'id = "{facility_id}"',
        f'name = "{name}"',
        f'timezone = "{zone}"',
        f'jail_channel = "{channels[0]}"',
        f'ice_channel = "{channels[1]}"',
    ]
    lines += [f"{key} = {people!r}".replace("'", '"') for key, people in lists.items()]
    return "\n".join(lines) + "\n"


COUNTY = ("county-jail", "County Jail", "America/Chicago", ("C0JAIL", "C0ICE"))
NORTH = ("north-annex", "North Annex", "America/New_York", ("C0NJAIL", "C0NICE"))


def write_roster(folder: Path, *rows: str) -> Path:
    """``folder/officers.csv``: the header line, then ``rows``."""
    path = folder / "officers.csv"
    path.write_text("\n".join([HEADER_LINE, *rows]) + "\n", encoding="utf-8")
    return path


def write_config(folder: Path, text: str, *rows: str) -> Path:
    """``folder/wso.toml`` holding ``text``, and the roster beside it; the config's path."""
    write_roster(folder, *rows)
    path = folder / "wso.toml"
    path.write_text(text, encoding="utf-8")
    return path
