"""The sandbox's made-up world: two facilities, their channels, people and on-call chain.

Nothing here is real. ``DEMO_CONFIG`` is an ordinary ``wso.toml`` (written to the sandbox
folder on first run, where it may be edited); ``ROSTER`` names the people it mentions, for
the page's user picker and for display names; ``USER_GROUPS`` are the user groups the
stand-in workspace knows, so every group the config names exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

CONFIG_NAME = "sandbox.toml"
DATABASE_NAME = "sandbox.db"
CLOCK_NAME = "clock.json"
WORKSPACE_NAME = "slack-standin.json"
DEFAULT_FOLDER = Path("wso-sandbox")


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    role: str
    facility: str  # a facility id, or "" for ICE people serving both


ROSTER: tuple[Person, ...] = (
    Person("U0DEMOOFF1", "Dana Reyes", "WSO officer", "demo-county"),
    Person("U0DEMODESK", "Sam Lee", "Booking desk", "demo-county"),
    Person("U0DEMOSGT", "Sgt. Alex Moore", "Shift supervisor (on call)", "demo-county"),
    Person("U0DEMOLT1", "Lt. Jordan Hale", "Watch commander", "demo-county"),
    Person("U0DEMOLT2", "Lt. Casey Ng", "Watch commander", "demo-county"),
    Person("U0DEMOOFF2", "Riley Stone", "WSO officer", "demo-annex"),
    Person("U0DEMOSGT2", "Sgt. Morgan Diaz", "Shift supervisor (on call)", "demo-annex"),
    Person("W0DEMOICE", "Pat Kim", "ICE duty officer", ""),
    Person("W0DEMOERO", "Chris Park", "ICE ERO officer", ""),
)

CHANNELS: dict[str, str] = {
    "C0DEMOJAIL": "demo-county-jail",
    "C0DEMOICE": "demo-county-ice",
    "C0DEMOANXJ": "demo-annex-jail",
    "C0DEMOANXI": "demo-annex-ice",
}

USER_GROUPS: dict[str, list[str]] = {"S0DEMOLEADS": ["U0DEMOLT1", "U0DEMOLT2"]}

DEMO_CONFIG = """\
# The sandbox's demo config: two made-up facilities. Nothing in it is real.
# Edit it and restart `wso-bot sandbox` to try other settings; `wso-bot sandbox --reset`
# writes it afresh and empties the sandbox's database.

[reminders]
before = ["4h", "1h"]

[[facility]]
id = "demo-county"
name = "Demo County Jail"
timezone = "America/Chicago"
jail_channel = "C0DEMOJAIL"
ice_channel = "C0DEMOICE"
officers = ["U0DEMOOFF1"]
staff = ["U0DEMODESK", "U0DEMOSGT", "W0DEMOICE"]
ice_staff = ["W0DEMOERO"]
escalation_repeat = 1
reack_after = "30m"

# After the deadline: the sergeant at once, the watch commanders 10 minutes later.
[[facility.escalation]]
notify = ["U0DEMOSGT"]
after = "0s"

[[facility.escalation]]
notify = ["S0DEMOLEADS"]
after = "10m"

# Before the deadline: the ICE duty officer an hour ahead.
[[facility.ice_escalation]]
notify = ["W0DEMOICE"]
before = "1h"

[[facility]]
id = "demo-annex"
name = "Demo North Annex"
timezone = "America/Denver"
jail_channel = "C0DEMOANXJ"
ice_channel = "C0DEMOANXI"
officers = ["U0DEMOOFF2"]
staff = ["U0DEMOSGT2", "W0DEMOICE"]

[[facility.escalation]]
notify = ["U0DEMOSGT2"]
after = "0s"
"""


def person(user_id: str) -> Person | None:
    return next((p for p in ROSTER if p.id == user_id), None)
