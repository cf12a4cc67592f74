"""The facility file and environment settings: every mistake names its exact key."""

from __future__ import annotations

import ast
import dataclasses
import os
import re
import shutil
import tomllib
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.config import (
    DEFAULT_REMINDERS,
    MAX_CONFIG_FILE_BYTES,
    MAX_ESCALATION_LEVELS,
    MAX_ESCALATION_REPEAT,
    MAX_FACILITY_NAME_CHARS,
    MAX_ICAL_FILE_BYTES,
    MAX_NOTIFY_ENTRIES,
    MAX_REMINDERS,
    MAX_WEBHOOKS,
    Config,
    ConfigError,
    EscalationLevel,
    IceEscalationLevel,
    MissingCredentials,
    Reminders,
    Settings,
    Webhook,
    check_config_path,
    load_config,
    parse_config,
    referenced_user_groups,
)
from bot.core.custody_plan import plan_acknowledged_custody, plan_logged_custody
from bot.core.model import CUSTODY_WINDOW, Custody, NoticeKind
from bot.core.oncall import Override, Rotation, RotationPeriod, on_call

EXAMPLE_FILE = Path(__file__).resolve().parents[2] / "wso.example.toml"

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
ice_staff = ["U0ERO1"]
igsa = true
escalation_repeat = 2
reack_after = "45m"
pagerduty_routing_key = "R0123456789ABCDEF0123456789ABCDE"

[[facility.escalation]]
notify = ["U0SGT"]
after = "0s"

[[facility.escalation]]
notify = ["S0SHIFT", "oncall:night-sgt"]
after = "30m"

[[facility.ice_escalation]]
notify = ["U0ICEDUTY", "oncall:ice-duty"]
before = "4h"

[[facility.ice_escalation]]
notify = ["S0ICE", "S0SHIFT"]
before = "1h"
after = "5m"

[[facility]]
id = "north-annex"
name = "North Annex"
timezone = "America/Denver"
jail_channel = "C0777NORTH"
ice_channel = "C0777NORTH"
officers = ["W0CCC"]

[[schedule]]
id = "night-sgt"
timezone = "America/Chicago"
handoff = "07:00"
rotation = "weekly"
users = ["U0LT1", "U0LT2"]
start = "2026-01-05"
overrides = [
  { user = "U0LT3", from = "2026-11-28T19:00:00-06:00", to = "2026-11-29 07:00" },
  { user = "U0LT1", from = "2026-12-24 19:00", to = "2026-12-25 07:00" },
]

[[schedule]]
id = "ice-duty"
timezone = "America/New_York"
handoff = "08:00"
rotation = "daily"
users = ["U0ICE1"]

