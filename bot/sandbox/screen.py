"""What the sandbox page shows, drawn from the stand-in workspace: one JSON document.

Channels and DMs as Slack would show them (Block Kit drawn by ``bot.chat.preview`` with
working buttons), the messages only one person sees, each person's open modal and App
Home, and the clock. The page's script swaps the parts in; it draws nothing itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from bot.chat import preview
from bot.core.facility import Config
from bot.sandbox import demo
from bot.sandbox.workspace import SlackWorkspace

APP_NAME = "WSO Custody Clock"


@dataclass(frozen=True)
class PrivateNote:
    """A message only ``user`` sees in ``channel``: a command's answer, an ephemeral."""

    user: str
    channel: str
    at: float
    text: str = ""
    blocks: Sequence[Mapping[str, Any]] = ()
    typed: str = ""  # the command the person typed, shown above the bot's answer


@dataclass
class ScreenState:
    """What the page shows beyond the workspace: notes, modal owners and errors, caption."""

    notes: list[PrivateNote] = field(default_factory=list)
    # Modal view id -> the person it is open for; removed when it closes.
    modal_owner: dict[str, str] = field(default_factory=dict)
    modal_errors: dict[str, dict[str, str]] = field(default_factory=dict)
    caption: str = ""
    # Where a tour wants the page: {"user", "channel", "serial"}; the page follows each new serial.
    focus: dict[str, Any] = field(default_factory=dict)


def directory(config: Config) -> preview.Directory:
    channels = dict(demo.CHANNELS)
    for facility in config.facilities:
        channels.setdefault(facility.jail_channel, f"{facility.id}-jail")
        channels.setdefault(facility.ice_channel, f"{facility.id}-ice")
    users = {p.id: p.name for p in demo.ROSTER}
    return preview.Directory(users=users, channels=channels, live=True)


def _zone_for(channel: str, config: Config) -> ZoneInfo:
    for facility in config.facilities:
        if channel in facility.channels():
            return facility.zone
    person = demo.person(channel[1:]) if channel.startswith("D") else None
    if person is not None and (home := config.facility(person.facility)) is not None:
        return home.zone
    return config.facilities[0].zone if config.facilities else ZoneInfo("UTC")


def _clock_text(epoch: float, zone: ZoneInfo) -> str:
    local = datetime.fromtimestamp(epoch, UTC).astimezone(zone)
    return f"{local:%a %d %b %H:%M} {local.tzname()}"


def _message(raw: Mapping[str, Any], zone: ZoneInfo, note: str = "") -> preview.Message:
    return preview.Message(
        blocks=raw.get("blocks") or (),
        text=str(raw.get("text") or ""),
        time=_clock_text(float(raw["ts"]), zone),
        edited="edited" in raw,
        note=note,
    )


def channel_html(workspace: SlackWorkspace, channel: str, config: Config) -> str:
    """A channel's messages, each thread under its parent; every message names its ts."""
    names = directory(config)
    zone = _zone_for(channel, config)
    history = workspace.messages(channel)
    replies: dict[str, list[Mapping[str, Any]]] = {}
    top: list[Mapping[str, Any]] = []
    for item in history:  # oldest first
        raw: Mapping[str, Any] = item
        parent = raw.get("thread_ts")
        if parent is not None and parent != raw["ts"]:
            replies.setdefault(parent, []).append(raw)
            if not raw.get("reply_broadcast"):
                continue
        top.append(raw)
    out = []
    for shown in top:
        broadcast = shown.get("thread_ts") not in (None, shown["ts"])
        body = preview.message_html(
            _message(shown, zone, "Replied to a thread" if broadcast else ""), names
        )
        thread = replies.get(shown["ts"], []) if not broadcast else []
        if thread:
            count = f"{len(thread)} repl{'y' if len(thread) == 1 else 'ies'}"
            inner = "".join(
                _wrapped(r, channel, preview.message_html(_message(r, zone), names)) for r in thread
            )
            body += f'<div class="thread"><div class="count">{count}</div>{inner}</div>'
        out.append(_wrapped(shown, channel, body))
    return "".join(out)


