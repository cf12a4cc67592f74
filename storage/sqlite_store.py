"""The SQLite store's former home, kept so ``storage.sqlite_store`` imports still work."""

from storage.sqlite.migrations import SCHEMA_VERSION
from storage.sqlite.rows import from_db_time, to_db_time
from storage.sqlite.store import SqliteCustodyStore

__all__ = ["SCHEMA_VERSION", "SqliteCustodyStore", "from_db_time", "to_db_time"]
