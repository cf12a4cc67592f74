"""``wso-bot export`` and ``wso-bot report``: what the command line runs.

Both read the database through ``DatabaseReader`` (read-only, no lock: they run beside
a serving bot) a page at a time, and the config for each facility's name and time zone.
The export is written row by row as pages arrive; the report keeps only the summary's
counters. Output goes to ``FILE.partial`` and is renamed to ``FILE`` once whole, so a
failed run never leaves a file that looks complete.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TextIO

from bot.config import ConfigError, check_config_path, database_path, load_config
from bot.core.facility import Config
from bot.core.model import Custody
from bot.core.oversight import (
    EXAMPLE_PERIOD,
    CustodyRecord,
    Period,
    PeriodError,
    read_period,
    records_in_period,
)
from bot.core.oversight_summary import facility_labels, summarise
from bot.oversight.files import WRITERS, ExportFormat
from storage.sqlite.reader import DatabaseReader, UnreadableDatabase

# Same as ``serve`` refusing to start: the command could not do what it was asked.
EXIT_USAGE = 2
EXPORT_EXAMPLE = f"wso-bot export {EXAMPLE_PERIOD} --format csv --out custodies.csv"
REPORT_EXAMPLE = f"wso-bot report {EXAMPLE_PERIOD} --out report.html"
DEFAULT_REPORT = Path("report.html")


class CommandFailed(Exception):
    """What went wrong, for the operator; the command exits ``EXIT_USAGE``."""


def add_oversight_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``export`` and ``report`` subcommands and their options."""
    export = commands.add_parser("export", help="one row per custody of a period: CSV or JSON")
    _period_options(export)
    export.add_argument(
        "--format", choices=[f.value for f in ExportFormat], default=ExportFormat.CSV.value
    )
    export.add_argument("--out", type=Path, help="file to write (default: standard output)")
    report = commands.add_parser("report", help="a one-page HTML summary of a period")
    _period_options(report)
    report.add_argument("--out", type=Path, default=DEFAULT_REPORT, help="default: report.html")


def _period_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="first", metavar="YYYY-MM-DD", help="first arrest date")
    parser.add_argument("--to", dest="last", metavar="YYYY-MM-DD", help="last arrest date")
    parser.add_argument("--db", type=Path, help="SQLite file (default: $WSO_DB or ./wso.db)")
    parser.add_argument("--config", type=Path, help="config (default: $WSO_CONFIG or ./wso.toml)")


@dataclass(frozen=True)
class Sources:
    period: Period
    config: Config
    reader: DatabaseReader


def _sources(args: argparse.Namespace, environ: Mapping[str, str], example: str) -> Sources:
    try:
        period = read_period(args.first, args.last)
    except PeriodError as error:
        raise CommandFailed(f"{error.message}\nFor example: {example}") from None
    config_path = args.config or check_config_path(environ)
    try:
        config = load_config(config_path)
    except ConfigError as error:
        raise CommandFailed(f"config error: {error}") from None
    db = args.db or database_path(environ)
    if not db.is_file():
        raise CommandFailed(f"no database at {db}: give --db or set WSO_DB")
    return Sources(period, config, DatabaseReader(db))


def _custodies(sources: Sources) -> Iterator[Custody]:
    return sources.reader.custodies_arrested_between(*sources.period.search_bounds())


def _records(sources: Sources, now: datetime) -> Iterator[CustodyRecord]:
    labels = facility_labels(sources.config.facilities)
    return records_in_period(_custodies(sources), sources.period, labels, now)


@contextlib.contextmanager
def _output(path: Path | None, stdout: TextIO) -> Iterator[TextIO]:
    """The file to write, whole or not at all (``FILE.partial`` renamed at the end)."""
    if path is None:
        yield stdout
        return
    partial = path.with_name(path.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8", newline="") as out:
            yield out
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _run(action: Callable[[], str], command: str) -> int:
    try:
        said = action()
    except CommandFailed as failure:
        print(f"wso-bot {command}: {failure}", file=sys.stderr)
        return EXIT_USAGE
    except UnreadableDatabase as error:
        print(f"wso-bot {command}: {error}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as error:
        print(f"wso-bot {command}: cannot write: {error}", file=sys.stderr)
        return EXIT_USAGE
    print(f"wso-bot {command}: {said}", file=sys.stderr)
    return 0


def run_export(args: argparse.Namespace, environ: Mapping[str, str], now: datetime) -> int:
    def export() -> str:
        sources = _sources(args, environ, EXPORT_EXAMPLE)
        write = WRITERS[ExportFormat(args.format)]
        with _output(args.out, sys.stdout) as out:
            count = write(_records(sources, now), out)
        where = args.out or "standard output"
        return f"{count:,} custodies arrested {sources.period.describe()} written to {where}"

    return _run(export, "export")


def run_report(args: argparse.Namespace, environ: Mapping[str, str], now: datetime) -> int:
    def report() -> str:
        from bot.oversight.chart import draw_chart  # matplotlib: only for a report
        from bot.oversight.page import render_report

        sources = _sources(args, environ, REPORT_EXAMPLE)
        labels = facility_labels(sources.config.facilities)
        summary = summarise(_custodies(sources), sources.period, labels, now)
        page = render_report(summary, draw_chart(summary), now)
        with _output(args.out, sys.stdout) as out:
            out.write(page)
        return (
            f"{summary.custodies:,} custodies arrested {sources.period.describe()}, "
            f"{summary.held_past_deadline:,} held past the deadline; written to {args.out}"
        )

    return _run(report, "report")
