"""``ecowatch search-facets``: check (and, asked to, rebuild) the per-post rows SQLite search counts
facets and filters by (``storage.search.post_facets``) and the per-unit tallies kept from them
(``facet_tallies``), against the record they are derived from."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ecowatch import context
from ecowatch.cli import app


@app.command("search-facets")
def search_facets(rebuild: Annotated[bool, typer.Option("--rebuild", help="recompute every row from the record")]
                  = False) -> None:
    """Report how many posts' search facet rows and facet tallies differ from the record (exit 1
    when some do and --rebuild was not given). Triggers keep them exact; a difference means a migration dropped a
    trigger or the database was edited by hand. SQLite only."""
    from storage.search import facet_drift, rebuild_post_facets

    store = context.store(context.settings())
    if store.engine.dialect.name != "sqlite":
        typer.echo("ecowatch: search facet rows exist on SQLite only (PostgreSQL searches the record)", err=True)
        raise typer.Exit(2)
    with store.read() as tx:
        drift = facet_drift(tx.conn)
    report = {"differing": drift}
    if rebuild:
        with store.begin() as tx:
            report["rebuilt"] = rebuild_post_facets(tx.conn)
            report["differing_after"] = facet_drift(tx.conn)
    typer.echo(json.dumps(report))
    if drift and not rebuild:
        raise typer.Exit(1)
