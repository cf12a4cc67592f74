"""Persistence behind one seam: ``CustodyStore``. SQL never leaves this package."""

from storage.interface import CustodyNotOpen, CustodyStore, DuplicateOpenCustody, StoreError
from storage.sqlite import SqliteCustodyStore

__all__ = [
    "CustodyNotOpen",
    "CustodyStore",
    "DuplicateOpenCustody",
    "SqliteCustodyStore",
    "StoreError",
]
