"""Property-based fuzz tests: arbitrary input never crashes the parsers or the HTTP endpoint.

Pure properties (the command parser and the arrest-time parser) run many examples; the
HTTP properties reuse one running service across a few dozen examples each, so state
accumulates across examples on purpose: whatever was stored must stay complete.

Inputs that broke a property are kept as ``@example``s. Open bugs when this was written:

- ``parse_arrest_time`` raises ``OverflowError`` (not ``TimeInputError``) for instants at the
  edge of ``datetime``'s range, e.g. ``9999-12-31T18:00`` in America/Chicago or
  ``0001-01-01T00:00+00:01``; through ``/wso arrest`` the officer gets the internal-error reply.
- ``POST /slack/events`` answers 500 for a signed body that parses but is not an object
  (JSON ``null``/list/number/string, ``payload=null``), for ``block_actions`` whose ``actions``
  is not a list of objects with ``action_id``, and for an event that is not an object.
- The App Home listener raises (``KeyError``/``SlackApiError``) for ``app_home_opened``
  without a usable ``user``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from bot.app import WsoService
from bot.chat.arrest_time import TimeInputError, parse_arrest_time
from bot.chat.commands import CommandError, parse_command
from bot.chat.replies import internal_error
from bot.core.model import NoticeKind
from handlers.arrest_form import wants_form
from tests.conftest import ICE, JAIL, OFFICER, START
from tests.fakes.signed_requests import FORM, SignedSlackClient

# --- strategies ------------------------------------------------------------------------

KEYWORDS = (
    "arrest",
    "transfer",
    "release",
    "status",
    "list",
    "ack",
    "oncall",
    "help",
    "override",
    "at",
    "warrant",
    "facility",
    "I-200",
    "I-205",
    "I200",
    "i-205",
    "I-247A",
    "ARREST",
    "Facility",
)
SLACK_TOKENS = (
    "<!channel>",
    "<!here>",
    "<@U0AAA>",
    "<@U0AAA|officer>",
    "<#C0JAIL|jail>",
    "&lt;!channel&gt;",
    "<https://example.org|x>",
    "`",
    "```",
    "*bold*",
)
SEPARATORS = (" ", "  ", "\t", "\n", "\u00a0", "\u2003", "\u3000", "\x1c", "\x85")

booking_like = st.from_regex(r"[A-Za-z0-9-]{1,34}", fullmatch=True)
clock_like = st.builds(
    lambda h, m, s: f"{h}:{m:02d}" + (f":{s:02d}" if s is not None else ""),
    st.integers(0, 99),
    st.integers(0, 99),
    st.none() | st.integers(0, 99),
)
date_like = st.builds(
    lambda y, mo, d: f"{y:04d}-{mo:02d}-{d:02d}",
    st.sampled_from((1, 1969, 2000, 2026, 2100, 9999)) | st.integers(0, 9999),
    st.sampled_from((1, 3, 11, 12)) | st.integers(0, 13),
    st.sampled_from((1, 8, 28, 31)) | st.integers(0, 32),
)
offset_like = st.sampled_from(("", "Z", "z")) | st.builds(
    lambda sign, h, m: f"{sign}{h:02d}:{m:02d}",
    st.sampled_from("+-"),
    st.integers(0, 25),
    st.integers(0, 61),
)
timestamp_like = st.builds(
    lambda d, sep, c, off: f"{d}{sep}{c}{off}",
    date_like | st.sampled_from(("0001-01-01", "9999-12-31", "2026-11-01", "2026-03-08")),
    st.sampled_from(("T", "t", " ")),
    clock_like | st.sampled_from(("00:00", "23:59:59", "01:30", "02:30")),
    offset_like,
)
duration_like = st.builds(
    lambda amount, unit: f"{amount}{unit}",
    st.integers(0, 10**20),
    st.sampled_from(("d", "h", "m", "s", "", "1h30m", "D")),
)
member_like = st.sampled_from(("U0LT3", "<@U0LT3>", "<@W0ABC|x>", "U", "@someone", "u0lt3"))
random_word = st.text(
    st.characters(blacklist_categories=("Zs", "Zl", "Zp", "Cc")), min_size=1, max_size=12
)
token = st.one_of(
    st.sampled_from(KEYWORDS),
    st.sampled_from(SLACK_TOKENS),
    booking_like,
    clock_like,
    date_like,
    timestamp_like,
    duration_like,
    member_like,
    random_word,
)


@st.composite
def near_miss_command(draw: st.DrawFn) -> str:
    """Real keywords mixed with random tokens, joined by assorted Unicode whitespace."""
    words = draw(st.lists(token, max_size=9))
    if words and draw(st.booleans()):
        words[0] = draw(st.sampled_from(KEYWORDS[:8]))
    text = ""
    for word in words:
        text += draw(st.sampled_from(SEPARATORS)) + word
    return text


reserved_word = st.sampled_from(KEYWORDS[9:])
option = st.one_of(
    st.sampled_from(("I-200", "I-205", "I-247A", "at", "warrant", "facility")),
    st.builds("at {}".format, clock_like | timestamp_like | random_word),
    st.builds("warrant {}".format, booking_like | random_word | reserved_word),
    st.builds("facility {}".format, booking_like | random_word | reserved_word),
)
templated_command = st.one_of(
    st.builds(
        lambda b, opts: " ".join(("arrest", b, *opts)),
        booking_like | random_word,
        st.lists(option, max_size=5),
    ),
    st.builds(
        lambda sub, b, tail: f"{sub} {b} {tail}",
        st.sampled_from(("transfer", "status", "ack", "release", "list")),
        booking_like | random_word,
        st.sampled_from(("", "facility county-jail", "facility", "facility x extra")) | random_word,
    ),
    st.builds(
        lambda sched, member, duration: f"oncall override {sched} {member} {duration}",
        st.sampled_from(("watch-commanders", "W", "_x")) | random_word,
        member_like | random_word,
        duration_like | random_word,
    ),
    st.builds(lambda reason: f"release B-1 {reason}", st.text(min_size=480, max_size=520)),
)
well_formed_command = st.one_of(
    st.builds(
        lambda sched, member, duration: f"oncall override {sched} {member} {duration}",
        st.sampled_from(("watch-commanders", "w-1")),
        st.sampled_from(("U0LT3", "<@U0LT3>", "<@W0ABC|x>")),
        duration_like,
    ),
    st.builds(lambda b, at: f"arrest {b} at {at}", booking_like, timestamp_like | clock_like),
)
huge_text = st.builds(
    lambda chunk, times, tail: chunk * times + tail,
    st.text(min_size=1, max_size=20),
    st.integers(200, 600),
    st.text(max_size=10),
)
any_command_text = st.one_of(
    st.text(),
    st.text(st.characters(codec="utf-8")),
    st.text(st.characters(max_codepoint=0x1F)),
    near_miss_command(),
    templated_command,
    well_formed_command,
    huge_text,
    st.builds("arrest {}".format, huge_text),
)

# --- 1. the command parser -----------------------------------------------------------


@settings(max_examples=600, deadline=None)
@given(any_command_text)
@example("oncall override watch-commanders U0LT3 1000000000d")  # was an OverflowError
def test_parse_command_returns_a_command_or_a_safe_command_error(text: str) -> None:
    try:
        parse_command(text)
    except CommandError as error:
        # The parser adds no Slack tokens of its own, so any "<" came from the input.
        assert "<" not in error.message, error.message
        assert ">" not in error.message, error.message
        assert "<" not in error.example, error.example
        assert error.example.startswith("/wso ")
        parse_command(error.example.removeprefix("/wso "))


# --- 2. the arrest-time parser -------------------------------------------------------

ZONES = tuple(
    ZoneInfo(key)
    for key in (
        "America/New_York",
        "America/Chicago",
        "America/Phoenix",
        "Pacific/Honolulu",
        "Europe/London",
        "UTC",
    )
)
nows = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 12, 31), timezones=st.just(UTC)
)
any_time_text = st.one_of(
    st.text(),
    clock_like,
    timestamp_like,
    st.builds(lambda a, b: f"{a} {b}", timestamp_like, st.text(max_size=3)),
    st.builds(lambda pad, t: pad + t + pad, st.sampled_from(SEPARATORS), timestamp_like),
    huge_text,
)


@settings(max_examples=600, deadline=None)
@given(any_time_text, st.sampled_from(ZONES), nows)
@example("9999-12-31T18:00", ZoneInfo("America/Chicago"), START)  # OverflowError (bug)
@example("0001-01-01T00:00+00:01", ZoneInfo("UTC"), START)  # OverflowError (bug)
def test_parse_arrest_time_returns_a_past_utc_instant_or_a_time_input_error(
    text: str, zone: ZoneInfo, now: datetime
) -> None:
    try:
        instant = parse_arrest_time(text, zone, now)
    except TimeInputError as error:
        assert "<" not in error.message
        assert error.example.startswith("/wso arrest ")
        return
    assert instant.tzinfo is not None
    assert instant.utcoffset() == timedelta(0)
    assert instant <= now


@settings(max_examples=300, deadline=None)
@given(
    nows,
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3650)),
    st.integers(-23 * 60 - 59, 23 * 60 + 59),
    st.sampled_from(ZONES),
    st.booleans(),
)
def test_iso_time_with_offset_round_trips(
    now: datetime, age: timedelta, offset_minutes: int, zone: ZoneInfo, zulu: bool
) -> None:
    instant = (now - age).replace(microsecond=0)
    if zulu:
        text = f"{instant:%Y-%m-%dT%H:%M:%S}Z"
    else:
        text = instant.astimezone(timezone(timedelta(minutes=offset_minutes))).isoformat()
    assert parse_arrest_time(text, zone, now) == instant


# --- 3. arbitrary /wso texts through HTTP --------------------------------------------

HTTP_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
valid_arrest = st.builds(
    lambda booking, form, at: " ".join(("arrest", booking, form, at)).strip(),
    st.from_regex(r"FZ-[A-Z0-9]{1,8}", fullmatch=True),
    st.sampled_from(("", "I-200", "I-205")),
    st.sampled_from(("", "at 13:00", "at 2026-11-27 08:15", "at 2026-11-26T10:00:00Z")),
)
http_text = st.one_of(
    valid_arrest,
    near_miss_command(),
    templated_command,
    well_formed_command,
    # Slack sends UTF-8: lone surrogates cannot reach the bot.
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200),
    st.builds(lambda b: f"release {b} bail posted", booking_like),
    st.builds(lambda b: f"transfer {b}", booking_like),
)


async def assert_every_custody_is_complete(service: WsoService, bookings: set[str]) -> None:
    """No half-stored custody: each has its notices, with a logged one per channel."""
    custodies = list(await service.store.list_open_custodies(limit=10_000))
    for booking in bookings:
        custodies.extend(await service.store.find_custodies(booking))
    for custody in custodies:
        notices = await service.store.notices_for(custody.id)
        assert notices, f"custody {custody.booking} has no notices"
        logged = {n.channel for n in notices if n.kind is NoticeKind.LOGGED}
        assert logged == {JAIL, ICE}, (custody.booking, logged)


async def listeners_settled() -> None:
    """Bolt runs a listener in the background once it has acked; wait for those to finish."""
    running = [
        task
        for task in asyncio.all_tasks()
        if getattr(task.get_coro(), "__name__", "") == "run_ack_function_asynchronously"
        and not task.done()
    ]
    if running:
        await asyncio.wait(running, timeout=5)


def unhandled_errors(records: list[logging.LogRecord]) -> list[str]:
    """Exceptions that escaped the bot's code: a listener that raised, or a request handler."""
    return [
        f"{record.name}: {record.getMessage()}"
        for record in records
        if record.levelno >= logging.ERROR
        and record.name.startswith(("slack_bolt", "aiohttp.server"))
    ]


