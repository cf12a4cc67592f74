"""The audit log's part of the storage seam (``CustodyStore`` has it too).

Audit events are only appended (by ``record_audit``, and by each change in its own
transaction), read, and purged of their personal parts: no call changes or removes one
(``tests/contract/test_audit_chain.py`` holds this). How events are chained is
``bot.core.audit_chain``'s.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Protocol

from bot.core.model import AuditEntry


class AuditLog(Protocol):
    async def record_audit(self, entry: AuditEntry) -> None:
        """Append one event to the chain (a change that writes nothing else)."""
        ...

    async def audit_trail(self, custody_id: str) -> list[AuditEntry]:
        """Audit entries of one custody, oldest first, with their personal values unless
        purged (then ``erased`` is set)."""
        ...

    async def purge_personal_data(
        self, closed_before: datetime, audit: Callable[[Mapping[str, int]], AuditEntry]
    ) -> Mapping[str, int]:
        """Erase the personal data of custodies closed before ``closed_before``, atomically.

        Their events' personal parts and salts go (their digests stay: the chain still
        verifies), and so do their custody fields and notice details named in
        ``bot.core.audit_chain.PERSONAL_FIELDS``. Returns counts of what was erased, and
        appends ``audit(counts)``, the purge's own event, in the same transaction.
        """
        ...
