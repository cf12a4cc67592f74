"""The SQLite store's statements, read once from ``queries.sql`` and looked up by name.

A block starts with a line ``-- name: <name>``; its statement runs to the next such
line. Comments stay in the text (SQLite skips them), so each statement keeps its why.
"""

from __future__ import annotations

import functools
import json
import re
import sqlite3
from collections.abc import Collection, Mapping
from importlib import resources

_NAME_LINE = re.compile(r"^-- name: (\w+)\s*$", re.MULTILINE)


def parse_named_queries(text: str) -> dict[str, str]:
    """``{name: statement}`` of every ``-- name:`` block; a name given twice is an error."""
    parts = _NAME_LINE.split(text)
    queries: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in queries:
            raise ValueError(f"query {name!r} is named twice")
        queries[name] = body.strip()
    return queries


def load_named_queries(package: str, filename: str) -> Mapping[str, str]:
    return parse_named_queries(resources.files(package).joinpath(filename).read_text("utf-8"))


def sql_statements(script: str) -> list[str]:
    """The statements of ``script``, each whole: a trigger's body keeps its inner ``;``."""
    statements: list[str] = []
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                statements.append(pending.strip())
            pending = ""
    return statements


QUERIES: Mapping[str, str] = load_named_queries("storage.sqlite", "queries.sql")
SCHEMA: str = resources.files("storage.sqlite").joinpath("schema.sql").read_text("utf-8")
SCHEMA_STATEMENTS: list[str] = sql_statements(SCHEMA)


def json_list(values: Collection[str] | None) -> str | None:
    """A list bound as one parameter (read in SQL with ``json_each``); None stays None."""
    return None if values is None else json.dumps(sorted(values))


_LIST_MARK = "?..."


@functools.cache
def with_list(name: str, count: int) -> str:
    """Statement ``name`` with its ``?...`` written as ``count`` placeholders (0: an empty list)."""
    statement = QUERIES[name]
    if statement.count(_LIST_MARK) != 1:
        raise ValueError(f"query {name!r} has no single {_LIST_MARK} list")
    return statement.replace(_LIST_MARK, ", ".join("?" * count))