@HTTP_SETTINGS
@given(text=http_text)
@example(text="oncall override watch-commanders U0LT3 1000000000d")  # was an internal error
@example(text="arrest FZ-9999 at 9999-12-31T18:00")  # bug: internal error
@example(text=" ARREST ")  # opens the arrest form: an empty ack, no ephemeral text
async def test_any_wso_text_gets_an_ephemeral_200_and_never_a_half_stored_custody(
    service: WsoService, slack: SignedSlackClient, caplog: pytest.LogCaptureFixture, text: str
) -> None:
    # Slack sends UTF-8, so text with lone surrogates can never reach the bot.
    assume(text == text.encode("utf-8", "replace").decode("utf-8"))
    logged_before = len(caplog.records)

    reply = await slack.command(text)
    await listeners_settled()

    assert reply.status == 200, reply.body
    assert unhandled_errors(caplog.records[logged_before:]) == []
    if wants_form(text):  # `/wso arrest` alone: the arrest form is the answer (views.open)
        assert reply.body == ""
        return
    assert reply.json["response_type"] == "ephemeral"
    assert reply.text != internal_error().text, f"the bot raised on {text!r}"
    bookings = {w.upper() for w in text.split() if w.upper().startswith("FZ-")}
    await assert_every_custody_is_complete(service, bookings)


