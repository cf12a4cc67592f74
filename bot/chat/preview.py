"""Block Kit as HTML that looks like Slack: the README's pictures and, later, a sandbox. Pure.

``message_html`` renders a message (a card, its thread replies under it), ``modal_html``
a modal, ``home_html`` an App Home tab, and ``page`` wraps any of them in a whole
document with a Slack-like stylesheet inline. What is drawn: header, section (text,
fields, accessory), context, actions (buttons, primary and danger), divider, image
(as its alt text), the input blocks of a modal (plain text, select, date, time,
date and time), and Slack's mrkdwn: ``*bold*``, ``_italic_``, ``~strike~``,
```code```, ``> quotes``, ``<@U…>`` as ``@name`` from a ``Directory``, ``<#C…>``,
``<!date^…|fallback>`` as its fallback, links as their text, ``:emoji:`` from a small
table (unknown names stay as ``:name:``).

Every piece of text is HTML-escaped before any markup is added, so text a user typed
can never become markup here, whatever it holds.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.chat.preview_style import STYLESHEET

Block = Mapping[str, Any]

EMOJI: Mapping[str, str] = {
    "large_green_circle": "\U0001f7e2",
    "large_yellow_circle": "\U0001f7e1",
    "large_orange_circle": "\U0001f7e0",
    "large_blue_circle": "\U0001f535",
    "red_circle": "\U0001f534",
    "rotating_light": "\U0001f6a8",
    "white_check_mark": "\u2705",
    "warning": "\u26a0\ufe0f",
    "house": "\U0001f3e0",
    "no_entry_sign": "\U0001f6ab",
    "pencil2": "\u270f\ufe0f",
    "hourglass": "\u231b",
    "memo": "\U0001f4dd",
    "bell": "\U0001f514",
    "information_source": "\u2139\ufe0f",
    "calendar": "\U0001f4c6",
    "clock3": "\U0001f552",
}


@dataclass(frozen=True)
class Directory:
    """Display names for the ids mrkdwn mentions: users (``U…``) and channels (``C…``).

    ``live`` draws working controls for the sandbox page: buttons carry their action id,
    value and block id (``data-*``) and inputs are real form fields; off, a still picture.
    """

    users: Mapping[str, str] = field(default_factory=dict)
    channels: Mapping[str, str] = field(default_factory=dict)
    live: bool = False


# --- mrkdwn -------------------------------------------------------------------------

# Placeholders for finished HTML while the rest of a text is formatted: private-use
# characters, removed from the input first so no text can forge one.
_OPEN, _CLOSE = "\ue000", "\ue001"
_SLOT = re.compile(f"{_OPEN}(\\d+){_CLOSE}")
_ANGLE = re.compile(r"<([^<>\n]*)>")
_EMOJI_NAME = re.compile(r":([a-z0-9_+\-]+):")
_CODE = re.compile(r"`([^`\n]+)`")


def _span(mark: str, tag: str) -> tuple[re.Pattern[str], str]:
    """``*x*``-style emphasis: opens after a non-word, closes before one, no spaces inside."""
    m = re.escape(mark)
    pattern = re.compile(rf"(?<![\w{m}]){m}(?=\S)([^{m}\n]*?\S){m}(?![\w{m}])")
    return pattern, f"<{tag}>\\1</{tag}>"


_EMPHASIS = (_span("*", "b"), _span("_", "i"), _span("~", "s"))


def _angle(body: str, directory: Directory) -> str:
    """One ``<…>`` control sequence as HTML (escaped text only, never a live link)."""
    target, _, label = body.partition("|")
    text: str
    css = "mention"
    if target.startswith("@"):
        text = "@" + (directory.users.get(target[1:]) or label or target[1:])
    elif target.startswith("#"):
        text = "#" + (directory.channels.get(target[1:]) or label or target[1:])
    elif target.startswith("!date^"):
        text, css = label or target, "date"
    elif target.startswith("!subteam^"):
        text = label or "@group"
    elif target.startswith("!"):
        text = "@" + target[1:]
    else:
        text, css = label or target, "link"
    return f'<span class="{css}">{_escape(_unescape_slack(text))}</span>'


def _escape(text: str, quote: bool = True) -> str:
    """HTML-escaped, without the private-use characters this module uses as placeholders."""
    return html.escape(text.replace(_OPEN, "").replace(_CLOSE, ""), quote=quote)


def _unescape_slack(text: str) -> str:
    """Slack escapes ``&``, ``<`` and ``>`` in mrkdwn; undo it (HTML escaping follows)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def mrkdwn_html(text: str, directory: Directory | None = None) -> str:
    """Slack mrkdwn as escaped HTML."""
    directory = directory or Directory()
    slots: list[str] = []

    def keep(markup: str) -> str:
        slots.append(markup)
        return f"{_OPEN}{len(slots) - 1}{_CLOSE}"

    text = text.replace(_OPEN, "").replace(_CLOSE, "")  # no text can forge a placeholder
    text = _ANGLE.sub(lambda m: keep(_angle(m.group(1), directory)), text)
    text = html.escape(_unescape_slack(text), quote=True)  # keeps the slots
    text = _CODE.sub(lambda m: keep(f"<code>{m.group(1)}</code>"), text)
    text = _EMOJI_NAME.sub(
        lambda m: keep(_emoji(m.group(1))) if m.group(1) in EMOJI else m[0], text
    )
    for pattern, replacement in _EMPHASIS:
        text = pattern.sub(replacement, text)
    text = _quotes(text)
    for _ in range(2):  # a code slot may hold a mention's slot; slots hold no deeper ones
        text = _SLOT.sub(lambda m: slots[int(m.group(1))], text)
    return text.replace("\n", "<br>")


