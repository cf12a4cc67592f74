"""Write ``wso-v5.db``: the same small database as ``wso-v2.db``, as schema version 5 leaves it.

Run with the code at the last commit with schema version 5 (8f798cb), from the
repository root:

    git worktree add /tmp/wso-v5 8f798cb
    cd /tmp/wso-v5 && python tests/contract/data/make_v5_db.py /path/to/wso-v5.db

The content is ``make_v2_db``'s (written through the store's public calls); what
differs is the schema the store of that commit writes: custodies record the whole counting
rule (name, version, hours, holiday calendar) and no A-number.
``tests/contract/test_store_migration.py`` opens a copy with the current code.
"""

from __future__ import annotations

import sys
from pathlib import Path

from make_v2_db import write_file


def main() -> None:
    write_file(Path(sys.argv[1] if len(sys.argv) > 1 else "tests/contract/data/wso-v5.db"))


if __name__ == "__main__":
    main()
