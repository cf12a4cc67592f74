"""The Block Kit preview: mrkdwn, each block type, and text that must never become markup."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest

from bot.chat.cards import card_blocks
from bot.chat.preview import (
    Directory,
    Message,
    blocks_html,
    channel_html,
    element_html,
    home_html,
    message_html,
    modal_html,
    mrkdwn_html,
    page,
    plain_html,
)
from tests.conftest import DEADLINE, county_jail, custody

DIRECTORY = Directory(users={"U0AAA": "Dana Ortiz"}, channels={"C0JAIL": "county-jail"})


# id -> (mrkdwn, what its HTML holds)
MRKDWN: dict[str, tuple[str, str]] = {
    "bold": ("*Booking*", "<b>Booking</b>"),
    "italic": ("_soon_", "<i>soon</i>"),
    "strike": ("~old~", "<s>old</s>"),
    "code": ("`B-1`", "<code>B-1</code>"),
    "no formatting in code": ("`*not bold*`", "<code>*not bold*</code>"),
    "no bold inside a word": ("2*3*4", "2*3*4"),
    "no bold around spaces": ("* not bold *", "* not bold *"),
    "no italic inside a word": ("snake_case_name", "snake_case_name"),
    "line break": ("a\nb", "a<br>b"),
    "known user": ("<@U0AAA>", '<span class="mention">@Dana Ortiz</span>'),
    "unknown user": ("<@U0ZZZ>", '<span class="mention">@U0ZZZ</span>'),
    "channel": ("<#C0JAIL>", '<span class="mention">#county-jail</span>'),
    "channel label": ("<#C0X|ice>", '<span class="mention">#ice</span>'),
    "broadcast": ("<!here>", '<span class="mention">@here</span>'),
    "date token: its fallback": (
        "<!date^1764532800^{date_short_pretty} {time}|Mon Nov 30, 20:00 UTC>",
        '<span class="date">Mon Nov 30, 20:00 UTC</span>',
    ),
    "link: its text, not a live link": (
        "<https://example.org/x?a=1&amp;b=2|the runbook>", '<span class="link">the runbook</span>'
    ),
    "bare link": ("<https://example.org>", '<span class="link">https://example.org</span>'),
    "emoji": (":warning: x", '<span class="emoji" title=":warning:">'),
    "unknown emoji: its name": (":no_such_emoji:", ":no_such_emoji:"),
    "underscores in emoji not italic": (":large_green_circle:", "\U0001f7e2"),
    "slack escapes stay text": ("&lt;b&gt; &amp;", "&lt;b&gt; &amp;"),
    "quote": ("> a quote", '<span class="quote">a quote</span>'),
    "nested": ("*<@U0AAA>*", '<b><span class="mention">@Dana Ortiz</span></b>'),
}  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expected"), [pytest.param(*row, id=key) for key, row in MRKDWN.items()]
)
def test_mrkdwn_becomes_html(text: str, expected: str) -> None:
    assert expected in mrkdwn_html(text, DIRECTORY)


def _text(kind: str, text: str) -> dict[str, Any]:
    return {"type": kind, "text": text}


BUTTON = {"type": "button", "text": _text("plain_text", "Go"), "action_id": "a", "value": "v"}


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        pytest.param(
            {"type": "header", "text": _text("plain_text", "Title")},
            '<div class="block header">Title</div>',
            id="header",
        ),
        pytest.param(
            {"type": "section", "text": _text("mrkdwn", "*hi*")},
            '<div class="text"><b>hi</b></div>',
            id="section text",
        ),
        pytest.param(
            {"type": "section", "fields": [_text("mrkdwn", "*A*\n1"), _text("plain_text", "B")]},
            '<div class="fields"><div class="cell"><b>A</b><br>1</div><div class="cell">B</div>',
            id="section fields",
        ),
        pytest.param(
            {"type": "section", "text": _text("mrkdwn", "x"), "accessory": BUTTON},
            '<div class="accessory"><span class="button plain">Go</span></div>',
            id="section accessory",
        ),
        pytest.param(
            {"type": "context", "elements": [_text("mrkdwn", "`id`")]},
            '<div class="block context"><span><code>id</code></span></div>',
            id="context",
        ),
        pytest.param(
            {"type": "actions", "elements": [{**BUTTON, "style": "primary"}]},
            '<span class="button primary">Go</span>',
            id="primary button",
        ),
        pytest.param(
            {"type": "actions", "elements": [{**BUTTON, "style": "danger"}]},
            '<span class="button danger">Go</span>',
            id="danger button",
        ),
        pytest.param({"type": "divider"}, '<hr class="block divider">', id="divider"),
        pytest.param(
            {"type": "image", "image_url": "https://x/y.png", "alt_text": "map"},
            "[map]",
            id="image as its alt text",
        ),
        pytest.param(
            {"type": "rich_text", "elements": []},
            '<div class="block unknown">[rich_text block]</div>',
            id="unknown block: named",
        ),
    ],
)
def test_each_block_type_is_drawn(block: dict[str, Any], expected: str) -> None:
    assert expected in blocks_html([block], DIRECTORY)


def _input(element: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "input", "label": _text("plain_text", "Field"), "element": element, **extra}


PICK = {"text": _text("plain_text", "I-200"), "value": "I-200"}
# id -> (the input's element, more of the input block, what the HTML holds)
INPUTS: dict[str, tuple[dict[str, Any], dict[str, Any], str]] = {
    "text input placeholder": (
        {"type": "plain_text_input", "placeholder": _text("plain_text", "e.g. B-1")},
        {}, '<span class="placeholder">e.g. B-1</span>',
    ),
    "text input value": (
        {"type": "plain_text_input", "initial_value": "B-9"}, {}, '<span class="field ">B-9</span>'
    ),
    "multiline": (
        {"type": "plain_text_input", "multiline": True}, {}, '<span class="field textarea">'
    ),
    "select: the chosen option": ({"type": "static_select", "initial_option": PICK}, {}, "I-200<"),
    "select: its placeholder": (
        {"type": "static_select", "placeholder": _text("plain_text", "Pick")},
        {}, '<span class="placeholder">Pick</span>',
    ),
    "datepicker": ({"type": "datepicker", "initial_date": "2026-11-28"}, {}, "2026-11-28</span>"),
    "timepicker": ({"type": "timepicker", "initial_time": "14:05"}, {}, "14:05</span>"),
    "datetimepicker": ({"type": "datetimepicker"}, {}, "date and time</span>"),
    "optional label": (
        {"type": "plain_text_input"}, {"optional": True},
        'Field <span class="optional">(optional)</span>',
    ),
    "hint": (
        {"type": "plain_text_input"}, {"hint": _text("plain_text", "The jail's clock")},
        '<div class="hint">The jail&#x27;s clock</div>',
    ),
}  # fmt: skip


@pytest.mark.parametrize(
    ("element", "extra", "expected"), [pytest.param(*row, id=key) for key, row in INPUTS.items()]
)
def test_each_input_of_a_modal_is_drawn(
    element: dict[str, Any], extra: dict[str, Any], expected: str
) -> None:
    assert expected in blocks_html([_input(element, **extra)], DIRECTORY)


class _Tags(HTMLParser):
    """Every tag and attribute name in a piece of HTML, and its text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: set[str] = set()
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes.update(name for name, _ in attrs)

    def handle_data(self, data: str) -> None:
        self.text += data


