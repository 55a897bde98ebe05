"""Whether the store can do its work: its SQLite file is whole, its folder takes writes, its disk
has room, and it answers a read.

Asked by ``/healthz`` (503 with the reason) and by every command before it opens the store
(``ecowatch.context.store``: one line instead of a traceback). Reading a 100-byte header and a few
file-system facts is cheap enough for every health probe; a full integrity check (PRAGMA
integrity_check reads every page) is not.
"""

from __future__ import annotations

import os
import threading
import weakref
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from core.errors import StoreError
from storage.sql import SqlStore

_MAGIC = b"SQLite format 3\x00"
_HANDLES: weakref.WeakKeyDictionary[SqlStore, int] = weakref.WeakKeyDictionary()  # see _header_handle
_HANDLES_LOCK = threading.Lock()


def sqlite_file_problem(path: Path, handle: int | None = None) -> str | None:
    """Why the SQLite file at ``path`` is not a whole database, or None (a missing or empty file
    is a new database). From the header (sqlite.org/fileformat.html): the magic string, and the
    page size times the page count of the last commit, which the file cannot be shorter than.
    While this process has the database open the header is read through ``handle``
    (:func:`_header_handle`), never through a file opened and closed here."""
    try:
        size = path.stat().st_size
        if size == 0:
            return None
        if handle is not None:
            header = os.pread(handle, 100, 0)
        else:
            with path.open("rb") as f:
                header = f.read(100)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"the database file cannot be read: {exc.strerror}"
    if len(header) < 100 or not header.startswith(_MAGIC):
        return "the database file is not an SQLite database (corrupt or overwritten)"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    # The page count is valid when the "version valid for" number matches the change counter.
    if header[24:28] == header[92:96] and size < pages * page_size:
        return f"the database file is truncated: {size} bytes of {pages * page_size}"
    return None


def _header_handle(store: SqlStore, path: Path) -> int:
    """A read-only handle on ``store``'s database file, open as long as the store is.

    Closing any handle on a file cancels every POSIX lock this process holds on it, SQLite's own
    included (sqlite.org/howtocorrupt.html, 2.2). Each ``/healthz`` opened and closed one, so
    the next process to close its connection (a command, a monitoring read) took itself for the
    last. It deleted the ``-wal`` and ``-shm`` the server still wrote to, and the server's
    commits then went into a deleted file (tests/reliability/test_wal_kept.py). The handle is
    closed when the store is collected, with its connections."""
    with _HANDLES_LOCK:
        fd = _HANDLES.get(store)
        if fd is not None and os.fstat(fd).st_ino == path.stat().st_ino:
            return fd
        # A new file (a restore replaced it): the old handle stays open, SQLite may hold locks there.
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        weakref.finalize(store, os.close, fd)
        _HANDLES[store] = fd
        return fd


def disk_problem(store: SqlStore, min_free_bytes: int) -> str | None:
    """Why the store's files cannot take writes, or None: a broken SQLite file, a read-only folder
    (SQLite writes its journal beside the database), a disk with less than ``min_free_bytes`` free.
    The snapshot folder is checked too; a server database's own disk is its server's business."""
    folders: list[tuple[str, Path]] = []
    if store.engine.dialect.name == "sqlite" and store.engine.url.database not in (None, "", ":memory:"):
        database = Path(str(store.engine.url.database))
        try:
            problem = sqlite_file_problem(database, _header_handle(store, database))
        except FileNotFoundError:
            problem = None  # not made yet: a new database
        except OSError as exc:
            problem = f"the database file cannot be read: {exc.strerror}"
        if problem is not None:
            return problem
        if database.exists() and not os.access(database, os.W_OK):
            return "the database file is read-only: nothing new can be stored"
        folders.append(("data folder", database.parent))
    if store.snapshot_dir is not None:
        folders.append(("snapshot folder", store.snapshot_dir))
    for name, folder in folders:  # named, not shown: /healthz answers anyone, paths are not its business
        try:
            fs = os.statvfs(folder)
        except FileNotFoundError:
            continue
        except OSError as exc:
            return f"the {name} cannot be checked: {exc.strerror}"
        if fs.f_flag & os.ST_RDONLY or not os.access(folder, os.W_OK):
            return f"the {name} is read-only: nothing new can be stored"
        free = fs.f_bavail * fs.f_frsize
        if free < min_free_bytes:
            return f"disk full: {free // 2**20} MB free for the {name} (at least {min_free_bytes // 2**20} MB needed)"
    return None


def count_or_problem(store: SqlStore) -> tuple[int | None, str | None]:
    """The number of stored posts, or why the database does not answer (corrupt pages, a server
    that is down): one read, never a write."""
    try:
        with store.read() as tx:
            return tx.count_posts(), None
    except (SQLAlchemyError, StoreError) as exc:
        return None, f"the database does not answer: {error_text(exc)}"


def error_text(exc: BaseException) -> str:
    """The driver's own words for a database error (first line), without SQLAlchemy's wrapping."""
    orig = getattr(exc, "orig", None) or exc.__cause__ or exc
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0]
