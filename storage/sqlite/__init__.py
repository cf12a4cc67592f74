"""The SQLite store: ``SqliteCustodyStore`` over one file, used by one process at a time.

Modules, from the file up: ``checks`` (integrity, files deleted under us),
``database`` (the connection, its lock, transactions, health), ``queries.sql``
(every statement, by name) read by ``queries``, ``schema.sql`` and ``migrations``
(versions), ``rows`` (rows to domain values and back), ``arrests`` (the group
commit of logged arrests), ``store`` (the ``CustodyStore`` methods) and
``reader`` (a read-only look for benchmarks and tools, beside a running bot).
"""

from storage.sqlite.migrations import SCHEMA_VERSION
from storage.sqlite.reader import DatabaseReader, UnreadableDatabase
from storage.sqlite.store import SqliteCustodyStore

__all__ = ["SCHEMA_VERSION", "DatabaseReader", "SqliteCustodyStore", "UnreadableDatabase"]
