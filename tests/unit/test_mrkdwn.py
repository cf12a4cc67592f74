"""The one rule for showing user-typed text in Slack: clean, escape, neutralise, quote."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.chat.slack import clean_text, code, echo, escape_mrkdwn, neutralise, quoted

BIDI_AND_INVISIBLE = (
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
    "\u200b\u200c\u200d\u2060\ufeff"
)
# What must never survive into a rendered quotation.
UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{BIDI_AND_INVISIBLE}]")
HEADLINE = "*WSO window expired — release required*"
STAR = "\N{ASTERISK OPERATOR}"
LOW = "\N{MODIFIER LETTER LOW MACRON}"
TILDE = "\N{TILDE OPERATOR}"
GRAVE = "\N{MODIFIER LETTER GRAVE ACCENT}"
AT = "\N{FULLWIDTH COMMERCIAL AT}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("bail posted", "bail posted", id="plain"),
        pytest.param("a\nb\r\nc\td", "a b  c d", id="line-breaks-and-tabs-become-spaces"),
        pytest.param("a\u2028b\u2029c\x85d", "a b c d", id="unicode-line-separators"),
        pytest.param("nul\x00esc\x1b[31mred", "nulesc[31mred", id="c0-controls-dropped"),
        pytest.param("del\x7f c1\x9b", "del c1", id="del-and-c1-dropped"),
        pytest.param("a\u202eevil\u202cb", "aevilb", id="bidi-override-dropped"),
        pytest.param("\u2066iso\u2069 \u200emark\u200f \u061carabic", "iso mark arabic", id="bidi"),
        pytest.param("z\u200bw\u200cj\u200d\u2060\ufeffx", "zwjx", id="zero-width-and-bom"),
        pytest.param("café ☕ 日本", "café ☕ 日本", id="ordinary-unicode-kept"),
        pytest.param("\u00a0nbsp", "\u00a0nbsp", id="no-break-space-kept"),
    ],
)
def test_clean_text(text: str, expected: str) -> None:
    assert clean_text(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("plain", "plain", id="plain"),
        pytest.param("<!channel>", "&lt;!channel&gt;", id="channel"),
        pytest.param("<@U123>", "&lt;@U123&gt;", id="user"),
        pytest.param("a & b", "a &amp; b", id="ampersand"),
        pytest.param("&lt;", "&amp;lt;", id="already-escaped-is-escaped-again"),
        pytest.param("*bold* _it_", "*bold* _it_", id="formatting-untouched"),
    ],
)
def test_escape_mrkdwn(text: str, expected: str) -> None:
    """Escaping alone, for config text: it changes nothing but ``& < >``."""
    assert escape_mrkdwn(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("bail posted", "bail posted", id="plain"),
        pytest.param("<!channel> & <@U1>", "&lt;!channel&gt; &amp; &lt;@U1&gt;", id="escaped"),
        pytest.param(
            "*bold* _it_ ~s~ `c`",
            f"{STAR}bold{STAR} {LOW}it{LOW} {TILDE}s{TILDE} {GRAVE}c{GRAVE}",
            id="emphasis-neutralised",
        ),
        pytest.param(
            "@channel @Here @EVERYONE", f"{AT}channel {AT}Here {AT}EVERYONE", id="broadcasts"
        ),
        pytest.param(f"{AT}channel", f"{AT}channel", id="full-width-at-stays-harmless"),
        pytest.param("mail a@example.org", "mail a@example.org", id="ordinary-at-kept"),
        pytest.param("said “hi” „x‟", 'said "hi" "x"', id="typographic-quotes-made-plain"),
        pytest.param("> quote", "&gt; quote", id="blockquote-escaped"),
        pytest.param(
            "ok\n\n" + HEADLINE,
            f"ok  {STAR}WSO window expired — release required{STAR}",
            id="fake-headline-flattened",
        ),
        pytest.param("x\u202e\x00\x1by", "xy", id="controls-stripped-too"),
    ],
)
def test_neutralise(text: str, expected: str) -> None:
    assert neutralise(text) == expected


@pytest.mark.parametrize(
    ("text", "by", "expected"),
    [
        pytest.param(
            "bail posted", "U0AAA", "Reason (typed by <@U0AAA>): “bail posted”", id="attributed"
        ),
        pytest.param("bail", None, "Reason: “bail”", id="nobody-recorded"),
        pytest.param(
            "*x*\n<!here>",
            "U0B",
            f"Reason (typed by <@U0B>): “{STAR}x{STAR} &lt;!here&gt;”",
            id="hostile",
        ),
    ],
)
def test_quoted(text: str, by: str | None, expected: str) -> None:
    assert quoted(text, typed_by=by) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("B-1", "`B-1`", id="plain"),
        pytest.param("a`b", "`a'b`", id="backtick-dropped"),
        pytest.param("<!here>", "`&lt;!here&gt;`", id="escaped-inside-code"),
        pytest.param("x\u202ey\x00", "`xy`", id="controls-stripped"),
    ],
)
def test_code(text: str, expected: str) -> None:
    assert code(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("teatime", "`teatime`", id="short"),
        pytest.param("x" * 40, "`" + "x" * 40 + "`", id="at-the-limit"),
        pytest.param("x" * 41, "`" + "x" * 40 + "…`", id="shortened"),
        pytest.param("\u200b" * 50 + "ok", "`ok`", id="invisible-characters-do-not-count"),
        pytest.param("<" * 41, "`" + "&lt;" * 40 + "…`", id="shortened-before-escaping"),
    ],
)
def test_echo(text: str, expected: str) -> None:
    assert echo(text) == expected


@given(st.text())
def test_a_quotation_can_neither_ping_format_nor_hide_anything(text: str) -> None:
    shown = quoted(text, typed_by="U0AAA")
    inner = shown.removeprefix("Reason (typed by <@U0AAA>): “").removesuffix("”")
    assert not UNSAFE.search(inner)
    assert not set(inner) & set("<>*_~`“”")
    assert not re.search("@(channel|here|everyone)", inner, re.IGNORECASE)
    assert all(unicodedata.category(char) != "Cc" for char in inner)
