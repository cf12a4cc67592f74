"""``wso-bot``: ``serve`` runs the bot; ``check-config`` validates the config; ``sandbox``
runs the real bot against a stand-in Slack in a browser page (``bot.sandbox``); ``export``
and ``report`` write a period's custodies for oversight (``bot.oversight``); ``audit
verify`` and ``audit export`` read the audit chain and ``purge`` erases personal data
(``bot.services.record_commands``)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bot.config import (
    Config,
    ConfigError,
    MissingCredentials,
    Settings,
    SlackAccess,
    check_config_path,
    database_path,
    load_config,
    referenced_user_groups,
)
from bot.core.durations import format_duration
from bot.core.report_schedule import WEEKDAYS
from bot.ops.logs import configure_logging
from bot.oversight.commands import add_oversight_commands, run_export, run_report
from bot.services.record_commands import RECORD_COMMANDS, add_record_commands, run_record_command
from storage.interface import DatabaseUnusable

# The bot refused to start: a config error, or a database in use, damaged or unopenable.
EXIT_CONFIG = 2

MISSING_CREDENTIALS_HELP = """\
wso-bot: missing {names}.

To run the bot you need a Slack app:
  1. Go to https://api.slack.com/apps -> "Create New App" -> "From an app manifest",
     pick your workspace and paste the contents of manifest.yml from this repository.
     Replace https://wso.example.org with the address where this bot is reachable.
  2. Install the app to the workspace, and invite it to each facility's jail and ICE channel.
  3. Export the credentials, then run again:
       export SLACK_BOT_TOKEN=xoxb-...        # OAuth & Permissions -> Bot User OAuth Token
       export SLACK_SIGNING_SECRET=...        # Basic Information -> Signing Secret
     or, where the jail network allows no inbound connection (Socket Mode: no signing
     secret needed; set socket_mode_enabled: true in the manifest):
       export SLACK_APP_TOKEN=xapp-...        # Basic Information -> App-Level Tokens
  4. Copy wso.example.toml to wso.toml and fill in your facilities (or set WSO_CONFIG).

