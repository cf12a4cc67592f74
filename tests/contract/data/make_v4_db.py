"""Write ``wso-v4.db``: the same small database as ``wso-v2.db``, as schema version 4 leaves it.

Run with the code at the last commit with schema version 4 (d7ef56b), from the
repository root:

    git worktree add /tmp/wso-v4 d7ef56b
    cd /tmp/wso-v4 && python tests/contract/data/make_v4_db.py /path/to/wso-v4.db

The content is ``make_v2_db``'s (written through the store's public calls); what
differs is the schema the store of that commit writes: custodies record only the name
of the counting rule (``counting_rule``), not its version, hours or holiday calendar.
``tests/contract/test_store_migration.py`` opens a copy with the current code.
"""

from __future__ import annotations

import sys
from pathlib import Path

from make_v2_db import write_file


def main() -> None:
    write_file(Path(sys.argv[1] if len(sys.argv) > 1 else "tests/contract/data/wso-v4.db"))


if __name__ == "__main__":
    main()
