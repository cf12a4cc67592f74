"""The facility file and environment settings: every mistake names its exact key."""

from __future__ import annotations

import dataclasses
import tomllib
from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import (
    DEFAULT_REMINDERS,
    Config,
    ConfigError,
    EscalationLevel,
    MissingCredentials,
    Reminders,
    Settings,
    load_config,
    parse_config,
)

EXAMPLE_FILE = Path(__file__).resolve().parent.parent / "wso.example.toml"

GOOD = """\
[reminders]
before = ["1h", "24h", "30m"]

[[facility]]
id = "county-jail"
name = "County Jail"
timezone = "America/Chicago"
jail_channel = "C0123JAIL"
ice_channel = "C0456ICE"
officers = ["U0AAA", "U0BBB"]
staff = ["U0DESK"]

[[facility.escalation]]
notify = ["U0SGT"]
after = "0s"

[[facility.escalation]]
notify = ["S0SHIFT", "oncall:night-sgt"]
after = "30m"

[[facility]]
id = "north-annex"
name = "North Annex"
timezone = "America/Denver"
jail_channel = "C0777NORTH"
ice_channel = "C0777NORTH"
officers = ["W0CCC"]
"""

GOOD_FACILITY_ONLY = GOOD.split("\n\n", 1)[1]


def edited(old: str, new: str) -> str:
    """GOOD with exactly one occurrence of ``old`` replaced, so each case shows its one mistake."""
    assert GOOD.count(old) == 1, f"{old!r} must occur once in GOOD"
    return GOOD.replace(old, new)


def parse(text: str) -> Config:
    return parse_config(tomllib.loads(text), source="wso.toml")


