"""Slack's own terms: identifiers defined once, and user text made safe to echo.

Identifiers (action ids, block ids, the metadata event type) are defined once
and used everywhere. User-typed text is made safe to echo into mrkdwn here,
the one home of that rule (see ``quoted`` and ``echo``)."""

from __future__ import annotations

import re
from enum import StrEnum

SLASH_COMMAND = "/wso"
METADATA_EVENT_TYPE = "wso_custody"
# The metadata event type of a roster notice (a certification about to expire).
CERTIFICATION_EVENT_TYPE = "wso_certification"


class ActionId(StrEnum):
    """``action_id`` of interactive elements; a page's button must contain "ack"."""

    ACKNOWLEDGE = "wso_ack"


class BlockId(StrEnum):
    PAGE_ACTIONS = "wso_page_actions"


# Line and tab characters become one space each: a reason stays on one line.
_TO_SPACE = "\t\n\v\f\r\x85\u2028\u2029"
# Bidi embeddings, overrides, isolates and marks: they reorder what the reader sees.
_BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
# Zero-width characters and the byte-order mark: invisible, so they hide differences.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
_CONTROLS = "".join(chr(c) for c in (*range(0x00, 0x20), *range(0x7F, 0xA0)))
_DELETED = "".join(c for c in _CONTROLS + _BIDI + _INVISIBLE if c not in _TO_SPACE)
_CLEAN_TABLE = str.maketrans(dict.fromkeys(_TO_SPACE, " ") | dict.fromkeys(_DELETED, None))

# mrkdwn's emphasis and code marks, each replaced by a look-alike that formats nothing;
# the typographic quotes that frame a quotation become plain ones, so user text cannot
# seem to close the quotation and carry on in the bot's voice.
_NEUTRAL_MARKS = str.maketrans(
    {
        "*": "\u2217",  # asterisk operator
        "_": "\u02cd",  # modifier letter low macron
        "~": "\u223c",  # tilde operator
        "`": "\u02cb",  # modifier letter grave accent
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
    }
)
_BROADCAST = re.compile(r"[@\uff20](channel|here|everyone)", re.IGNORECASE)
ECHO_LIMIT = 40


def clean_text(text: str) -> str:
    """Drop control, bidi and zero-width characters; line breaks and tabs become spaces.

    Used where commands are parsed, so such characters are never stored or logged,
    and again where text is shown, for anything stored before that.
    """
    return text.translate(_CLEAN_TABLE)


def escape_mrkdwn(text: str) -> str:
    """Escape ``&``, ``<`` and ``>`` (``&`` first, so nothing is double-escaped)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def neutralise(text: str) -> str:
    """User text that can neither ping, format, nor hide anything: clean and escaped.

    ``*bold*``, ``_italic_``, ``~strike~`` and backticks lose their meaning, and
    ``@channel``, ``@here`` and ``@everyone`` are shown with a full-width at sign (U+FF20).
    """
    unbroadcast = _BROADCAST.sub(lambda match: "\uff20" + match.group(1), clean_text(text))
    return escape_mrkdwn(unbroadcast.translate(_NEUTRAL_MARKS))


def quoted(text: str, *, typed_by: str | None = None, label: str = "Reason") -> str:
    """Free text shown as what it is, a quotation: ``Reason (typed by <@U…>): “…”``."""
    who = f" (typed by <@{typed_by}>)" if typed_by else ""
    return f"{label}{who}: \u201c{neutralise(text)}\u201d"


def code(text: str) -> str:
    """Show user text verbatim in inline code, cleaned and escaped; backticks are dropped."""
    return "`" + escape_mrkdwn(clean_text(text).replace("`", "'")) + "`"


def echo(text: str, limit: int = ECHO_LIMIT) -> str:
    """A word the user typed, echoed in an error: cleaned, shortened, in inline code."""
    cleaned = clean_text(text)
    return code(cleaned if len(cleaned) <= limit else cleaned[:limit] + "…")