def _emoji(name: str) -> str:
    return f'<span class="emoji" title=":{name}:">{EMOJI[name]}</span>'


def _quotes(text: str) -> str:
    """Lines starting ``> `` (escaped by now) as a block quote."""
    out: list[str] = []
    for line in text.split("\n"):
        if line.startswith("&gt; ") or line == "&gt;":
            out.append(f'<span class="quote">{line[5:]}</span>')
        else:
            out.append(line)
    return "\n".join(out)


def plain_html(text_object: Mapping[str, Any] | None, directory: Directory | None = None) -> str:
    """A text object (``plain_text`` or ``mrkdwn``) as HTML; plain text keeps only emoji."""
    if not text_object:
        return ""
    text = str(text_object.get("text", ""))
    if text_object.get("type") == "mrkdwn":
        return mrkdwn_html(text, directory)
    escaped = _escape(text)
    if text_object.get("emoji", True):
        escaped = _EMOJI_NAME.sub(lambda m: _emoji(m[1]) if m[1] in EMOJI else m[0], escaped)
    return escaped.replace("\n", "<br>")


# --- blocks ---------------------------------------------------------------------------


def _button(element: Mapping[str, Any], directory: Directory) -> str:
    style = str(element.get("style") or "")
    css = "button " + (style if style in ("primary", "danger") else "plain")
    label = plain_html(element.get("text"), directory)
    if directory.live:
        action = _escape(str(element.get("action_id", "")))
        value = _escape(str(element.get("value", "")))
        return (
            f'<button type="button" class="{css}" data-action-id="{action}" '
            f'data-value="{value}">{label}</button>'
        )
    return f'<span class="{css}">{label}</span>'


def _live_input(element: Mapping[str, Any], directory: Directory) -> str | None:
    """An input element as a working form field (sandbox), or None for a still picture."""
    kind = str(element.get("type", ""))
    action = _escape(str(element.get("action_id", "")))
    data = f'data-input="{_escape(kind)}" data-action-id="{action}"'
    hint = _escape(str((element.get("placeholder") or {}).get("text", "")))
    if kind == "plain_text_input":
        value = _escape(str(element.get("initial_value") or ""))
        if element.get("multiline"):
            return (
                f'<textarea class="field textarea" {data} placeholder="{hint}">{value}</textarea>'
            )
        return f'<input class="field" {data} placeholder="{hint}" value="{value}">'
    if kind == "static_select":
        initial = str((element.get("initial_option") or {}).get("value", ""))
        options = ['<option value="">Select an item</option>'] + [
            f'<option value="{_escape(str(o.get("value", "")))}"'
            + (" selected" if str(o.get("value", "")) == initial else "")
            + f">{plain_html(o.get('text'), directory)}</option>"
            for o in element.get("options") or []
        ]
        return f'<select class="field select" {data}>{"".join(options)}</select>'
    if kind == "datepicker":
        value = _escape(str(element.get("initial_date") or ""))
        return f'<input type="date" class="field picker" {data} value="{value}">'
    if kind == "timepicker":
        value = _escape(str(element.get("initial_time") or ""))
        return f'<input type="time" class="field picker" {data} value="{value}">'
    return None