# --- 4. malformed Slack payloads through HTTP ----------------------------------------

json_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=30),
    st.just("x" * 5000),
)
json_value = st.recursive(
    json_scalar,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


@st.composite
def block_actions(draw: st.DrawFn) -> dict[str, Any]:
    """A ``block_actions`` interaction with fields dropped, retyped or oversized."""
    action: dict[str, Any] = {
        "type": "button",
        "action_id": draw(st.sampled_from(("wso_ack", "other", "")) | json_value),
        "block_id": "wso_page_actions",
        "value": draw(st.sampled_from(("c_missing", "")) | json_value),
    }
    body: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": "T0FAKE"},
        "user": {"id": draw(st.sampled_from((OFFICER, "")) | json_value)},
        "api_app_id": "A0WSO",
        "container": {"type": "message", "message_ts": "1.2", "channel_id": JAIL},
        "channel": {"id": JAIL},
        "message": {"ts": "1.2", "text": "page"},
        "actions": [action],
    }
    for key in draw(st.lists(st.sampled_from(sorted(body)), unique=True)):
        if draw(st.booleans()):
            del body[key]
        else:
            body[key] = draw(json_value)
    for key in draw(st.lists(st.sampled_from(sorted(action)), unique=True)):
        if draw(st.booleans()):
            del action[key]
        else:
            action[key] = draw(json_value)
    return body


