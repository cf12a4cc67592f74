"""Make user-typed text safe to echo into Slack mrkdwn.

Slack treats ``<...>`` as control sequences (``<!channel>``, ``<@U123>``,
links), so any text a user typed must have ``&``, ``<`` and ``>`` escaped
before it is echoed; otherwise a field could ping a whole channel.
"""

from __future__ import annotations


def escape_mrkdwn(text: str) -> str:
    """Escape ``&``, ``<`` and ``>`` (``&`` first, so nothing is double-escaped)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def code(text: str) -> str:
    """Show user text verbatim in inline code, escaped; backticks are dropped."""
    return "`" + escape_mrkdwn(text.replace("`", "'")) + "`"