def _field_box(content: str, css: str = "") -> str:
    return f'<span class="field {css}">{content}</span>'


def _placeholder(element: Mapping[str, Any], value: str | None, directory: Directory) -> str:
    if value:
        return _escape(value)
    hint = plain_html(element.get("placeholder"), directory)
    return f'<span class="placeholder">{hint}</span>' if hint else ""


def element_html(element: Mapping[str, Any], directory: Directory) -> str:
    """An interactive element (a button, or an input's element) as HTML."""
    kind = str(element.get("type", ""))
    if kind == "button":
        return _button(element, directory)
    live = _live_input(element, directory) if directory.live else None
    if live is not None:
        return live
    if kind == "plain_text_input":
        css = "textarea" if element.get("multiline") else ""
        value = element.get("initial_value")
        return _field_box(_placeholder(element, value, directory), css)
    if kind in ("static_select", "external_select", "users_select", "channels_select"):
        initial = element.get("initial_option") or {}
        chosen = plain_html(initial.get("text"), directory) if initial else ""
        shown = chosen or _placeholder(element, None, directory) or "Select an item"
        return _field_box(f'{shown}<span class="chevron">\u25be</span>', "select")
    if kind == "datepicker":
        day = _placeholder(element, element.get("initial_date"), directory) or "Select a date"
        return _field_box(f"{_emoji('calendar')} {day}", "picker")
    if kind == "timepicker":
        clock = _placeholder(element, element.get("initial_time"), directory) or "Select time"
        return _field_box(f"{_emoji('clock3')} {clock}", "picker")
    if kind == "datetimepicker":
        return _field_box(f"{_emoji('calendar')} date and time", "picker")
    if kind == "image":
        return f'<span class="image">[{_escape(str(element.get("alt_text", "image")))}]</span>'
    if kind in ("mrkdwn", "plain_text"):
        return plain_html(element, directory)
    return f'<span class="unknown">[{_escape(kind or "element")}]</span>'


def _section(block: Block, directory: Directory) -> str:
    parts = []
    if block.get("text"):
        parts.append(f'<div class="text">{plain_html(block["text"], directory)}</div>')
    fields = block.get("fields") or []
    if fields:
        cells = "".join(f'<div class="cell">{plain_html(f, directory)}</div>' for f in fields)
        parts.append(f'<div class="fields">{cells}</div>')
    accessory = block.get("accessory")
    body = f'<div class="body">{"".join(parts)}</div>'
    if accessory:
        body += f'<div class="accessory">{element_html(accessory, directory)}</div>'
    return f'<div class="block section"{_block_id(block, directory)}>{body}</div>'


def _block_id(block: Block, directory: Directory) -> str:
    """The block's id as a ``data-block-id`` attribute when live (its buttons report it)."""
    if not directory.live:
        return ""
    return f' data-block-id="{_escape(str(block.get("block_id", "")))}"'


def _input(block: Block, directory: Directory) -> str:
    optional = ' <span class="optional">(optional)</span>' if block.get("optional") else ""
    label = f'<div class="label">{plain_html(block.get("label"), directory)}{optional}</div>'
    element = element_html(block.get("element") or {}, directory)
    hint = block.get("hint")
    hint_html = f'<div class="hint">{plain_html(hint, directory)}</div>' if hint else ""
    return (
        f'<div class="block input"{_block_id(block, directory)}>{label}{element}{hint_html}</div>'
    )


def _header(block: Block, directory: Directory) -> str:
    return f'<div class="block header">{plain_html(block.get("text"), directory)}</div>'


def _context(block: Block, directory: Directory) -> str:
    items = "".join(f"<span>{element_html(e, directory)}</span>" for e in block["elements"])
    return f'<div class="block context">{items}</div>'


def _actions(block: Block, directory: Directory) -> str:
    items = "".join(element_html(e, directory) for e in block.get("elements") or [])
    return f'<div class="block actions"{_block_id(block, directory)}>{items}</div>'


def _divider(block: Block, directory: Directory) -> str:
    return '<hr class="block divider">'


def _image(block: Block, directory: Directory) -> str:
    return f'<div class="block">{element_html({**block, "type": "image"}, directory)}</div>'


