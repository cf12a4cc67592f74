"""Write ``wso-v3.db``: the same small database as ``wso-v2.db``, as schema version 3 leaves it.

Run with the code at the last commit with schema version 3 (06f0a07), from the
repository root:

    git worktree add /tmp/wso-v3 06f0a07
    cd /tmp/wso-v3 && python tests/contract/data/make_v3_db.py /path/to/wso-v3.db

The content is ``make_v2_db``'s (written through the store's public calls); what
differs is the schema the store of that commit writes: each notice's target kind is a
column. ``tests/contract/test_store_migration.py`` opens a copy with the current code.
"""

from __future__ import annotations

import sys
from pathlib import Path

from make_v2_db import write_file


def main() -> None:
    write_file(Path(sys.argv[1] if len(sys.argv) > 1 else "tests/contract/data/wso-v3.db"))


if __name__ == "__main__":
    main()
