"""Block Kit views: the App Home tab. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.chat.replies import open_custody_list
from bot.core.facility import Facility
from bot.core.model import Custody


def home_view(custodies: Sequence[tuple[Custody, Facility]], now: datetime) -> dict[str, Any]:
    """The App Home tab: the same list as ``/wso list``, plus the grammar."""
    listing = open_custody_list(custodies, now, len(custodies)).text
    return {
        "type": "home",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "WSO Custody Clock"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": listing[:2900]}},
            {"type": "divider"},
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": "Log an arrest: `/wso arrest BOOKING I-200 at 14:05`. "
                        "`/wso help` shows every command.",
                    }
                ],
            },
        ],
    }