def _wrapped(raw: Mapping[str, Any], channel: str, inner: str) -> str:
    return (
        f'<div class="msg" data-channel="{escape(channel)}" '
        f'data-ts="{escape(str(raw["ts"]))}">{inner}</div>'
    )


def _note_html(note: PrivateNote, config: Config) -> str:
    names = directory(config)
    zone = _zone_for(note.channel, config)
    typed = f'<div class="typed"><code>{escape(note.typed)}</code></div>' if note.typed else ""
    message = preview.Message(
        blocks=note.blocks,
        text=note.text,
        time=_clock_text(note.at, zone),
        note="Only visible to you",
    )
    return f'<div class="private">{typed}{preview.message_html(message, names)}</div>'


def _channels(workspace: SlackWorkspace, config: Config) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = []
    for facility in config.facilities:
        for channel, kind in ((facility.jail_channel, "jail"), (facility.ice_channel, "ICE")):
            if any(c["id"] == channel for c in listed):
                continue
            listed.append({"id": channel, "kind": kind, "facility": facility.name})
    for channel in workspace.channels():
        if channel.startswith("D") and not any(c["id"] == channel for c in listed):
            listed.append({"id": channel, "kind": "dm", "facility": ""})
    names = directory(config)
    for entry in listed:
        channel = entry["id"]
        person = demo.person(channel[1:]) if entry["kind"] == "dm" else None
        entry["name"] = (
            (person.name if person else names.channels.get(channel, channel))
            if entry["kind"] == "dm"
            else names.channels.get(channel, channel)
        )
        entry["count"] = len(workspace.messages(channel))
        entry["html"] = channel_html(workspace, channel, config)
    return listed


def screen(
    workspace: SlackWorkspace,
    state: ScreenState,
    config: Config,
    now: datetime,
    lead_seconds: float,
    next_notice: datetime | None,
    next_deadline: datetime | None,
) -> dict[str, Any]:
    """The whole page's content as JSON-ready data."""
    names = directory(config)
    modals = [
        {
            "user": user,
            "view_id": view_id,
            "html": preview.modal_html(workspace.views[view_id], names),
            "errors": state.modal_errors.get(view_id, {}),
        }
        for view_id, user in state.modal_owner.items()
        if view_id in workspace.views
    ]
    homes = [
        {
            "user": view.get("user_id"),
            "view_id": view_id,
            "html": preview.home_html(view, APP_NAME, names),
        }
        for view_id, view in workspace.views.items()
        if view.get("type") == "home"
    ]
    notes = [
        {"user": n.user, "channel": n.channel, "html": _note_html(n, config)} for n in state.notes
    ] + [
        {
            "user": e.user,
            "channel": e.channel,
            "html": _note_html(
                PrivateNote(
                    e.user,
                    e.channel,
                    float(e.ts),
                    str(e.payload.get("text") or ""),
                    e.payload.get("blocks") or (),
                ),
                config,
            ),
        }
        for e in workspace.ephemerals
    ]
    return {
        "now": now.isoformat(),
        "clocks": [
            {"facility": f.name, "local": _clock_text(now.timestamp(), f.zone)}
            for f in config.facilities
        ],
        "lead_seconds": lead_seconds,
        "next_notice": next_notice.isoformat() if next_notice else None,
        "next_deadline": next_deadline.isoformat() if next_deadline else None,
        "people": [
            {"id": p.id, "name": p.name, "role": p.role, "facility": p.facility}
            for p in demo.ROSTER
        ],
        "channels": _channels(workspace, config),
        "notes": notes,
        "modals": modals,
        "homes": homes,
        "caption": state.caption,
        "focus": state.focus,
    }