HOSTILE = (
    '<script>alert(1)</script><img src=x onerror="alert(2)"> "quoted" \'single\' &amp; '
    "</div><style>*{}</style> *b* \ue0000\ue001 <!date^1^x|<b>fallback</b>>"
)
TAGS = {"div", "span", "b", "i", "s", "code", "br", "hr"}


def _hostile_surfaces() -> dict[str, str]:
    as_text = {"type": "plain_text", "text": HOSTILE}
    as_mrkdwn = {"type": "mrkdwn", "text": HOSTILE}
    button = {"type": "button", "text": as_text, "style": HOSTILE, "action_id": "a"}
    view = {"title": as_text, "submit": as_text, "close": as_text}
    return {
        "mrkdwn": mrkdwn_html(HOSTILE, Directory(users={"U1": HOSTILE})) + mrkdwn_html("<@U1>"),
        "mention name": mrkdwn_html("<@U1>", Directory(users={"U1": HOSTILE})),
        "plain text": plain_html(as_text),
        "header": blocks_html([{"type": "header", "text": as_text}]),
        "fields": blocks_html([{"type": "section", "fields": [as_mrkdwn, as_text]}]),
        "button": element_html(button, Directory()),
        "input": blocks_html([_input({"type": "plain_text_input", "initial_value": HOSTILE})]),
        "placeholder": element_html({"type": "static_select", "placeholder": as_text}, Directory()),
        "block type": blocks_html([{"type": HOSTILE}]),
        "image": blocks_html([{"type": "image", "alt_text": HOSTILE}]),
        "message": message_html(Message(text=HOSTILE, author=HOSTILE, time=HOSTILE, note=HOSTILE)),
        "channel": channel_html(HOSTILE, ""),
        "modal": modal_html({**view, "blocks": [{"type": "section", "text": as_mrkdwn}]}),
        "home": home_html({"blocks": []}, HOSTILE),
    }


@pytest.mark.parametrize("where", list(_hostile_surfaces()))
def test_text_never_becomes_markup(where: str) -> None:
    parser = _Tags()
    parser.feed(_hostile_surfaces()[where])
    assert parser.tags <= TAGS, f"{where}: tags {parser.tags - TAGS}"
    assert parser.attributes <= {"class", "title"}
    assert "alert(1)" in parser.text  # shown as text
    assert "\ue000" not in parser.text


def test_a_card_page_is_one_document_with_its_stylesheet() -> None:
    card = card_blocks(custody(), county_jail(), DEADLINE)
    document = page("Card <1>", channel_html("jail", message_html(Message(blocks=card))))
    assert document.startswith("<!DOCTYPE html>")
    assert "<title>Card &lt;1&gt;</title>" in document
    assert "<style>" in document and "<script" not in document
    assert "WSO custody: booking B-1" in document
    assert '<span class="button primary">ICE took custody</span>' in document


def test_a_thread_shows_its_replies_under_the_message() -> None:
    shown = message_html(
        Message(text="card"), replies=[Message(text="*12 h left*", note="Also sent to #jail")]
    )
    assert '<div class="count">1 reply</div>' in shown
    assert "<b>12 h left</b>" in shown and "Also sent to #jail" in shown
