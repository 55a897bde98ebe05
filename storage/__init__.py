"""Persistence behind one interface (``storage.sql.SqlStore``); imports only ``core``."""

from storage.sql import SqlStore, open_store

__all__ = ["SqlStore", "open_store"]
