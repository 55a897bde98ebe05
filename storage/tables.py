"""The hook that makes every table known to the shared metadata before migrations or schema
checks compare it with a database: every table is declared in :mod:`storage.schema`."""

from __future__ import annotations

import importlib

# Modules that declare tables on storage.schema.metadata, so a table cannot be missed: the
# shared schema, and the duty aggregate's own (rota, pages, hand-overs, duty log).
TABLE_MODULES = ("storage.schema", "storage.rota")


def register_all_tables() -> None:
    """Import every table-declaring module (idempotent)."""
    for name in TABLE_MODULES:
        importlib.import_module(name)
