"""The hook that makes every table known to the shared metadata before migrations or schema
checks compare it with a database: every table is declared in :mod:`storage.schema`, but the
duty desk's labels in :mod:`storage.labels`, next to their operations."""

from __future__ import annotations

import importlib

# Modules that declare tables on storage.schema.metadata, so a table cannot be missed: the
# shared schema, the desk's labels, the duty aggregate's own (rota, pages, hand-overs, log) and
# reporting up/down (special reports, sendings, inbound items, 信息简报), how far the outbound
# webhook has read the live feed, copies to departments, and search's post_facets.
TABLE_MODULES = ("storage.schema", "storage.labels", "storage.rota", "storage.sharing_schema", "storage.cursors",
                 "storage.copies", "storage.search")


def register_all_tables() -> None:
    """Import every table-declaring module (idempotent)."""
    for name in TABLE_MODULES:
        importlib.import_module(name)
