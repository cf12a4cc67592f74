"""Ephemeral answers to the person who typed a command or pressed a button. Pure.

Refusals say what was wrong and give a command that would work
(``bot.chat.notices.error_reply``). Config text (a facility's name) and user
text are escaped here, on the way out.
"""

from __future__ import annotations

from bot.chat.slack import escape_mrkdwn
from bot.core.override_policy import OverrideRefusal, RefusalReason


def override_refused(refusal: OverrideRefusal) -> str:
    """Why ``/wso oncall override`` was refused, in words."""
    schedule = refusal.schedule_id
    names = ", ".join(escape_mrkdwn(f.name) for f in refusal.facilities)
    if refusal.reason is RefusalReason.NOT_PAGED:
        return (
            f"No facility's escalation pages `oncall:{schedule}`, so nobody may override it "
            "from Slack. Nothing was changed. An administrator can set overrides in the config."
        )
    if refusal.reason is RefusalReason.NOT_AN_OFFICER:
        return (
            f"Only the officers of {names}, whose escalation pages `oncall:{schedule}`, may "
            f"change who is on call for it, and <@{refusal.giver}> is not one of them. "
            "Nothing was changed."
        )
    return (
        f"<@{refusal.person}> cannot be put on call for `{schedule}`: they are not in its "
        f"rotation or calendar, and not an officer or staff member of {names}, which it "
        "pages for. Nothing was changed. An administrator can add them to the schedule "
        "or to the facility's `officers` or `staff`."
    )
