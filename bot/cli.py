"""``wso-bot``: ``serve`` runs the bot over HTTP; ``check-config`` validates the config;
``audit verify`` and ``audit export`` read the audit chain; ``purge`` erases personal data."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import signal
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

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
from bot.core.audit import SYSTEM, Origin
from bot.core.durations import format_duration
from bot.core.model import Source
from bot.ops.logs import configure_logging
from bot.services.clock import SystemClock
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

To try it without Slack, start the fake Slack in another terminal:
       .venv/bin/python -m tests.fakes.slack --port 8099
  and export SLACK_API_URL=http://127.0.0.1:8099/api/ with any token and secret.
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
    _add_record_commands(commands)
    args = parser.parse_args(argv)
    if args.command == "check-config":
        return check_config(args.path or check_config_path(environ), environ)
    if args.command in ("audit", "purge"):
        return run_record_command(args, args.db or database_path(environ))
    return serve(environ)


_DB_HELP = "the database (default: $WSO_DB, else ./wso.db)"


def _add_record_commands(commands: Any) -> None:
    """``audit verify``, ``audit export`` and ``purge``: the records, without Slack."""
    audit = commands.add_parser("audit", help="verify or export the audit chain")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_commands.add_parser(
        "verify", help="walk the hash chain: exit 1 naming the first broken event"
    )
    export = audit_commands.add_parser(
        "export", help="write the chain as JSON Lines with its hashes (README: verify it)"
    )
    export.add_argument("--out", type=Path, help="file to write (default: standard output)")
    export.add_argument(
        "--with-personal",
        action="store_true",
        help="include each event's personal part and salt (notes, reasons, names)",
    )
    purge = commands.add_parser(
        "purge", help="erase the personal data of custodies closed before a date (UTC)"
    )
    purge.add_argument("--closed-before", required=True, type=closed_before, metavar="YYYY-MM-DD")
    for command in (verify, export, purge):
        command.add_argument("--db", type=Path, help=_DB_HELP)


def closed_before(text: str) -> datetime:
    """``--closed-before``: a date, today or earlier; midnight UTC at its start."""
    example = "for example --closed-before 2025-01-31"
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a date written YYYY-MM-DD; {example}")
    try:
        day = date.fromisoformat(text.strip())
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date ({error}); {example}") from None
    if day > SystemClock().now().date():
        raise argparse.ArgumentTypeError(
            f"{day} is in the future: purge custodies closed before a past date; {example}"
        )
    return datetime.combine(day, time(0), tzinfo=UTC)


def run_record_command(args: argparse.Namespace, db_path: Path) -> int:
    from bot.services import audit_records  # the store only when needed

    if args.command == "purge":
        if not db_path.is_file():  # the store would make a new, empty one
            print(f"wso-bot: no database at {db_path}: give --db, or set WSO_DB", file=sys.stderr)
            return EXIT_CONFIG
        return asyncio.run(_purge(db_path, args.closed_before))
    if args.audit_command == "verify":
        finding = audit_records.verify_file(db_path)
    elif args.out is None:
        finding = audit_records.export_file(db_path, sys.stdout, with_personal=args.with_personal)
    else:
        with args.out.open("w", encoding="utf-8") as out:
            finding = audit_records.export_file(db_path, out, with_personal=args.with_personal)
    quiet = args.audit_command == "export" and args.out is None and finding.exit_code == 0
    if not quiet:  # an export to standard output keeps it for the events
        stream = sys.stdout if finding.exit_code == 0 else sys.stderr
        print(f"wso-bot: {finding.message}", file=stream)
    return finding.exit_code


async def _purge(db_path: Path, before: datetime) -> int:
    from bot.services.retention import purge
    from storage.sqlite import SqliteCustodyStore

    store = SqliteCustodyStore(db_path)
    try:
        await store.open()
    except DatabaseUnusable as error:
        hint = "retention_days makes the running bot purge daily"
        print(f"wso-bot: {error} ({hint})", file=sys.stderr)
        return EXIT_CONFIG
    try:
        now = SystemClock().now()
        erased = await purge(store, before, now, Origin(SYSTEM, Source.CLI))
    finally:
        await store.close()
    print(
        f"wso-bot: purged the personal data of custodies closed before {before.date()} "
        f"({erased['custodies']} custodies: {erased['events_erased']} audit events, "
        f"{erased['custody_fields_erased']} custody fields, "
        f"{erased['notice_details_erased']} notices); the audit chain keeps every hash"
    )
    return 0


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
    for facility in config.facilities:
        lines.append(
            f"facility {facility.id} ({facility.name}): {facility.timezone_name}, "
            f"jail {facility.jail_channel}, ICE {facility.ice_channel}, "
            f"{len(facility.officers)} officer(s), {len(facility.escalation)} escalation level(s)"
            + (f", {len(facility.ice_staff)} ICE staff" if facility.ice_staff else "")
            + (", IGSA" if facility.igsa else "")
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
