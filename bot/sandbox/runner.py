"""``wso-bot sandbox``: the real bot, a Slack stand-in and the page, in one process.

The sandbox has its own folder (``wso-sandbox/`` by default) holding its demo config, its
database and its clock. It reads no environment variable of the bot's and never opens
``wso.toml`` or ``wso.db``, so it can run beside a real installation without touching it.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import secrets
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import ConfigError, Settings, load_config
from bot.core.facility import Config
from bot.sandbox import demo
from bot.sandbox.page import SandboxPage
from bot.sandbox.session import SandboxSession
from bot.sandbox.slack_requests import SignedSender
from bot.sandbox.standin import SlackStandIn
from bot.sandbox.tour import play_tour
from bot.sandbox.travel import TravelClock

if TYPE_CHECKING:
    from bot.app import WsoService

DEFAULT_PORT = 3000
EXIT_REFUSED = 2
_TOKEN = "xoxb-sandbox-not-a-real-token"


@dataclass(frozen=True)
class SandboxOptions:
    folder: Path = demo.DEFAULT_FOLDER
    port: int = DEFAULT_PORT
    host: str = "127.0.0.1"
    tour: bool = False
    tour_pause: float = 4.0
    reset: bool = False


class SandboxRefused(Exception):
    """The sandbox cannot start; the message says why and what to do."""


def prepare_folder(options: SandboxOptions) -> Path:
    """The sandbox folder with its config: written on first run, or afresh with ``reset``."""
    folder = options.folder
    if options.reset and folder.exists():
        for name in (demo.DATABASE_NAME, demo.CLOCK_NAME, demo.WORKSPACE_NAME):
            for path in folder.glob(name + "*"):
                path.unlink()
        (folder / demo.CONFIG_NAME).unlink(missing_ok=True)
    folder.mkdir(parents=True, exist_ok=True)
    config_path = folder / demo.CONFIG_NAME
    if not config_path.exists():
        config_path.write_text(demo.DEMO_CONFIG)
    return config_path


def sandbox_settings(options: SandboxOptions, api_url: str, secret: str) -> Settings:
    return Settings(
        slack_bot_token=_TOKEN,
        slack_signing_secret=secret,
        slack_api_url=api_url,
        config_path=options.folder / demo.CONFIG_NAME,
        db_path=options.folder / demo.DATABASE_NAME,
        port=options.port,
        host=options.host,
        pagerduty_events_url="http://127.0.0.1:9/",  # the demo config pages no PagerDuty
        log_level="WARNING",
    )


def seed_workspace(standin: SlackStandIn) -> None:
    """The people and user groups the demo config names, so every reference resolves."""
    standin.workspace.usergroups.update({k: list(v) for k, v in demo.USER_GROUPS.items()})
    for person in demo.ROSTER:
        standin.workspace.users[person.id] = {
            "real_name": person.name,
            "profile": {"real_name": person.name, "display_name": person.name},
        }


def run_sandbox(options: SandboxOptions) -> int:
    """Run until Ctrl-C (or, with ``tour``, until the tour has played). Returns an exit code."""
    try:
        config_path = prepare_folder(options)
        config = load_config(config_path)
    except ConfigError as error:
        print(
            f"wso-bot sandbox: the sandbox's config is not valid: {error}\n"
            "  To start from the demo config again: wso-bot sandbox --reset",
            file=sys.stderr,
        )
        return EXIT_REFUSED
    except OSError as error:
        print(f"wso-bot sandbox: cannot use the folder {options.folder}: {error}", file=sys.stderr)
        return EXIT_REFUSED
    try:
        asyncio.run(_run(options, config))
    except SandboxRefused as refusal:
        print(f"wso-bot sandbox: {refusal}", file=sys.stderr)
        return EXIT_REFUSED
    return 0


@dataclass
class RunningSandbox:
    """A started sandbox: the bot, its stand-in Slack and the page's session."""

    service: WsoService
    standin: SlackStandIn
    session: SandboxSession
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/sandbox"


@contextlib.asynccontextmanager
async def open_sandbox(options: SandboxOptions, config: Config) -> AsyncIterator[RunningSandbox]:
    """Start the stand-in, then the bot with the page's routes; stop both on the way out."""
    from bot.app import WsoService  # Slack libraries only once the sandbox really starts

    clock = TravelClock(options.folder / demo.CLOCK_NAME)
    standin = SlackStandIn(clock, _TOKEN, options.folder / demo.WORKSPACE_NAME)
    seed_workspace(standin)
    await standin.start()
    secret = secrets.token_hex(16)
    service = WsoService(sandbox_settings(options, standin.api_url, secret), config, clock=clock)
    sender = SignedSender(secret)
    session = SandboxSession(config, clock, standin, service.store, sender)
    SandboxPage(session).add_routes(service.web.app)  # before start: the router then freezes
    try:
        port = await _listen(service, options)
        sender.events_url = f"http://127.0.0.1:{port}/slack/events"
        yield RunningSandbox(service, standin, session, port)
    finally:
        await sender.close()
        await service.stop()
        await standin.stop()


async def _run(options: SandboxOptions, config: Config) -> None:
    async with open_sandbox(options, config) as sandbox:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(signum, stop.set)
        _say(
            f"wso-bot sandbox: open {sandbox.url}\n"
            "  The real bot against a stand-in Slack, with a made-up demo config and its own\n"
            f"  database in {options.folder}/ (never wso.toml or wso.db). Ctrl-C stops it."
        )
        tour = asyncio.create_task(_tour(sandbox.session, options)) if options.tour else None
        try:
            await stop.wait()
        finally:
            if tour is not None and not tour.done():
                tour.cancel()


async def _listen(service: WsoService, options: SandboxOptions) -> int:
    """Start the bot on the sandbox's port; a port in use is a refusal naming ``--port``."""
    try:
        return await service.start()
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        raise SandboxRefused(
            f"port {options.port} on {options.host} is already in use (another sandbox, or "
            f"wso-bot serve?). Choose another: wso-bot sandbox --port {options.port + 1}"
        ) from error


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


async def _tour(session: SandboxSession, options: SandboxOptions) -> None:
    """Wait for the page to open, play the tour, and leave the sandbox running after it."""
    _say("tour: waiting for the page to open (the tour starts when it does)")
    await session.viewer_arrived.wait()
    try:
        await play_tour(session, pause=options.tour_pause, narrate=_say)
    except RuntimeError as failure:
        _say(f"tour: stopped: {failure}")
        session.show(f"The tour stopped: {failure}")
        return
    _say("tour: over; the sandbox keeps running for questions (Ctrl-C stops it)")
