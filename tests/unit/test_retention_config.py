"""``retention_days`` in the facility file, and the file's SHA-256 kept with the config."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from bot.config import ConfigError, load_config, parse_config
from tests.conftest import COUNTY_JAIL_TOML, config_document


def test_retention_days_is_read_and_defaults_to_never() -> None:
    assert parse_config(config_document()).retention_days is None
    assert parse_config({**config_document(), "retention_days": 365}).retention_days == 365


@pytest.mark.parametrize(
    ("value", "said"),
    [
        (0, "must be from 1 to 3650 days, like 365 (got 0)"),
        (3651, "must be from 1 to 3650 days, like 365 (got 3651)"),
        ("365", "must be a whole number of days, like 365 (got a str)"),
        (True, "must be a whole number of days, like 365"),
        (36.5, "must be a whole number of days, like 365"),
    ],
)
def test_a_bad_retention_days_is_named_with_an_example(value: object, said: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({**config_document(), "retention_days": value}, source="wso.toml")
    assert caught.value.key == "retention_days"
    assert said in caught.value.message


def test_a_loaded_config_knows_its_file_s_sha256(tmp_path: Path) -> None:
    path = tmp_path / "wso.toml"
    path.write_text("retention_days = 30\n" + COUNTY_JAIL_TOML)
    config = load_config(path)
    assert config.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert config.retention_days == 30
    assert parse_config(config_document()).sha256 is None  # not read from a file
