"""The hook that makes every table known to the shared metadata before migrations or schema
checks compare it with a database: every table is declared in :mod:`storage.schema`."""

from __future__ import annotations

import importlib

# Modules that declare tables on storage.schema.metadata: every one listed, so a table cannot be missed.
TABLE_MODULES = ("storage.schema", "storage.sharing_schema")


def register_all_tables() -> None:
    """Import every table-declaring module (idempotent)."""
    for name in TABLE_MODULES:
        importlib.import_module(name)
