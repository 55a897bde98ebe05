"""Every module that declares tables on the shared metadata, imported in one place so that
migrations and schema checks see them all."""

from __future__ import annotations

import importlib

# Modules that add tables to storage.schema.metadata besides storage.schema itself.
TABLE_MODULES = ("storage.search_sync", "storage.users", "storage.events")


def register_all_tables() -> None:
    """Import every table-declaring module (idempotent)."""
    for name in TABLE_MODULES:
        importlib.import_module(name)
