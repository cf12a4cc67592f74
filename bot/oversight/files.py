"""The export written as it is read: CSV or JSON, one custody at a time, nothing kept.

CSV: a header of ``EXPORT_COLUMNS``, then one row per custody; ``true``/``false`` for
flags, an empty cell for no value, hours with two decimals. A cell that a spreadsheet
would run as a formula (starting ``=``, ``+``, ``-``, ``@``, a tab or a carriage return)
is written with a leading ``'`` (OWASP's advice for CSV injection). JSON: one array of
objects, the same keys, with numbers, booleans and ``null``; written element by element.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from enum import StrEnum
from typing import TextIO

from bot.core.oversight import EXPORT_COLUMNS, CustodyRecord, ExportValue, export_fields

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ExportFormat(StrEnum):
    CSV = "csv"
    JSON = "json"


def _csv_cell(value: ExportValue) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.2f}"
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def write_csv(records: Iterable[CustodyRecord], out: TextIO) -> int:
    """Write the header and a row per record as each arrives; return how many rows."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for record in records:
        fields = export_fields(record)
        writer.writerow([_csv_cell(fields[column]) for column in EXPORT_COLUMNS])
        count += 1
    return count


def write_json(records: Iterable[CustodyRecord], out: TextIO) -> int:
    """Write a JSON array, an object per record as each arrives; return how many."""
    count = 0
    out.write("[")
    for record in records:
        out.write(",\n" if count else "\n")
        out.write(json.dumps(export_fields(record), ensure_ascii=False))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


WRITERS = {ExportFormat.CSV: write_csv, ExportFormat.JSON: write_json}