To try it without Slack first: wso-bot sandbox (or make run with no Slack credentials),
then open http://127.0.0.1:3000/sandbox
"""


def main(argv: Sequence[str] | None = None) -> int:
    # The one place the environment comes in; only bot.config.settings reads it.
    environ: Mapping[str, str] = os.environ
    parser = argparse.ArgumentParser(prog="wso-bot", description="WSO Custody Clock Slack bot")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the bot (HTTP mode); settings come from the environment")
    check = commands.add_parser("check-config", help="validate the TOML config and exit")
    check.add_argument(
        "path", nargs="?", type=Path, help="config file (default: $WSO_CONFIG or ./wso.toml)"
    )
    sandbox = commands.add_parser(
        "sandbox",
        help="try the bot without Slack: the real bot, a stand-in Slack and a page to drive it",
    )
    sandbox.add_argument(
        "--port", type=_port_number, default=3000, help="port for the page (default 3000)"
    )
    sandbox.add_argument(
        "--dir",
        type=Path,
        default=Path("wso-sandbox"),
        help="folder for the demo config, database and clock (default ./wso-sandbox)",
    )
    sandbox.add_argument(
        "--tour", action="store_true", help="play one custody through, arrest to pickup, and stop"
    )
    sandbox.add_argument(
        "--pause", type=float, default=4.0, help="seconds between the tour's steps (default 4)"
    )
    sandbox.add_argument(
        "--reset", action="store_true", help="empty the sandbox's database and rewrite its config"
    )
    add_oversight_commands(commands)
    add_record_commands(commands)
    args = parser.parse_args(argv)
    if args.command == "sandbox":
        from bot.sandbox.runner import SandboxOptions, run_sandbox

        configure_logging("WARNING")
        options = SandboxOptions(
            folder=args.dir, port=args.port, tour=args.tour, tour_pause=args.pause, reset=args.reset
        )
        return run_sandbox(options)
    if args.command == "check-config":
        return check_config(args.path or check_config_path(environ), environ)
    if args.command == "export":
        return run_export(args, environ, datetime.now(UTC))
    if args.command == "report":
        return run_report(args, environ, datetime.now(UTC))
    if args.command in RECORD_COMMANDS:
        return run_record_command(args, args.db or database_path(environ))
    return serve(environ)


def _port_number(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number; e.g. --port 3001")
    return port


def check_config(path: Path, environ: Mapping[str, str]) -> int:
    """Validate the file; with SLACK_BOT_TOKEN set, check the token and user groups with Slack."""
    try:
        config = load_config(path)
        access = SlackAccess.from_env(environ)
    except ConfigError as error:
        print(f"wso-bot: config error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    if access is None:
        findings = SlackFindings(
            notes=["Slack token: not checked (set SLACK_BOT_TOKEN to check it against Slack)"]
        )
        if referenced_user_groups(config):
            findings.notes.append(
                "user groups: not checked against Slack (set SLACK_BOT_TOKEN to check them)"
            )
    else:
        findings = asyncio.run(_check_with_slack(path, config, access))
    for problem in findings.errors:
        print(f"wso-bot: {problem}", file=sys.stderr)
    if findings.errors:
        return EXIT_CONFIG
    print(describe_config(path, config))
    print("\n".join(findings.notes))
    return 0


@dataclass
class SlackFindings:
    """What asking Slack found: ``errors`` fail the check, ``notes`` are printed after OK."""

    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def _check_with_slack(path: Path, config: Config, access: SlackAccess) -> SlackFindings:
    from bot.clients.slack_gateway import SlackGateway, make_web_client
    from bot.services import slack_check  # Slack libraries only when needed

    gateway = SlackGateway(make_web_client(access.bot_token, access.api_url))
    token = await slack_check.check_token(gateway)
    if token.status is slack_check.TokenStatus.REJECTED:
        return SlackFindings(errors=[slack_check.rejected_token_message(token.detail)])
    findings = SlackFindings()
    if token.status is slack_check.TokenStatus.NOT_CHECKED:
        findings.notes.append(
            f"Slack token: not checked (Slack could not be reached: {token.detail})"
        )
        if referenced_user_groups(config):
            findings.notes.append("user groups: not checked against Slack")
        return findings
    findings.notes.append(f"Slack token: OK ({token.detail})")
    if not referenced_user_groups(config):
        return findings
    groups = await slack_check.check_user_groups(config, gateway)
    if groups.not_checked is not None:
        findings.notes.append(
            f"user groups: not checked against Slack (Slack answered {groups.not_checked})"
        )
    elif not groups.unknown:
        findings.notes.append(f"user groups: all {len(referenced_user_groups(config))} found")
    findings.errors.extend(
        f"config error: {ConfigError(problem.key, problem.message, str(path))}"
        for problem in groups.unknown
    )
    return findings


def describe_config(path: Path, config: Config) -> str:
    leads = ", ".join(format_duration(lead) for lead in config.reminders.before) or "none"
    lines = [f"{path}: OK", f"reminders before the deadline: {leads}"]
    if config.retention_days is not None:
        lines.append(f"personal data purged {config.retention_days} days after a custody closes")
    roster = config.roster.current
    if config.roster_path is not None:
        lines.append(f"officer roster {config.roster_path}: {len(roster.entries)} officer(s)")
    for facility in config.facilities:
        lines.append(
            f"facility {facility.id} ({facility.name}): {facility.timezone_name}, "
            f"jail {facility.jail_channel}, ICE {facility.ice_channel}, "
            f"{len(facility.current_officers())} officer(s), "
            f"{len(facility.escalation)} escalation level(s)"
            + (f", {len(facility.ice_staff)} ICE staff" if facility.ice_staff else "")
            + (", IGSA" if facility.igsa else "")
            + f", deadline: {facility.policy.stamp.label}"
        )
        unrostered = sorted(facility.officers - roster.officer_ids(facility.id))
        if config.roster_path is not None and unrostered:
            lines.append(
                f"  note: {', '.join(unrostered)} listed in officers with no roster row: "
                "their certification dates are not checked"
            )
    if config.report is not None:
        report = config.report
        lines.append(
            f"weekly report: {report.channel}, {WEEKDAYS[report.weekday]}s at "
            f"{report.at:%H:%M} {report.timezone_name}"
        )
    return "\n".join(lines)


def serve(environ: Mapping[str, str]) -> int:
    try:
        settings = Settings.from_env(environ)
    except MissingCredentials as missing:
        print(MISSING_CREDENTIALS_HELP.format(names=" and ".join(missing.missing)), file=sys.stderr)
        return EXIT_CONFIG
    except ConfigError as error:
        print(f"wso-bot: {error}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        config = load_config(settings.config_path)
    except ConfigError as error:
        print(f"wso-bot: config error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    configure_logging(settings.log_level)
    try:
        asyncio.run(_serve_until_signalled(settings, config))
    except DatabaseUnusable as error:  # in use by another process, damaged, or unopenable
        print(f"wso-bot: {error}", file=sys.stderr)
        return EXIT_CONFIG
    return 0


async def _serve_until_signalled(settings: Settings, config: Config) -> None:
    from bot.app import WsoService  # imported late: check-config must not need Slack libraries

    service = WsoService(settings, config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    # SIGHUP reads the officer roster again (and no longer ends the process, its default).
    with contextlib.suppress(NotImplementedError):
        loop.add_signal_handler(signal.SIGHUP, service.reload_roster)
    await service.start()
    slack = "Socket Mode, connecting out" if settings.socket_mode else "POST /slack/events"
    print(
        f"wso-bot: serving on http://{settings.host}:{service.port} "
        f"({slack}; GET /healthz); database {settings.db_path}",
        file=sys.stderr,
        flush=True,
    )
    try:
        await stop.wait()
    finally:
        await service.stop()


if __name__ == "__main__":
    sys.exit(main())
