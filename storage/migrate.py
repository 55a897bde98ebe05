"""Bring an existing database up to the current tables: ``create_all`` adds missing tables but
never columns, so columns added since a file was created are added here (nullable, no data
rewritten). Enough for additive changes; anything else needs a real migration tool."""

from __future__ import annotations

from sqlalchemy import Engine, inspect, text

from storage.schema import metadata


def add_missing_columns(engine: Engine) -> list[str]:
    """ALTER TABLE … ADD COLUMN for every column the tables declare but the database lacks.

    Returns ``table.column`` names added. Only nullable columns are ever added (new columns are
    declared nullable for this reason), so old rows stay valid.
    """
    added: list[str] = []
    inspector = inspect(engine)
    existing_tables = set(inspector.get_table_names())
    with engine.begin() as conn:
        for table in metadata.sorted_tables:
            if table.name not in existing_tables:
                continue
            have = {c["name"] for c in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name in have or not column.nullable:
                    continue
                kind = column.type.compile(dialect=engine.dialect)
                conn.execute(text(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}'))
                added.append(f"{table.name}.{column.name}")
    return added
