"""``wso-bot audit verify``, ``wso-bot audit export`` and ``wso-bot purge``: the records,
read or erased from the command line, without Slack.

``audit`` reads the chain read-only beside a running bot (``bot.services.audit_records``);
``purge`` opens the store itself (``bot.services.retention``), so it refuses a database a
running bot holds: ``retention_days`` makes that bot purge daily instead.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from datetime import UTC, date, datetime, time
from pathlib import Path

from bot.core.audit import SYSTEM, Origin
from bot.core.model import Source
from bot.services.clock import SystemClock
from storage.interface import DatabaseUnusable

RECORD_COMMANDS = ("audit", "purge")
_DB_HELP = "the database (default: $WSO_DB, else ./wso.db)"


def add_record_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
        help="include each event's personal part and salt (notes, reasons, names, A-numbers)",
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
    """Run ``audit verify``, ``audit export`` or ``purge``; the process's exit code."""
    from bot.services import audit_records  # the store only when needed

    if args.command == "purge":
        if not db_path.is_file():  # the store would make a new, empty one
            print(f"wso-bot: no database at {db_path}: give --db, or set WSO_DB", file=sys.stderr)
            return audit_records.EXIT_UNREADABLE
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
    from bot.services.audit_records import EXIT_UNREADABLE
    from bot.services.retention import purge
    from storage.sqlite import SqliteCustodyStore

    store = SqliteCustodyStore(db_path)
    try:
        await store.open()
    except DatabaseUnusable as error:
        hint = "retention_days makes the running bot purge daily"
        print(f"wso-bot: {error} ({hint})", file=sys.stderr)
        return EXIT_UNREADABLE
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