# (case id, TOML text, expected key, words the message must contain)
BAD_CASES: list[tuple[str, str, str, tuple[str, ...]]] = [
    # unknown keys, with the closest known key suggested
    ("unknown top-level key", "reminder = true\n" + GOOD, "reminder", ('"reminders"',)),
    ("unrelated top-level key", "debug = true\n" + GOOD, "debug", ("reminders, facility",)),
    ("typo in reminders", edited("before =", "befor ="), "reminders.befor", ('"before"',)),
    (
        "typo in facility key",
        edited('timezone = "America/Chicago"', 'timezon = "America/Chicago"'),
        "facility[0].timezon",
        ('did you mean "timezone"', '"county-jail"'),
    ),
    (
        "typo in escalation key",
        edited('after = "30m"', 'afterr = "30m"'),
        "facility[0].escalation[1].afterr",
        ('"after"',),
    ),
    # structure
    ("no facilities", GOOD.split("\n\n")[0], "facility", ("[[facility]]",)),
    (
        "reminders not a table",
        edited('[reminders]\nbefore = ["1h", "24h", "30m"]', 'reminders = ["1h"]'),
        "reminders",
        ("[reminders]",),
    ),
    (
        "facility as single table",
        '[facility]\nid = "county-jail"\n',
        "facility",
        ("[[facility]]",),
    ),
    (
        "escalation as single table",
        GOOD_FACILITY_ONLY.split("[[facility.escalation]]")[0]
        + '[facility.escalation]\nnotify = ["U0SGT"]\n',
        "facility[0].escalation",
        ("[[facility.escalation]]",),
    ),
    # time zones
    (
        "unknown zone",
        edited('"America/Denver"', '"America/Denvr"'),
        "facility[1].timezone",
        ('unknown time zone "America/Denvr"', '"America/Chicago"', 'did you mean "America/Denver"'),
    ),
    (
        "zone in wrong case",
        edited('"America/Denver"', '"america/denver"'),
        "facility[1].timezone",
        ('did you mean "America/Denver"',),
    ),
    ("empty zone", edited('"America/Denver"', '""'), "facility[1].timezone", ("IANA",)),
    ("zone is a folder", edited('"America/Denver"', '"America"'), "facility[1].timezone", ()),
    ("zone not a string", edited('"America/Denver"', "-7"), "facility[1].timezone", ("string",)),
    # channels
    (
        "missing jail_channel",
        edited('jail_channel = "C0123JAIL"\n', ""),
        "facility[0].jail_channel",
        ("missing", 'jail_channel = "C0123JAIL"'),
    ),
    (
        "channel given as #name",
        edited('"C0456ICE"', '"#ice-holds"'),
        "facility[0].ice_channel",
        ("use the channel ID (like", "not its name"),
    ),
    (
        "channel given as bare name",
        edited('"C0456ICE"', '"ice-holds"'),
        "facility[0].ice_channel",
        ("not its name",),
    ),
    (
        "channel with wrong prefix",
        edited('"C0456ICE"', '"D0456ICE"'),
        "facility[0].ice_channel",
        ("start with C or G",),
    ),
    # reminders
    (
        "bad reminder duration",
        edited('["1h", "24h", "30m"]', '["1h", "soon", "30m"]'),
        "reminders.before[1]",
        ('"1h30m"',),
    ),
    ("zero reminder", edited('"24h"', '"0s"'), "reminders.before[1]", ("more than 0",)),
    ("negative reminder", edited('"24h"', '"-1h"'), "reminders.before[1]", ('"30s"',)),
    ("48h reminder", edited('"24h"', '"48h"'), "reminders.before[1]", ("less than 48h",)),
    ("2d reminder", edited('"24h"', '"2d"'), "reminders.before[1]", ("less than 48h",)),
    (
        "duplicate reminder",
        edited('"24h", "30m"]', '"24h", "60m"]'),
        "reminders.before[2]",
        ("duplicate", "reminders.before[0]"),
    ),
    ("reminder not a string", edited('"24h"', "24"), "reminders.before[1]", ("string",)),
    (
        "reminders bare string",
        edited('["1h", "24h", "30m"]', '"1h"'),
        "reminders.before",
        ("list",),
    ),
    # facility ids and names
    (
        "duplicate facility ids",
        edited('id = "north-annex"', 'id = "county-jail"'),
        "facility[1].id",
        ("duplicate", "facility[0]"),
    ),
    (
        "upper-case facility id",
        edited('id = "north-annex"', 'id = "North Annex"'),
        "facility[1].id",
        ("lower-case", '"county-jail"'),
    ),
    ("missing facility id", edited('id = "north-annex"\n', ""), "facility[1].id", ("missing",)),
    ("empty name", edited('"North Annex"', '""'), "facility[1].name", ("empty",)),
    # officers and staff
    (
        "officers as string",
        edited('officers = ["W0CCC"]', 'officers = "W0CCC"'),
        "facility[1].officers",
        ("list", "not a bare string"),
    ),
    (
        "empty officers",
        edited('officers = ["W0CCC"]', "officers = []"),
        "facility[1].officers",
        ("at least one",),
    ),
    (
        "missing officers",
        edited('officers = ["W0CCC"]\n', ""),
        "facility[1].officers",
        ("missing",),
    ),
    (
        "officer as display name",
        edited('["U0AAA", "U0BBB"]', '["U0AAA", "@jsmith"]'),
        "facility[0].officers[1]",
        ("member ID",),
    ),
    ("bad staff id", edited('["U0DESK"]', '["desk"]'), "facility[0].staff[0]", ("member ID",)),
    ("staff not a list", edited('["U0DESK"]', "7"), "facility[0].staff", ("list",)),
    # escalation
    (
        "bad escalation after",
        edited('after = "30m"', 'after = "half an hour"'),
        "facility[0].escalation[1].after",
        ('"1h30m"',),
    ),
    (
        "bad notify entry",
        edited('"oncall:night-sgt"', '"@sergeant"'),
        "facility[0].escalation[1].notify[1]",
        ("oncall:<schedule id>", '"U0SGT"'),
    ),
    (
        "oncall with upper-case schedule",
        edited('"oncall:night-sgt"', '"oncall:Night"'),
        "facility[0].escalation[1].notify[1]",
        ("oncall:",),
    ),
    (
        "empty notify",
        edited('notify = ["U0SGT"]', "notify = []"),
        "facility[0].escalation[0].notify",
        ("at least one",),
    ),
    (
        "missing notify",
        edited('notify = ["U0SGT"]\n', ""),
        "facility[0].escalation[0].notify",
        ("missing",),
    ),
]


@pytest.mark.parametrize(
    ("text", "key", "hints"),
    [case[1:] for case in BAD_CASES],
    ids=[case[0] for case in BAD_CASES],
)
def test_bad_config_names_the_key(text: str, key: str, hints: tuple[str, ...]) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(text)
    error = caught.value
    assert error.key == key
    assert error.source == "wso.toml"
    for hint in hints:
        assert hint in error.message
    assert str(error).startswith(f"wso.toml: {key}: ")