_BLOCKS: Mapping[str, Callable[[Block, Directory], str]] = {
    "header": _header,
    "section": _section,
    "context": _context,
    "actions": _actions,
    "divider": _divider,
    "input": _input,
    "image": _image,
}


def blocks_html(blocks: Sequence[Block], directory: Directory | None = None) -> str:
    """Blocks, one ``div`` each; a block type not drawn here is named, never dropped."""
    directory = directory or Directory()
    out = []
    for block in blocks:
        kind = str(block.get("type", ""))
        render = _BLOCKS.get(kind)
        if render is None:
            out.append(f'<div class="block unknown">[{_escape(kind or "block")} block]</div>')
        else:
            out.append(render(block, directory))
    return "\n".join(out)


# --- surfaces ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """One message as a channel shows it; ``text`` is used when it has no blocks."""

    blocks: Sequence[Block] = ()
    text: str = ""
    author: str = "WSO Custody Clock"
    time: str = ""
    is_app: bool = True
    edited: bool = False
    note: str = ""  # e.g. "Also sent to the channel" under a broadcast reply


def message_html(
    message: Message, directory: Directory | None = None, replies: Sequence[Message] = ()
) -> str:
    """A message with its avatar, name and time; ``replies`` drawn as its open thread."""
    directory = directory or Directory()
    initials = "".join(word[0] for word in message.author.split()[:2]).upper() or "?"
    badge = '<span class="badge">APP</span>' if message.is_app else ""
    edited = ' <span class="edited">(edited)</span>' if message.edited else ""
    body = (
        blocks_html(message.blocks, directory)
        if message.blocks
        else f'<div class="block">{mrkdwn_html(message.text, directory)}</div>'
    )
    note = f'<div class="note">{_escape(message.note)}</div>' if message.note else ""
    thread = ""
    if replies:
        count = f"{len(replies)} repl{'y' if len(replies) == 1 else 'ies'}"
        inner = "\n".join(message_html(r, directory) for r in replies)
        thread = f'<div class="thread"><div class="count">{count}</div>{inner}</div>'
    return (
        f'<div class="message"><div class="avatar">{_escape(initials)}</div>'
        f'<div class="content"><div class="meta"><b>{_escape(message.author)}</b>{badge}'
        f'<span class="time">{_escape(message.time)}</span>{edited}</div>'
        f"{body}{note}{thread}</div></div>"
    )


def channel_html(channel: str, messages: str) -> str:
    """Messages under a channel's name bar."""
    bar = f'<div class="bar"># {_escape(channel)}</div>'
    return f'<div class="surface channel">{bar}{messages}</div>'


def modal_html(view: Mapping[str, Any], directory: Directory | None = None) -> str:
    """A modal view: its title, blocks, and the close and submit buttons."""
    close = plain_html(view.get("close") or {"type": "plain_text", "text": "Cancel"})
    submit = view.get("submit")
    live = directory is not None and directory.live
    tag, close_data, submit_data = (
        ("button", ' data-modal="close"', ' data-modal="submit"') if live else ("span", "", "")
    )
    submit_html = (
        f'<{tag} class="button primary"{submit_data}>{plain_html(submit)}</{tag}>' if submit else ""
    )
    return (
        f'<div class="surface modal"><div class="title">{plain_html(view.get("title"))}'
        f'<span class="x">\u00d7</span></div>'
        f'<div class="blocks">{blocks_html(view.get("blocks") or [], directory)}</div>'
        f'<div class="footer"><{tag} class="button plain"{close_data}>{close}</{tag}>'
        f"{submit_html}</div></div>"
    )


def home_html(view: Mapping[str, Any], app: str, directory: Directory | None = None) -> str:
    """An App Home tab: the app's name, its tabs, and the view's blocks."""
    return (
        f'<div class="surface home"><div class="bar">{_escape(app)}'
        '<span class="tabs"><span class="tab on">Home</span><span class="tab">Messages</span>'
        f'<span class="tab">About</span></span></div>'
        f'<div class="blocks">{blocks_html(view.get("blocks") or [], directory)}</div></div>'
    )


def page(title: str, body: str) -> str:
    """A whole HTML document: ``body`` (HTML from this module) with the stylesheet inline."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_escape(title)}</title><style>{STYLESHEET}</style></head>\n"
        f"<body>\n{body}\n</body></html>\n"
    )