@st.composite
def event_callback(draw: st.DrawFn) -> dict[str, Any]:
    """An Events API envelope whose event is missing fields or is not an object at all."""
    event: Any = {
        "type": draw(st.sampled_from(("app_home_opened", "message", "")) | json_value),
        "user": draw(st.sampled_from((OFFICER, "")) | json_value),
        "tab": draw(st.sampled_from(("home", "messages")) | json_value),
        "channel": "D0HOME",
    }
    for key in draw(st.lists(st.sampled_from(sorted(event)), unique=True)):
        del event[key]
    if draw(st.booleans()):
        event = draw(json_value)
    return {
        "token": "legacy",
        "team_id": "T0FAKE",
        "api_app_id": "A0WSO",
        "type": draw(st.sampled_from(("event_callback", "url_verification")) | json_value),
        "event": event,
        "challenge": draw(json_value),
        "event_id": "Ev0001",
    }


JSON = "application/json"
SLASH_FIELDS = ("token", "team_id", "channel_id", "user_id", "command", "text", "response_url")


@st.composite
def slash_with_missing_fields(draw: st.DrawFn) -> dict[str, str]:
    booking = draw(st.from_regex(r"MF-[A-Z0-9]{1,8}", fullmatch=True))
    text = draw(st.sampled_from((f"arrest {booking}", f"arrest {booking} at 13:00", "list", "")))
    fields = {
        "token": "legacy",
        "team_id": "T0FAKE",
        "channel_id": JAIL,
        "user_id": OFFICER,
        "command": draw(st.sampled_from(("/wso", "/other", ""))),
        "text": text,
        "response_url": "https://hooks.slack.com/commands/T0FAKE/1/abc",
    }
    for key in draw(st.lists(st.sampled_from(SLASH_FIELDS), min_size=1, unique=True)):
        del fields[key]
    return fields


@st.composite
def malformed_request(draw: st.DrawFn) -> tuple[str, str, str | None]:
    """(body, content type, booking that may legitimately be stored or None)."""
    kind = draw(st.sampled_from(("form", "json", "event", "payload", "actions", "slash")))
    if kind == "form":
        pairs = draw(st.dictionaries(st.text(max_size=10), st.text(max_size=40), max_size=5))
        raw = draw(st.booleans())
        return (draw(st.text(max_size=100)) if raw else urlencode(pairs)), FORM, None
    if kind == "json":
        body = draw(json_value | st.text(max_size=60))
        return (body if isinstance(body, str) else json.dumps(body)), JSON, None
    if kind == "event":
        return json.dumps(draw(event_callback())), JSON, None
    if kind == "payload":
        return urlencode({"payload": json.dumps(draw(json_value))}), FORM, None
    if kind == "actions":
        return urlencode({"payload": json.dumps(draw(block_actions()))}), FORM, None
    fields = draw(slash_with_missing_fields())
    may_store = (
        fields.get("command") == "/wso"
        and fields.get("user_id") == OFFICER
        and fields.get("text", "").startswith("arrest ")
    )
    booking = fields["text"].split()[1] if may_store else None
    return urlencode(fields), FORM, booking


@HTTP_SETTINGS
@given(request=malformed_request())
# Known bugs, kept as explicit examples (see the module docstring).
@example(request=("null", JSON, None))
@example(request=(urlencode({"payload": '{"type": "block_actions", "actions": [{}]}'}), FORM, None))
@example(request=('{"type": "event_callback", "event": "x"}', JSON, None))
@example(request=('{"type": "event_callback", "event": {"type": "app_home_opened"}}', JSON, None))
@example(request=('{"type": "url_verification", "event": null, "challenge": ""}', JSON, None))
async def test_malformed_signed_payloads_never_get_a_500_or_store_anything_unexpected(
    service: WsoService,
    slack: SignedSlackClient,
    caplog: pytest.LogCaptureFixture,
    request: tuple[str, str, str | None],
) -> None:
    body, content_type, may_store = request
    before = {c.id for c in await service.store.list_open_custodies(limit=10_000)}
    logged_before = len(caplog.records)

    reply = await slack.post(body, content_type=content_type)
    await listeners_settled()

    assert reply.status in {200, 400, 401, 404}, (reply.status, reply.body)
    assert unhandled_errors(caplog.records[logged_before:]) == []
    after = await service.store.list_open_custodies(limit=10_000)
    new = [c for c in after if c.id not in before]
    assert all(c.booking == may_store for c in new), [c.booking for c in new]
    await assert_every_custody_is_complete(service, set())