def test_error_in_a_facility_names_its_id() -> None:
    with pytest.raises(ConfigError) as caught:
        parse(edited('"C0777NORTH"\nofficers', '"#north"\nofficers'))
    assert '(in facility "north-annex")' in caught.value.message


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            ConfigError("facility[1].timezone", "bad", "wso.toml"),
            "wso.toml: facility[1].timezone: bad",
        ),
        (ConfigError("facility", "bad"), "facility: bad"),
        (ConfigError("", "bad", "wso.toml"), "wso.toml: bad"),
        (ConfigError("", "bad"), "bad"),
    ],
)
def test_config_error_text_omits_empty_parts(error: ConfigError, expected: str) -> None:
    assert str(error) == expected


# --- load_config ------------------------------------------------------------------------


def test_bad_toml_syntax_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "wso.toml"
    path.write_text('[reminders]\nbefore = ["1h"\n\n[[facility]]\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.key == ""
    assert caught.value.source == str(path)
    assert "invalid TOML" in caught.value.message
    assert "line " in caught.value.message
    assert "column " in caught.value.message


def test_missing_file_says_to_copy_the_example(tmp_path: Path) -> None:
    path = tmp_path / "wso.toml"
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.key == ""
    assert caught.value.message.startswith(f"config file not found: {path}")
    assert "wso.example.toml" in caught.value.message


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "wso.toml"
    path.write_bytes(b"name = '\xff'\n")
    with pytest.raises(ConfigError, match="UTF-8"):
        load_config(path)


def test_load_config_reports_its_path_as_source(tmp_path: Path) -> None:
    path = tmp_path / "wso.toml"
    path.write_text(edited("before =", "befor ="), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.source == str(path)
    assert caught.value.key == "reminders.befor"


# --- good configs -----------------------------------------------------------------------


def test_example_file_parses() -> None:
    config = load_config(EXAMPLE_FILE)
    assert config.facilities
    for facility in config.facilities:
        assert facility.zone.key == facility.timezone_name
        assert facility.officers
    assert config.reminders.before == DEFAULT_REMINDERS


def test_good_config_parses_every_field() -> None:
    config = parse(GOOD)
    county = config.facility("county-jail")
    assert county is not None
    assert county.name == "County Jail"
    assert county.timezone_name == "America/Chicago"
    assert county.zone.key == "America/Chicago"
    assert county.channels() == ("C0123JAIL", "C0456ICE")
    assert county.officers == frozenset({"U0AAA", "U0BBB"})
    assert county.staff == frozenset({"U0DESK"})
    assert county.escalation == (
        EscalationLevel(notify=("U0SGT",), after=timedelta(0)),
        EscalationLevel(notify=("S0SHIFT", "oncall:night-sgt"), after=timedelta(minutes=30)),
    )


def test_reminders_sorted_longest_first() -> None:
    assert parse(GOOD).reminders.before == (
        timedelta(hours=24),
        timedelta(hours=1),
        timedelta(minutes=30),
    )
    assert Reminders((timedelta(minutes=5), timedelta(hours=2))).before == (
        timedelta(hours=2),
        timedelta(minutes=5),
    )


@pytest.mark.parametrize(
    "text",
    [GOOD_FACILITY_ONLY, "[reminders]\n\n" + GOOD_FACILITY_ONLY],
    ids=["no [reminders]", "no before"],
)
def test_default_reminders(text: str) -> None:
    assert parse(text).reminders.before == DEFAULT_REMINDERS


def test_empty_reminders_means_none() -> None:
    assert parse(edited('["1h", "24h", "30m"]', "[]")).reminders.before == ()


def test_optional_facility_keys_default() -> None:
    annex = parse(GOOD).facility("north-annex")
    assert annex is not None
    assert annex.staff == frozenset()
    assert annex.escalation == ()


def test_escalation_after_defaults_to_zero() -> None:
    config = parse(edited('after = "30m"\n', ""))
    county = config.facility("county-jail")
    assert county is not None
    assert county.escalation[1].after == timedelta(0)


def test_lookups() -> None:
    config = parse(GOOD)
    county, annex = config.facilities
    assert config.facility("nowhere") is None
    assert config.facilities_for_channel("C0123JAIL") == (county,)
    assert config.facilities_for_channel("C0456ICE") == (county,)
    assert config.facilities_for_channel("C0777NORTH") == (annex,)
    assert config.facilities_for_channel("C0OTHER") == ()
    assert config.facilities_for_officer("W0CCC") == (annex,)
    assert config.facilities_for_officer("U0DESK") == ()


def test_channel_shared_by_two_facilities() -> None:
    config = parse(edited('"C0777NORTH"\nofficers', '"C0456ICE"\nofficers'))
    assert [each.id for each in config.facilities_for_channel("C0456ICE")] == [
        "county-jail",
        "north-annex",
    ]


@pytest.mark.parametrize(
    ("user_id", "may_log_arrest", "may_close"),
    [("U0AAA", True, True), ("U0DESK", False, True), ("U0NOBODY", False, False)],
)
def test_permissions(user_id: str, may_log_arrest: bool, may_close: bool) -> None:
    county = parse(GOOD).facilities[0]
    assert county.may_log_arrest(user_id) is may_log_arrest
    assert county.may_close(user_id) is may_close


def test_config_is_frozen() -> None:
    config = parse(GOOD)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.facilities[0].name = "Other"  # type: ignore[misc]


# --- Settings ---------------------------------------------------------------------------

CREDENTIALS = {"SLACK_BOT_TOKEN": "xoxb-test-token", "SLACK_SIGNING_SECRET": "signing-secret-123"}


def settings(**extra: str) -> Settings:
    return Settings.from_env({**CREDENTIALS, **extra})


def test_settings_defaults() -> None:
    loaded = settings()
    assert loaded == Settings(
        slack_bot_token="xoxb-test-token",
        slack_signing_secret="signing-secret-123",
        slack_api_url="https://slack.com/api/",
        config_path=Path("wso.toml"),
        db_path=Path("wso.db"),
        port=3000,
        host="0.0.0.0",
    )


def test_settings_from_every_variable() -> None:
    loaded = settings(
        SLACK_API_URL="http://127.0.0.1:9999/api/",
        WSO_CONFIG="/etc/wso/wso.toml",
        WSO_DB="/var/lib/wso/wso.db",
        PORT="8080",
        HOST="127.0.0.1",
    )
    assert loaded.slack_api_url == "http://127.0.0.1:9999/api/"
    assert loaded.config_path == Path("/etc/wso/wso.toml")
    assert loaded.db_path == Path("/var/lib/wso/wso.db")
    assert loaded.port == 8080
    assert loaded.host == "127.0.0.1"


def test_empty_variables_mean_defaults() -> None:
    loaded = settings(SLACK_API_URL="", WSO_CONFIG="", WSO_DB=" ", PORT="", HOST="")
    assert loaded == settings()


@pytest.mark.parametrize(
    ("environ", "missing"),
    [
        ({}, ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")),
        (
            {"SLACK_BOT_TOKEN": "", "SLACK_SIGNING_SECRET": "  "},
            ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"),
        ),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, ("SLACK_SIGNING_SECRET",)),
        ({"SLACK_SIGNING_SECRET": "s"}, ("SLACK_BOT_TOKEN",)),
    ],
)
def test_missing_credentials_lists_them(environ: dict[str, str], missing: tuple[str, ...]) -> None:
    with pytest.raises(MissingCredentials) as caught:
        Settings.from_env(environ)
    assert caught.value.missing == missing
    for name in missing:
        assert name in str(caught.value)


def test_secrets_never_shown() -> None:
    loaded = settings()
    for text in (repr(loaded), str(loaded), f"{loaded}", f"{loaded!r}"):
        assert "xoxb-test-token" not in text
        assert "signing-secret-123" not in text
    assert "Settings(" in repr(loaded)


@pytest.mark.parametrize("port", ["0", "65536", "abc", "3.5", "-1", "80 80", "²"])
def test_bad_port_names_port(port: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings(PORT=port)
    assert caught.value.key == "PORT"
    assert "1 to 65535" in caught.value.message


@pytest.mark.parametrize("port", ["1", "65535", " 8080 "])
def test_good_ports(port: str) -> None:
    assert settings(PORT=port).port == int(port)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://slack.com/api", "https://slack.com/api/"),
        ("https://slack.com/api/", "https://slack.com/api/"),
        ("http://127.0.0.1:8123", "http://127.0.0.1:8123/"),
    ],
)
def test_api_url_ends_with_slash(url: str, expected: str) -> None:
    assert settings(SLACK_API_URL=url).slack_api_url == expected


def test_api_url_must_be_http() -> None:
    with pytest.raises(ConfigError) as caught:
        settings(SLACK_API_URL="slack.com/api")
    assert caught.value.key == "SLACK_API_URL"