[[webhook]]
url = "https://jms.example.org/wso-events"
secret = "webhook-secret-123"
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
    (
        "typo in reminders",
        edited('before = ["1h"', 'befor = ["1h"'),
        "reminders.befor",
        ('"before"',),
    ),
    (
        "typo in facility key",
        edited('timezone = "America/Chicago"\njail', 'timezon = "America/Chicago"\njail'),
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
    (
        "bad ice_staff id",
        edited('["U0ERO1"]', '["ero"]'),
        "facility[0].ice_staff[0]",
        ("member ID",),
    ),
    ("igsa as text", edited("igsa = true", 'igsa = "yes"'), "facility[0].igsa", ("true or false",)),
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


ICE_DUTY_ROTATION = 'handoff = "08:00"\nrotation = "daily"\nusers = ["U0ICE1"]\n'
OVERRIDE_1 = '{ user = "U0LT1", from = "2026-12-24 19:00", to = "2026-12-25 07:00" }'

BAD_CASES += [
    # unknown keys in the new tables, with the closest known key suggested
    (
        "top-level schedules",
        edited('[[schedule]]\nid = "ice', '[[schedules]]\nid = "ice'),
        "schedules",
        ('"schedule"',),
    ),
    (
        "typo in escalation_repeat",
        edited("escalation_repeat = 2", "escalation_repat = 2"),
        "facility[0].escalation_repat",
        ('"escalation_repeat"', '(in facility "county-jail")'),
    ),
    (
        "typo in ice escalation",
        edited('before = "4h"', 'befor = "4h"'),
        "facility[0].ice_escalation[0].befor",
        ('"before"',),
    ),
    (
        "typo in schedule key",
        edited('handoff = "07:00"', 'handof = "07:00"'),
        "schedule[0].handof",
        ('did you mean "handoff"', '(in schedule "night-sgt")'),
    ),
    (
        "typo in override key",
        edited('{ user = "U0LT3", from', '{ user = "U0LT3", form'),
        "schedule[0].overrides[0].form",
        ('"from"',),
    ),
    (
        "typo in webhook key",
        edited("secret =", "secret_key ="),
        "webhook[0].secret_key",
        ('"secret"',),
    ),
    # oncall references
    (
        "oncall names an unknown schedule",
        edited('"oncall:night-sgt"', '"oncall:night-sgg"'),
        "facility[0].escalation[1].notify[1]",
        ('"night-sgg"', 'did you mean "oncall:night-sgt"', "known schedules: night-sgt, ice-duty"),
    ),
    (
        "ice oncall names an unknown schedule",
        edited('"oncall:ice-duty"', '"oncall:ice"'),
        "facility[0].ice_escalation[0].notify[1]",
        ("known schedules: night-sgt, ice-duty",),
    ),
    (
        "oncall with no schedules at all",
        GOOD.split("[[schedule]]")[0].replace(', "oncall:ice-duty"', ""),
        "facility[0].escalation[1].notify[1]",
        ("no schedules yet",),
    ),
    (
        "bad ice notify entry",
        edited('["S0ICE", "S0SHIFT"]', '["S0ICE", "#ice"]'),
        "facility[0].ice_escalation[1].notify[1]",
        ("oncall:<schedule id>",),
    ),
    # escalation_repeat, reack_after, pagerduty_routing_key
    (
        "negative repeat",
        edited("escalation_repeat = 2", "escalation_repeat = -1"),
        "facility[0].escalation_repeat",
        ("0 or more",),
    ),
    (
        "bool repeat",
        edited("escalation_repeat = 2", "escalation_repeat = true"),
        "facility[0].escalation_repeat",
        ("whole number", "true/false"),
    ),
    (
        "string repeat",
        edited("escalation_repeat = 2", 'escalation_repeat = "2"'),
        "facility[0].escalation_repeat",
        ("whole number", "a str"),
    ),
    (
        "float repeat",
        edited("escalation_repeat = 2", "escalation_repeat = 1.5"),
        "facility[0].escalation_repeat",
        ("whole number", "a number"),
    ),
    ("zero reack_after", edited('"45m"', '"0s"'), "facility[0].reack_after", ("more than 0",)),
    ("bad reack_after", edited('"45m"', '"soon"'), "facility[0].reack_after", ('"1h30m"',)),
    ("reack_after a number", edited('"45m"', "45"), "facility[0].reack_after", ("string",)),
    (
        "short routing key",
        edited('"R0123456789ABCDEF0123456789ABCDE"', '"R0123"'),
        "facility[0].pagerduty_routing_key",
        ("PagerDuty", "got 5 characters"),
    ),
    (
        "routing key with symbols",
        edited('"R0123456789ABCDEF0123456789ABCDE"', '"R0123456789-ABCDEF-0123456789"'),
        "facility[0].pagerduty_routing_key",
        ("letters and digits",),
    ),
    (
        "empty routing key",
        edited('"R0123456789ABCDEF0123456789ABCDE"', '""'),
        "facility[0].pagerduty_routing_key",
        ("got 0 characters",),
    ),
    # ice escalation levels
    (
        "ice before 48h",
        edited('before = "4h"', 'before = "48h"'),
        "facility[0].ice_escalation[0].before",
        ("less than 48h",),
    ),
    (
        "ice before 0",
        edited('before = "4h"', 'before = "0s"'),
        "facility[0].ice_escalation[0].before",
        ("more than 0",),
    ),
    (
        "ice before bad",
        edited('before = "4h"', 'before = "4 hours"'),
        "facility[0].ice_escalation[0].before",
        ('"1h30m"',),
    ),
    (
        "ice before missing",
        edited('before = "4h"\n', ""),
        "facility[0].ice_escalation[0].before",
        ("missing", 'before = "4h"'),
    ),
    (
        "ice after bad",
        edited('after = "5m"', 'after = "later"'),
        "facility[0].ice_escalation[1].after",
        ('"1h30m"',),
    ),
    (
        "ice escalation as single table",
        GOOD.split("[[facility.ice_escalation]]")[0]
        + '[facility.ice_escalation]\nnotify = ["U0X"]\nbefore = "1h"\n',
        "facility[0].ice_escalation",
        ("[[facility.ice_escalation]]",),
    ),
    # schedules
    (
        "duplicate schedule ids",
        edited('id = "ice-duty"', 'id = "night-sgt"'),
        "schedule[1].id",
        ('duplicate schedule id "night-sgt"', "schedule[0]"),
    ),
    (
        "upper-case schedule id",
        edited('id = "ice-duty"', 'id = "ICE"'),
        "schedule[1].id",
        ('"watch-commanders"',),
    ),
    (
        "missing schedule id",
        edited('[[schedule]]\nid = "ice-duty"\n', "[[schedule]]\n"),
        "schedule[1].id",
        ("missing", 'id = "watch-commanders"'),
    ),
    (
        "missing schedule zone",
        edited('timezone = "America/New_York"\n', ""),
        "schedule[1].timezone",
        ("missing",),
    ),
    (
        "bad schedule zone",
        edited('"America/New_York"', '"America/NewYork"'),
        "schedule[1].timezone",
        ('did you mean "America/New_York"', '(in schedule "ice-duty")'),
    ),
    (
        "monthly rotation",
        edited('rotation = "daily"', 'rotation = "monthly"'),
        "schedule[1].rotation",
        ('"monthly" is not a rotation', '"daily" or "weekly"'),
    ),
    (
        "rotation in capitals",
        edited('rotation = "daily"', 'rotation = "Daily"'),
        "schedule[1].rotation",
        ('"daily"',),
    ),
    ("handoff 8am", edited('"08:00"', '"8am"'), "schedule[1].handoff", ("HH:MM",)),
    ("handoff one digit", edited('"08:00"', '"8:00"'), "schedule[1].handoff", ("HH:MM",)),
    ("handoff 24:00", edited('"08:00"', '"24:00"'), "schedule[1].handoff", ("HH:MM",)),
    ("handoff 07:60", edited('"08:00"', '"07:60"'), "schedule[1].handoff", ("HH:MM",)),
    ("handoff with seconds", edited('"08:00"', '"08:00:00"'), "schedule[1].handoff", ("HH:MM",)),
    ("handoff a number", edited('"08:00"', "8"), "schedule[1].handoff", ("string",)),
    (
        "missing handoff",
        edited('handoff = "08:00"\n', ""),
        "schedule[1].handoff",
        ("missing", 'handoff = "07:00"'),
    ),
    ("missing rotation", edited('rotation = "daily"\n', ""), "schedule[1].rotation", ("missing",)),
    ("missing users", edited('users = ["U0ICE1"]\n', ""), "schedule[1].users", ("missing",)),
    (
        "empty users",
        edited('users = ["U0ICE1"]', "users = []"),
        "schedule[1].users",
        ("at least one",),
    ),
    (
        "bad user",
        edited('users = ["U0ICE1"]', 'users = ["U0ICE1", "ice duty"]'),
        "schedule[1].users[1]",
        ("member ID",),
    ),
    ("bad start", edited('"2026-01-05"', '"next monday"'), "schedule[0].start", ("YYYY-MM-DD",)),
    (
        "impossible start",
        edited('"2026-01-05"', '"2026-02-30"'),
        "schedule[0].start",
        ("YYYY-MM-DD",),
    ),
    (
        "start with time",
        edited('start = "2026-01-05"', "start = 2026-01-05T07:00:00"),
        "schedule[0].start",
        ("string",),
    ),
    (
        "both ical and rotation",
        edited('id = "ice-duty"\n', 'id = "ice-duty"\nical = "ice.ics"\n'),
        "schedule[1].ical",
        ("not both", "handoff, rotation, users"),
    ),
    (
        "neither ical nor rotation",
        edited(ICE_DUTY_ROTATION, ""),
        "schedule[1]",
        ("needs either", "ical ="),
    ),
    (
        "ical missing (relative to the working directory)",
        edited(ICE_DUTY_ROTATION, 'ical = "no-such-dir/ice-duty.ics"\n'),
        "schedule[1].ical",
        ("file not found", "ice-duty.ics"),
    ),
    ("ical not a string", edited(ICE_DUTY_ROTATION, "ical = 7\n"), "schedule[1].ical", ("string",)),
    ("ical empty", edited(ICE_DUTY_ROTATION, 'ical = ""\n'), "schedule[1].ical", (".ics",)),
    (
        "schedule as single table",
        GOOD.split("[[schedule]]")[0] + '[schedule]\nid = "night-sgt"\n',
        "schedule",
        ("[[schedule]]",),
    ),
    # overrides
    (
        "overlapping overrides",
        edited(
            OVERRIDE_1, '{ user = "U0LT1", from = "2026-11-29 06:00", to = "2026-11-29 09:00" }'
        ),
        "schedule[0].overrides[1]",
        ("overlaps overrides[0]", "U0LT3", "2026-11-28T19:00-06:00 to 2026-11-29T07:00-06:00"),
    ),
    (
        "override inside another",
        edited(
            OVERRIDE_1, '{ user = "U0LT2", from = "2026-11-28 20:00", to = "2026-11-28 21:00" }'
        ),
        "schedule[0].overrides[1]",
        ("overlaps overrides[0]",),
    ),
    (
        "override ends at its start",
        edited('to = "2026-12-25 07:00"', 'to = "2026-12-24 19:00"'),
        "schedule[0].overrides[1].to",
        ("must be after from (2026-12-24T19:00-06:00)",),
    ),
    (
        "override ends before its start",
        edited('to = "2026-12-25 07:00"', 'to = "2026-12-24T18:00:00-06:00"'),
        "schedule[0].overrides[1].to",
        ("must be after from",),
    ),
    (
        "override ending after year 9999 in UTC",
        edited('to = "2026-12-25 07:00"', 'to = "9999-12-31 23:59"'),
        "schedule[0].overrides[1].to",
        ("out of range", "2026-12-24 19:00"),
    ),
    (
        "override with an offset, ending after year 9999 in UTC",
        edited('to = "2026-12-25 07:00"', "to = 9999-12-31T23:59:00-06:00"),
        "schedule[0].overrides[1].to",
        ("out of range",),
    ),
    (
        "override user a name",
        edited('{ user = "U0LT1"', '{ user = "lt1"'),
        "schedule[0].overrides[1].user",
        ("member ID",),
    ),
    (
        "override user missing",
        edited('{ user = "U0LT1", ', "{ "),
        "schedule[0].overrides[1].user",
        ("missing",),
    ),
    (
        "override to missing",
        edited(', to = "2026-12-25 07:00"', ""),
        "schedule[0].overrides[1].to",
        ("missing",),
    ),
    (
        "override from words",
        edited('"2026-12-24 19:00"', '"Christmas Eve"'),
        "schedule[0].overrides[1].from",
        ("YYYY-MM-DD HH:MM", "offset"),
    ),
    (
        "override from date only",
        edited('"2026-12-24 19:00"', '"2026-12-24"'),
        "schedule[0].overrides[1].from",
        ("YYYY-MM-DD HH:MM",),
    ),
    (
        "override from impossible",
        edited('"2026-12-24 19:00"', '"2026-12-34 19:00"'),
        "schedule[0].overrides[1].from",
        ("not a date and time",),
    ),
    (
        "override from ambiguous",
        edited(
            OVERRIDE_1, '{ user = "U0LT1", from = "2026-11-01 01:30", to = "2026-11-01 03:00" }'
        ),
        "schedule[0].overrides[1].from",
        ("happens twice", '"2026-11-01T01:30-05:00" or "2026-11-01T01:30-06:00"'),
    ),
    (
        "override to skipped",
        edited(
            OVERRIDE_1, '{ user = "U0LT1", from = "2026-03-07 19:00", to = "2026-03-08 02:30" }'
        ),
        "schedule[0].overrides[1].to",
        (
            "does not exist",
            "America/Chicago",
            '"2026-03-08T02:30-06:00" or "2026-03-08T02:30-05:00"',
        ),
    ),
    ("overrides not tables", edited(OVERRIDE_1, '"U0LT1"'), "schedule[0].overrides", ("{ user =",)),
    # webhooks
    (
        "webhook ftp",
        edited('"https://jms.example.org/wso-events"', '"ftp://jms.example.org/x"'),
        "webhook[0].url",
        ("http(s) URL",),
    ),
    (
        "webhook no scheme",
        edited('"https://jms.example.org/wso-events"', '"jms.example.org/x"'),
        "webhook[0].url",
        ("http(s) URL",),
    ),
    (
        "webhook no host",
        edited('"https://jms.example.org/wso-events"', '"https:///wso-events"'),
        "webhook[0].url",
        ("with a host",),
    ),
    (
        "webhook bad IPv6",
        edited('"https://jms.example.org/wso-events"', '"https://[::1/x"'),
        "webhook[0].url",
        ("http(s) URL",),
    ),
    (
        "webhook url missing",
        edited('url = "https://jms.example.org/wso-events"\n', ""),
        "webhook[0].url",
        ("missing",),
    ),
    (
        "webhook secret empty",
        edited('"webhook-secret-123"', '"  "'),
        "webhook[0].secret",
        ("non-empty",),
    ),
    (
        "webhook secret a number",
        edited('"webhook-secret-123"', "123"),
        "webhook[0].secret",
        ("non-empty",),
    ),
    (
        "webhook secret missing",
        edited('secret = "webhook-secret-123"\n', ""),
        "webhook[0].secret",
        ("missing",),
    ),
    ("webhook as single table", edited("[[webhook]]", "[webhook]"), "webhook", ("[[webhook]]",)),
]


# Ceilings: what multiplies one arrest's notices, and what is rendered into every message.
ELEVEN_REMINDERS = ", ".join(f'"{hours}h"' for hours in range(1, 12))
NINE_MORE_LEVELS = '[[facility.escalation]]\nnotify = ["U0SGT"]\n\n' * 9
NINE_MORE_ICE_LEVELS = '[[facility.ice_escalation]]\nnotify = ["U0ICE"]\nbefore = "2h"\n\n' * 9
TWENTY_ONE_TARGETS = ", ".join(f'"U0SGT{index}"' for index in range(21))
TEN_MORE_WEBHOOKS = "".join(
    f'\n[[webhook]]\nurl = "https://jms.example.org/{index}"\nsecret = "s{index}"\n'
    for index in range(10)
)

BAD_CASES += [
    (
        "eleven reminders",
        edited('["1h", "24h", "30m"]', f"[{ELEVEN_REMINDERS}]"),
        "reminders.before",
        ("at most 10 reminders (got 11)",),
    ),
    (
        "facility name too long",
        edited('"North Annex"', '"' + "N" * 81 + '"'),
        "facility[1].name",
        ("at most 80 characters (got 81)", "every message"),
    ),
    (
        "facility name on two lines",
        edited('"North Annex"', '"North\\nAnnex"'),
        "facility[1].name",
        ("one line",),
    ),
    (
        "escalation_repeat 11",
        edited("escalation_repeat = 2", "escalation_repeat = 11"),
        "facility[0].escalation_repeat",
        ("at most 10 (got 11)", "11 times"),
    ),
    (
        "escalation_repeat 10000",
        edited("escalation_repeat = 2", "escalation_repeat = 10000"),
        "facility[0].escalation_repeat",
        ("at most 10 (got 10000)",),
    ),
    (
        "eleven escalation levels",
        edited(
            '[[facility.ice_escalation]]\nnotify = ["U0ICEDUTY"',
            NINE_MORE_LEVELS + '[[facility.ice_escalation]]\nnotify = ["U0ICEDUTY"',
        ),
        "facility[0].escalation",
        ("at most 10 levels (got 11)",),
    ),
    (
        "eleven ICE levels",
        edited(
            '[[facility]]\nid = "north-annex"',
            NINE_MORE_ICE_LEVELS + '[[facility]]\nid = "north-annex"',
        ),
        "facility[0].ice_escalation",
        ("at most 10 levels (got 11)",),
    ),
    (
        "twenty-one notify targets",
        edited('notify = ["U0SGT"]', f"notify = [{TWENTY_ONE_TARGETS}]"),
        "facility[0].escalation[0].notify",
        ("at most 20 targets (got 21)", "user group"),
    ),
    (
        "eleven webhooks",
        GOOD + TEN_MORE_WEBHOOKS,
        "webhook",
        ("at most 10 webhooks (got 11)",),
    ),
    (
        "escalation after over a day",
        edited('after = "30m"', 'after = "24h1s"'),
        "facility[0].escalation[1].after",
        ('at most 24h (got "24h1s")',),
    ),
    (
        "ICE escalation after over a day",
        edited('after = "5m"', 'after = "2d"'),
        "facility[0].ice_escalation[1].after",
        ('at most 24h (got "2d")',),
    ),
    (
        "reack_after over a day",
        edited('reack_after = "45m"', 'reack_after = "25h"'),
        "facility[0].reack_after",
        ('at most 24h (got "25h")',),
    ),
    (
        "channel id too long",
        edited('"C0456ICE"', '"C' + "0" * 32 + '"'),
        "facility[0].ice_channel",
        ("not a Slack channel ID",),
    ),
    (
        "member id too long",
        edited('["U0DESK"]', '["U' + "0" * 32 + '"]'),
        "facility[0].staff[0]",
        ("member ID",),
    ),
    (
        "user group id too long",
        edited('"S0ICE"', '"S' + "0" * 32 + '"'),
        "facility[0].ice_escalation[1].notify[0]",
        ("notify target",),
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


# --- ceilings ---------------------------------------------------------------------------


def at_every_ceiling() -> dict[str, Any]:
    """A config with each multiplier of one arrest's notices at its ceiling."""
    levels = [
        {"notify": [f"U0L{level}P{n}" for n in range(MAX_NOTIFY_ENTRIES)], "after": "24h"}
        for level in range(MAX_ESCALATION_LEVELS)
    ]
    ice_levels = [
        {"notify": ["U0ICE"] * MAX_NOTIFY_ENTRIES, "before": f"{hours}h"}
        for hours in range(1, MAX_ESCALATION_LEVELS + 1)
    ]
    facility = {
        "id": "county-jail",
        "name": "C" * MAX_FACILITY_NAME_CHARS,
        "timezone": "America/Chicago",
        "jail_channel": "C0JAIL",
        "ice_channel": "C0ICE",
        "officers": ["U0AAA"],
        "escalation": levels,
        "ice_escalation": ice_levels,
        "escalation_repeat": MAX_ESCALATION_REPEAT,
        "reack_after": "24h",
        "pagerduty_routing_key": "R" * 32,
    }
    return {
        "reminders": {"before": [f"{hours}h30m" for hours in range(MAX_REMINDERS)]},
        "facility": [facility],
        "webhook": [
            {"url": f"https://jms.example.org/{n}", "secret": "s"} for n in range(MAX_WEBHOOKS)
        ],
    }


# At every ceiling, logging one arrest plans, for 2 channels, 10 reminders, 10 webhooks,
# 10 ICE levels and 10 expiry levels run 11 times:
#   channel notices   2 x (logged + 10 reminders + expired)          =  24
#   their copies      12 events x 10 webhooks + expired to PagerDuty = 121
#   Slack's backup    schedule + delete                              =   2
#   chain steps       10 ICE + 10 levels x 11 rounds                 = 120
# Each step later becomes one page per person it resolves to, plus a copy per webhook.
MOST_NOTICES_PER_ARREST = 24 + 121 + 2 + 120


def test_one_arrest_plans_a_bounded_number_of_notices_at_every_ceiling() -> None:
    config = parse_config(at_every_ceiling(), source="ceilings")
    facility = config.facilities[0]
    now = datetime(2026, 11, 28, 20, 0, tzinfo=UTC)
    custody = Custody(
        id="c_1",
        facility_id=facility.id,
        booking="B-1",
        arrested_at=now,
        deadline=now + CUSTODY_WINDOW,
        logged_by="U0AAA",
        logged_at=now,
    )

    planned = plan_logged_custody(custody, facility, config, now)

    assert len(planned) == MOST_NOTICES_PER_ARREST
    steps = [notice for notice in planned if notice.kind is NoticeKind.PAGE_STEP]
    assert len(steps) == MAX_ESCALATION_LEVELS + MAX_ESCALATION_LEVELS * (MAX_ESCALATION_REPEAT + 1)
    # An acknowledgement after the deadline plans the expiry chain once more, no more
    # (and tells both channels, mirrored once).
    acked_at = custody.deadline + timedelta(minutes=5)
    _, replanned = plan_acknowledged_custody(custody, facility, config, steps, 1, acked_at)
    assert len(replanned) == 2 + MAX_WEBHOOKS + 1 + MAX_ESCALATION_LEVELS * (
        MAX_ESCALATION_REPEAT + 1
    )


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


def test_config_file_over_the_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "wso.toml"
    path.write_text(GOOD + "#" * MAX_CONFIG_FILE_BYTES, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.source == str(path)
    assert "larger than 1 MiB, the limit for a config file" in caught.value.message


@pytest.mark.parametrize(
    "nested",
    [
        pytest.param("[" * 100_000 + "]" * 100_000, id="lists"),
        pytest.param("{a = " * 50_000 + "1" + "}" * 50_000, id="inline tables"),
    ],
)
def test_deeply_nested_toml_is_a_config_error(tmp_path: Path, nested: str) -> None:
    path = tmp_path / "wso.toml"
    path.write_text(f"deep = {nested}\n" + GOOD, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.source == str(path)
    assert "nested hundreds of levels deep" in caught.value.message


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "wso.toml"
    path.write_bytes(b"name = '\xff'\n")
    with pytest.raises(ConfigError, match="UTF-8"):
        load_config(path)


def test_load_config_reports_its_path_as_source(tmp_path: Path) -> None:
    path = tmp_path / "wso.toml"
    path.write_text(edited('before = ["1h"', 'befor = ["1h"'), encoding="utf-8")
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
    assert (annex.igsa, annex.ice_staff) == (False, frozenset())


def test_igsa_and_ice_staff_are_read() -> None:
    county = parse(GOOD).facility("county-jail")
    assert county is not None
    assert (county.igsa, county.ice_staff) == (True, frozenset({"U0ERO1"}))


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
    ("user_id", "is_officer", "may_close"),
    [("U0AAA", True, True), ("U0DESK", False, True), ("U0NOBODY", False, False)],
)
def test_permissions(user_id: str, is_officer: bool, may_close: bool) -> None:
    county = parse(GOOD).facilities[0]
    assert county.is_officer(user_id) is is_officer
    assert county.may_close(user_id) is may_close


def test_config_is_frozen() -> None:
    config = parse(GOOD)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.facilities[0].name = "Other"  # type: ignore[misc]


# --- escalation settings, schedules and webhooks ------------------------------------------


def test_new_facility_fields() -> None:
    county = parse(GOOD).facilities[0]
    assert county.escalation_repeat == 2
    assert county.reack_after == timedelta(minutes=45)
    assert county.pagerduty_routing_key == "R0123456789ABCDEF0123456789ABCDE"
    assert county.ice_escalation == (
        IceEscalationLevel(notify=("U0ICEDUTY", "oncall:ice-duty"), before=timedelta(hours=4)),
        IceEscalationLevel(
            notify=("S0ICE", "S0SHIFT"), before=timedelta(hours=1), after=timedelta(minutes=5)
        ),
    )


def test_new_facility_fields_default() -> None:
    annex = parse(GOOD).facility("north-annex")
    assert annex is not None
    assert annex.escalation_repeat == 0
    assert annex.reack_after == timedelta(minutes=30)
    assert annex.pagerduty_routing_key is None
    assert annex.ice_escalation == ()


def test_escalation_repeat_zero_is_allowed() -> None:
    county = parse(edited("escalation_repeat = 2", "escalation_repeat = 0")).facilities[0]
    assert county.escalation_repeat == 0


def test_schedules_parse() -> None:
    config = parse(GOOD)
    night = config.schedule("night-sgt")
    assert night is not None
    assert night.timezone_name == "America/Chicago"
    assert night.zone.key == "America/Chicago"
    assert night.ical is None
    assert night.rotation == Rotation(
        period=RotationPeriod.WEEKLY,
        handoff=time(7, 0),
        users=("U0LT1", "U0LT2"),
        start=date(2026, 1, 5),
    )
    assert night.overrides == (
        # an offset is kept; "YYYY-MM-DD HH:MM" is local time in the schedule's zone (CST)
        Override(
            "U0LT3", datetime(2026, 11, 29, 1, tzinfo=UTC), datetime(2026, 11, 29, 13, tzinfo=UTC)
        ),
        Override(
            "U0LT1", datetime(2026, 12, 25, 1, tzinfo=UTC), datetime(2026, 12, 25, 13, tzinfo=UTC)
        ),
    )
    ice = config.schedule("ice-duty")
    assert ice is not None
    assert ice.rotation is not None
    assert ice.rotation.period is RotationPeriod.DAILY
    assert ice.rotation.start == date(2024, 1, 1)
    assert ice.overrides == ()
    assert config.schedule("oncall:night-sgt") is None
    assert config.schedule("nowhere") is None
    assert [each.id for each in config.schedules] == ["night-sgt", "ice-duty"]


def test_schedule_override_applies() -> None:
    night = parse(GOOD).schedule("night-sgt")
    assert night is not None
    assert on_call(night, datetime(2026, 11, 29, 2, tzinfo=UTC)) == ("U0LT3",)
    assert on_call(night, datetime(2026, 11, 29, 13, tzinfo=UTC)) == ("U0LT1",)


def test_toml_native_dates_and_times() -> None:
    text = edited('start = "2026-01-05"', "start = 2026-01-05").replace(
        '{ user = "U0LT1", from = "2026-12-24 19:00", to = "2026-12-25 07:00" }',
        '{ user = "U0LT1", from = 2026-12-24T19:00:00, to = 2026-12-25T13:00:00Z }',
    )
    night = parse(text).schedule("night-sgt")
    assert night is not None
    assert night.rotation is not None
    assert night.rotation.start == date(2026, 1, 5)
    assert night.overrides[1] == Override(
        "U0LT1", datetime(2026, 12, 25, 1, tzinfo=UTC), datetime(2026, 12, 25, 13, tzinfo=UTC)
    )


@pytest.mark.parametrize(
    "second",
    [
        '{ user = "U0LT1", from = "2026-11-29 07:00", to = "2026-11-29 09:00" }',
        '{ user = "U0LT1", from = "2026-11-28 12:00", to = "2026-11-28T19:00-06:00" }',
        '{ user = "U0LT1", from = "2026-11-01 01:30-06:00", to = "2026-11-01 03:00" }',
    ],
    ids=["starts as the other ends", "ends as the other starts", "offset picks a repeated hour"],
)
def test_overrides_that_touch_do_not_overlap(second: str) -> None:
    night = parse(edited(OVERRIDE_1, second)).schedule("night-sgt")
    assert night is not None
    assert len(night.overrides) == 2


def test_webhooks_parse() -> None:
    assert parse(GOOD).webhooks == (
        Webhook(url="https://jms.example.org/wso-events", secret="webhook-secret-123"),
    )
    assert parse(GOOD_FACILITY_ONLY.split("[[webhook]]")[0]).webhooks == ()


def test_no_schedules_or_webhooks() -> None:
    text = GOOD.split("[[schedule]]")[0].replace(', "oncall:night-sgt"', "")
    config = parse(text.replace(', "oncall:ice-duty"', ""))
    assert config.schedules == ()
    assert config.webhooks == ()


def test_config_still_builds_positionally() -> None:
    config = parse(GOOD)
    rebuilt = Config(config.reminders, config.facilities)
    assert rebuilt.schedules == ()
    assert rebuilt.webhooks == ()
    assert rebuilt.facility("county-jail") == config.facility("county-jail")


def test_credentials_never_shown() -> None:
    config = parse(GOOD)
    for text in (repr(config), str(config), repr(config.webhooks[0]), repr(config.facilities[0])):
        assert "webhook-secret-123" not in text
        assert "R0123456789ABCDEF0123456789ABCDE" not in text
    assert "https://jms.example.org/wso-events" in repr(config.webhooks[0])


@pytest.mark.parametrize(
    ("old", "new", "secret"),
    [
        ('"R0123456789ABCDEF0123456789ABCDE"', '"R0123456789ABCDEF-secret"', "secret"),
        ('"webhook-secret-123"', '["webhook-secret-123"]', "webhook-secret-123"),
        ('"https://jms.example.org/wso-events"', '"jms.example.org/?token=abc123"', "abc123"),
    ],
)
def test_errors_do_not_quote_credentials(old: str, new: str, secret: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(edited(old, new))
    assert secret not in str(caught.value)


def test_referenced_user_groups_name_their_first_use() -> None:
    assert referenced_user_groups(parse(GOOD)) == {
        "S0SHIFT": "facility[0].escalation[1].notify[0]",
        "S0ICE": "facility[0].ice_escalation[1].notify[0]",
    }
    assert referenced_user_groups(parse(GOOD_FACILITY_ONLY.replace('"S0', '"U0'))) == {}


# --- iCalendar schedules through the config file ------------------------------------------

ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//wso tests//EN\r\n"
    "BEGIN:VEVENT\r\nUID:duty-1\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:duty@example.org\r\n"
    "DTSTART;TZID=America/Chicago:20260302T080000\r\n"
    "DTEND;TZID=America/Chicago:20260303T080000\r\n"
    "RRULE:FREQ=WEEKLY\r\nEND:VEVENT\r\n"
    "END:VCALENDAR\r\n"
)
ICAL_CONFIG = edited(ICE_DUTY_ROTATION, 'ical = "oncall/ice-duty.ics"\n')


def write_config(folder: Path, ics: str | bytes | None) -> Path:
    (folder / "oncall").mkdir(parents=True, exist_ok=True)
    if ics is not None:
        data = ics.encode() if isinstance(ics, str) else ics
        (folder / "oncall" / "ice-duty.ics").write_bytes(data)
    path = folder / "wso.toml"
    path.write_text(ICAL_CONFIG, encoding="utf-8")
    return path


def test_ical_path_is_relative_to_the_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config(tmp_path / "etc", ICS)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    schedule = load_config(path).schedule("ice-duty")
    assert schedule is not None
    assert schedule.rotation is None
    assert schedule.ical is not None
    assert schedule.ical.source == str(tmp_path / "etc" / "oncall" / "ice-duty.ics")
    assert schedule.timezone_name == "America/New_York"
    assert on_call(schedule, datetime(2026, 3, 9, 14, tzinfo=UTC)) == ("duty@example.org",)
    assert on_call(schedule, datetime(2026, 3, 9, 12, tzinfo=UTC)) == ()


def test_parse_config_takes_base_dir(tmp_path: Path) -> None:
    write_config(tmp_path, ICS)
    config = parse_config(tomllib.loads(ICAL_CONFIG), source="wso.toml", base_dir=tmp_path)
    assert config.schedule("ice-duty") is not None


@pytest.mark.parametrize(
    ("ics", "hints"),
    [
        (None, ("file not found", "oncall/ice-duty.ics", "config file's folder")),
        ("this is not a calendar\r\n", ("not an iCalendar file",)),
        (b"\xff\xfe\x00garbage", ("ice-duty.ics",)),
        (ICS.replace("RRULE:FREQ=WEEKLY\r\nEND:VEVENT\r\n", "").replace("BEGIN:VEVENT", "X"), ()),
        (ICS.replace("duty@example.org", "Duty Officer"), ('SUMMARY "Duty Officer"', "event 1")),
        (ICS.replace("FREQ=WEEKLY", "FREQ=FORTNIGHTLY"), ("bad RRULE",)),
        (ICS.replace("America/Chicago:20260302", "America/Chicgo:20260302"), ("TZID",)),
    ],
    ids=["missing", "not a calendar", "binary", "broken structure", "summary", "rrule", "tzid"],
)
def test_bad_ical_file_names_the_key(
    tmp_path: Path, ics: str | bytes | None, hints: tuple[str, ...]
) -> None:
    path = write_config(tmp_path, ics)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.key == "schedule[1].ical"
    assert caught.value.source == str(path)
    assert '(in schedule "ice-duty")' in caught.value.message
    for hint in hints:
        assert hint in caught.value.message


def test_ical_path_is_a_folder(tmp_path: Path) -> None:
    path = write_config(tmp_path, None)
    (tmp_path / "oncall" / "ice-duty.ics").mkdir()
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.key == "schedule[1].ical"
    assert "cannot read" in caught.value.message


def test_ical_file_over_the_size_limit(tmp_path: Path) -> None:
    path = write_config(tmp_path, ICS + " " * MAX_ICAL_FILE_BYTES)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.key == "schedule[1].ical"
    assert "larger than 2 MiB, the limit for an on-call calendar" in caught.value.message


def test_ical_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    path = write_config(tmp_path, None)
    os.mkfifo(tmp_path / "oncall" / "ice-duty.ics")
    with pytest.raises(ConfigError) as caught:
        load_config(path)  # before the fix this blocked forever in open()
    assert caught.value.key == "schedule[1].ical"
    assert "FIFO" in caught.value.message and "not a regular file" in caught.value.message


def test_ical_device_is_refused_before_reading(tmp_path: Path) -> None:
    text = ICAL_CONFIG.replace('"oncall/ice-duty.ics"', '"/dev/zero"')
    (tmp_path / "wso.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "wso.toml")
    assert caught.value.key == "schedule[1].ical"
    assert "/dev/zero: it is a device, not a regular file" in caught.value.message


# --- the example file -------------------------------------------------------------------


def test_example_file_oncall_references_resolve() -> None:
    config = load_config(EXAMPLE_FILE)
    targets = [
        target
        for facility in config.facilities
        for level in (*facility.escalation, *facility.ice_escalation)
        for target in level.notify
        if target.startswith("oncall:")
    ]
    assert targets
    for target in targets:
        assert config.schedule(target.removeprefix("oncall:")) is not None


def test_example_file_with_its_optional_parts_enabled(tmp_path: Path) -> None:
    # Commented-out settings in the example are written "#key = ..." (no space), prose "# ...".
    text = EXAMPLE_FILE.read_text(encoding="utf-8")
    enabled = re.sub(r"^#(?=[\[a-z])", "", text, flags=re.MULTILINE)
    assert enabled.count("\n#") < text.count("\n#")
    (tmp_path / "oncall").mkdir()
    (tmp_path / "oncall" / "ice-duty.ics").write_text(ICS, encoding="utf-8")
    shutil.copyfile(EXAMPLE_FILE.with_name("officers.example.csv"), tmp_path / "officers.csv")
    (tmp_path / "wso.toml").write_text(enabled, encoding="utf-8")
    config = load_config(tmp_path / "wso.toml")
    assert len(config.roster.current.entries) == 3
    county = config.facility("county-jail")
    assert county is not None
    assert county.pagerduty_routing_key is not None
    assert county.policy.stamp.label == "48h-excluding-weekends-holidays v1, holidays US, 36 h"
    assert len(config.webhooks) == 1
    ice_duty = config.schedule("ice-duty")
    assert ice_duty is not None
    assert ice_duty.ical is not None


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


@pytest.mark.parametrize(
    ("environ", "socket_mode", "secret"),
    [
        pytest.param({**CREDENTIALS}, False, "signing-secret-123", id="http-mode"),
        pytest.param(
            {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1-A1-2-abc"},
            True,
            "",
            id="socket-mode-needs-no-secret",
        ),
        pytest.param(
            {**CREDENTIALS, "SLACK_APP_TOKEN": " xapp-1-A1-2-abc "},
            True,
            "signing-secret-123",
            id="socket-mode-with-a-secret-too",
        ),
        pytest.param(
            {**CREDENTIALS, "SLACK_APP_TOKEN": " "}, False, "signing-secret-123", id="blank"
        ),
    ],
)
def test_app_token_selects_socket_mode(
    environ: dict[str, str], socket_mode: bool, secret: str
) -> None:
    loaded = Settings.from_env(environ)
    assert loaded.socket_mode is socket_mode
    assert loaded.slack_signing_secret == secret
    assert "xapp-1" not in repr(loaded)


@pytest.mark.parametrize(
    ("value", "said"),
    [
        pytest.param("xoxb-123-456", "a bot token (xoxb-)", id="bot-token"),
        pytest.param("xoxp-123-456", "a user token (xoxp-)", id="user-token"),
        pytest.param("s3cr3t-value", "another value", id="anything-else"),
    ],
)
def test_app_token_must_be_xapp(value: str, said: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings(SLACK_APP_TOKEN=value)
    assert caught.value.key == "SLACK_APP_TOKEN"
    assert "starting with xapp-" in str(caught.value)
    assert said in str(caught.value)
    assert value not in str(caught.value)


def test_app_token_does_not_stand_in_for_the_bot_token() -> None:
    with pytest.raises(MissingCredentials) as caught:
        Settings.from_env({"SLACK_APP_TOKEN": "xapp-1-A1-2-abc"})
    assert caught.value.missing == ("SLACK_BOT_TOKEN",)


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


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (None, "https://events.pagerduty.com"),
        ("", "https://events.pagerduty.com"),
        ("http://127.0.0.1:8124/", "http://127.0.0.1:8124"),
    ],
)
def test_pagerduty_events_url(url: str | None, expected: str) -> None:
    loaded = settings() if url is None else settings(PAGERDUTY_EVENTS_URL=url)
    assert loaded.pagerduty_events_url == expected


def test_pagerduty_events_url_must_be_http() -> None:
    with pytest.raises(ConfigError) as caught:
        settings(PAGERDUTY_EVENTS_URL="events.pagerduty.com")
    assert caught.value.key == "PAGERDUTY_EVENTS_URL"


def test_history_lookup_is_on_unless_a_benchmark_turns_it_off() -> None:
    assert settings().history_lookup is True
    assert settings(WSO_HISTORY_LOOKUP="on").history_lookup is True
    assert settings(WSO_HISTORY_LOOKUP="OFF").history_lookup is False
    with pytest.raises(ConfigError) as caught:
        settings(WSO_HISTORY_LOOKUP="no")
    assert caught.value.key == "WSO_HISTORY_LOOKUP"
    assert '"on" or "off"' in str(caught.value)


def test_log_level_is_read_with_the_other_settings() -> None:
    assert settings().log_level == "INFO"
    assert settings(LOG_LEVEL="").log_level == "INFO"
    assert settings(LOG_LEVEL=" warning ").log_level == "WARNING"


@pytest.mark.parametrize("level", ["loud", "TRACE", "10"])
def test_an_unknown_log_level_is_a_config_error_naming_the_variable(level: str) -> None:
    with pytest.raises(ConfigError) as refused:
        settings(LOG_LEVEL=level)
    assert refused.value.key == "LOG_LEVEL"
    assert "DEBUG, INFO, WARNING, ERROR" in str(refused.value)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, Path("wso.toml")),
        ({"WSO_CONFIG": ""}, Path("wso.toml")),
        ({"WSO_CONFIG": "/etc/wso/wso.toml"}, Path("/etc/wso/wso.toml")),
        # as serve reads it: check-config must check the file serve would load
        ({"WSO_CONFIG": " /etc/wso/wso.toml\n"}, Path("/etc/wso/wso.toml")),
        ({"WSO_CONFIG": "   "}, Path("wso.toml")),
    ],
)
def test_check_config_path_is_wso_config_or_the_default(
    environ: dict[str, str], expected: Path
) -> None:
    assert check_config_path(environ) == expected


REPO = Path(__file__).resolve().parents[2]
ENVIRONMENT_VARIABLES = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_API_URL",
    "WSO_CONFIG",
    "WSO_DB",
    "PORT",
    "HOST",
    "PAGERDUTY_EVENTS_URL",
    "LOG_LEVEL",
    "WSO_FAULT_POINT",
    "WSO_HISTORY_LOOKUP",
)


def _environment_uses(path: Path) -> tuple[int, int, list[str]]:
    """How often ``path`` takes ``os.environ`` (or ``getenv``), how often it looks inside a
    mapping named ``environ``, and the variable names it spells as strings."""
    tree = ast.parse(path.read_text(), str(path))
    nodes = list(ast.walk(tree))
    taken = [
        node
        for node in nodes
        if (isinstance(node, ast.Attribute) and node.attr in ("environ", "environb", "getenv"))
        or (
            isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and any(alias.name in ("environ", "environb", "getenv") for alias in node.names)
        )
    ]
    looked_inside = [
        node
        for node in nodes
        if isinstance(node, ast.Attribute | ast.Subscript)
        and isinstance(node.value, ast.Name)
        and node.value.id == "environ"
    ]
    names = [
        node.value
        for node in nodes
        if isinstance(node, ast.Constant) and node.value in ENVIRONMENT_VARIABLES
    ]
    return len(taken), len(looked_inside), names


def test_only_the_settings_module_reads_the_environment() -> None:
    """cli takes os.environ once and hands it on; only settings looks inside or names a variable."""
    taken: dict[str, int] = {}
    looked_inside: dict[str, int] = {}
    spelled: dict[str, list[str]] = {}
    for top in ("bot", "handlers", "storage"):
        for path in sorted((REPO / top).rglob("*.py")):
            module = path.relative_to(REPO).as_posix()
            takes, looks, names = _environment_uses(path)
            if takes:
                taken[module] = takes
            if looks:
                looked_inside[module] = looks
            if names:
                spelled[module] = names
    settings_module = "bot/config/settings.py"
    assert taken == {"bot/cli.py": 1}, taken
    assert set(looked_inside) == {settings_module}, looked_inside
    assert set(spelled) == {settings_module}, spelled
    assert sorted(set(spelled[settings_module])) == sorted(ENVIRONMENT_VARIABLES)
