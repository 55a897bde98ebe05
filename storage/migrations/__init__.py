"""Schema migrations (Alembic), the same on SQLite and PostgreSQL.

``upgrade_to_head(engine)`` is what ``open_store`` runs: a new database is created from the table
definitions and stamped; a database from before migrations existed gets its missing tables and
columns added, then is stamped; a migrated database is upgraded to the newest revision.
A test checks that the revisions produce exactly the tables the code declares, so a schema change
without a revision fails CI. Create one with ``python -m storage.migrations revision "what changed"``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

HERE = Path(__file__).parent
_REVISION = re.compile(r"^revision\s*=\s*[\"']([^\"']+)[\"']\s*$", re.M)
_DOWN = re.compile(r"^down_revision\s*=\s*(.*?)\s*$", re.M)
_DOWN_VALUE = re.compile(r"None|[\"'][^\"']+[\"']|\(\s*([\"'][^\"']+[\"']\s*,?\s*)+\)")


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration bound to ``engine`` (no alembic.ini needed)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade_to_head(engine: Engine) -> None:
    """Bring the database at ``engine`` to the newest schema (idempotent)."""
    tables = set(inspect(engine).get_table_names())
    if "alembic_version" in tables and _stored_revisions(engine) == _heads():
        return  # the usual case: Alembic itself (~0.25 s of every command's start-up) is not loaded
    from alembic import command

    from storage.migrate import add_missing_columns
    from storage.schema import metadata

    if "alembic_version" in tables:
        command.upgrade(alembic_config(engine), "head")
        return
    cfg = alembic_config(engine)
    # New database, or one made before migrations: create what is missing, then record the head.
    metadata.create_all(engine)
    if tables:
        add_missing_columns(engine)
    if "feed_events" in tables:
        # Its rows must move into events (revision 0003 copies them): record the revision before
        # that one and run it, rather than stamping a head that would leave them behind.
        command.stamp(cfg, "0002")
        command.upgrade(cfg, "head")
        return
    if tables:
        # create_all adds no index to a table that already existed (revision 0004's on incidents):
        # record the revision before it and run it (it skips an index that is there).
        command.stamp(cfg, "0003")
        command.upgrade(cfg, "head")
        return
    command.stamp(cfg, "head")


def _heads() -> set[str] | None:
    """The newest revisions (none follows them), read from the revision files' own
    ``revision`` and ``down_revision`` lines; None when a file says them otherwise than on one
    line each. Every command opens the store: when the database is already at the head, this
    spares Alembic loading every revision (and itself), about a second of each start-up."""
    revisions, downs = set(), set()
    for path in (HERE / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revision, down = _REVISION.findall(source), _DOWN.findall(source)
        if len(revision) != 1 or len(down) != 1 or not _DOWN_VALUE.fullmatch(down[0]):
            return None
        revisions.add(revision[0])
        downs.update(re.findall(r"[\"']([^\"']+)[\"']", down[0]))
    return revisions - downs


def _stored_revisions(engine: Engine) -> set[str]:
    """The revisions the database says it is at."""
    with engine.connect() as conn:
        return {str(r) for r in conn.execute(text("SELECT version_num FROM alembic_version")).scalars()}


def main(argv: list[str]) -> int:
    """``python -m storage.migrations revision "message"``: autogenerate a revision against a
    scratch SQLite database upgraded to the current head."""
    import tempfile

    from alembic import command
    from sqlalchemy import create_engine

    if len(argv) != 2 or argv[0] != "revision":
        print('usage: python -m storage.migrations revision "message"', file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{tmp}/scratch.db")
        cfg = alembic_config(engine)
        command.upgrade(cfg, "head")
        command.revision(cfg, message=argv[1], autogenerate=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
