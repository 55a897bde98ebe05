"""Alembic environment: runs against the engine handed over in ``config.attributes``."""

from __future__ import annotations

from alembic import context

from storage.schema import metadata
from storage.tables import register_all_tables

register_all_tables()
config = context.config
engine = config.attributes["engine"]


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Leave alone what the code does not declare (full-text index shadow tables, for one)."""
    return not (type_ == "table" and reflected and compare_to is None)


with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                      include_object=include_object, compare_type=False)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
