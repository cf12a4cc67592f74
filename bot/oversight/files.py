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

from bot.core.oversight import (
    EXPORT_COLUMNS,
    FLAG_COLUMNS,
    TYPED_COLUMNS,
    CustodyRecord,
    ExportValue,
    export_fields,
    export_values,
)

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ExportFormat(StrEnum):
    CSV = "csv"
    JSON = "json"


# Columns by what a CSV cell needs: flags spelled out, hours with two decimals, and text
# a person typed (or a config holds) checked for a formula. The rest are ids and times
# the bot wrote, and None, which the csv module writes as an empty cell.
_FLAGS = tuple(i for i, c in enumerate(EXPORT_COLUMNS) if c in FLAG_COLUMNS)
_HOURS = tuple(i for i, c in enumerate(EXPORT_COLUMNS) if c.startswith("hours_"))
_TYPED = tuple(i for i, c in enumerate(EXPORT_COLUMNS) if c in TYPED_COLUMNS)


def csv_row(values: tuple[ExportValue, ...]) -> list[ExportValue]:
    """One row of ``export_values`` as CSV cells (see the module's rules)."""
    row = list(values)
    for index in _FLAGS:
        flag = row[index]
        row[index] = None if flag is None else ("true" if flag else "false")
    for index in _HOURS:
        hours = row[index]
        row[index] = None if hours is None else f"{hours:.2f}"
    for index in _TYPED:
        text = row[index]
        if isinstance(text, str) and text.startswith(_FORMULA_STARTS):
            row[index] = "'" + text
    return row


def write_csv(records: Iterable[CustodyRecord], out: TextIO) -> int:
    """Write the header and a row per record as each arrives; return how many rows."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for record in records:
        writer.writerow(csv_row(export_values(record)))
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
