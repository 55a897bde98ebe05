"""Where 信息简报 mails are read from: .eml files, an mbox file, a Maildir, or an IMAP mailbox.

Files are only read (the import's own ledger, ``brief_mails``, is what makes a second run a no-op).
From IMAP the unseen messages are fetched with ``BODY.PEEK[]`` (which leaves them unseen) and each
is flagged ``\\Seen`` only after the import kept it: a process that dies midway leaves the rest
unseen for the next run, and one that dies between keeping and flagging finds that mail again as a
duplicate. A mail the import could not read stays unseen (it is reported on every run until someone
looks at it), never silently consumed.
"""

from __future__ import annotations

import contextlib
import imaplib
import mailbox
import ssl
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from pathlib import Path

from briefing.mail_import import MailOutcome, import_mail
from core.errors import EcowatchError
from core.jurisdiction import Jurisdiction
from core.settings import Settings
from core.timeutil import utcnow
from storage.sql import SqlStore


class MailSourceError(EcowatchError):
    """The path or the mailbox cannot be read at all (nothing was imported from it)."""


def read_path(path: Path) -> Iterator[tuple[str, bytes | MailSourceError]]:
    """(origin, the mail's bytes or why it could not be read) for every mail under ``path``: a
    Maildir (a folder with cur/ and new/), a folder of .eml files, an mbox file, or one .eml."""
    if path.is_dir():
        if (path / "cur").is_dir() and (path / "new").is_dir():
            maildir = mailbox.Maildir(path, factory=None, create=False)
            for key in sorted(maildir.keys()):
                yield _read(f"{path}/{key}", partial(maildir.get_bytes, key))
            return
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() == ".eml")
        if not files:
            raise MailSourceError("既不是 Maildir，也没有 .eml 文件")
        for file in files:
            yield _read(str(file), file.read_bytes)
        return
    try:
        with path.open("rb") as fh:
            head = fh.read(5)
    except OSError as exc:
        raise MailSourceError(f"无法读取：{exc.strerror or exc}") from exc
    if head == b"From ":
        mbox = mailbox.mbox(path, factory=None, create=False)
        for index, key in enumerate(mbox.keys(), start=1):
            yield _read(f"{path}#{index}", partial(mbox.get_bytes, key))
        return
    yield _read(str(path), path.read_bytes)


def import_files(paths: Iterable[Path], store: SqlStore, jurisdiction: Jurisdiction) -> Iterator[MailOutcome]:
    """Every mail under ``paths`` imported one by one; a path or a mail that cannot be read is one
    outcome's error, and the others are still imported."""
    for path in paths:
        try:
            for origin, got in read_path(path):
                yield (import_mail(store, jurisdiction, got, origin, utcnow()) if isinstance(got, bytes)
                       else MailOutcome(origin, error=str(got)))
        except MailSourceError as exc:
            yield MailOutcome(str(path), error=str(exc))


def _read(origin: str, read: Callable[[], bytes]) -> tuple[str, bytes | MailSourceError]:
    try:
        return origin, read()
    except (OSError, KeyError, mailbox.Error) as exc:
        return origin, MailSourceError(f"无法读取：{exc}")


def imap_password(settings: Settings) -> str:
    """The IMAP password: ``brief_imap_password`` (the environment), else the private file
    ``brief_imap_password_file`` (refused when group or others may read it)."""
    if settings.brief_imap_password:
        return settings.brief_imap_password
    path = settings.brief_imap_password_file
    if path is None:
        raise MailSourceError("IMAP 未配置密码：设置 ECOWATCH_BRIEF_IMAP_PASSWORD 或 ECOWATCH_BRIEF_IMAP_PASSWORD_FILE")
    try:
        if path.stat().st_mode & 0o077:
            raise MailSourceError(f"{path}: 密码文件只能由本用户读取（chmod 600 {path}）")
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise MailSourceError(f"{path}: {exc.strerror or exc}") from exc


def imap_origin(settings: Settings) -> str:
    """How the mailbox is named in the ledger and the output (no password)."""
    return f"imap://{settings.brief_imap_user}@{settings.brief_imap_host}/{settings.brief_imap_folder}"


def _connect(settings: Settings) -> imaplib.IMAP4:
    host, tls, timeout = settings.brief_imap_host or "", settings.brief_imap_tls, settings.fetch_timeout_seconds
    port = settings.brief_imap_port or (993 if tls == "ssl" else 143)
    context = ssl.create_default_context(cafile=str(settings.brief_imap_ca_file) if settings.brief_imap_ca_file
                                         else None)
    if tls == "ssl":
        return imaplib.IMAP4_SSL(host, port, ssl_context=context, timeout=timeout)
    conn = imaplib.IMAP4(host, port, timeout=timeout)
    if tls == "starttls":
        conn.starttls(ssl_context=context)
    return conn


def import_imap(settings: Settings, keep: Callable[[str, bytes], MailOutcome]) -> Iterator[MailOutcome]:
    """Every unseen message of the configured folder through ``keep``, flagged seen once kept."""
    if not settings.brief_imap_host or not settings.brief_imap_user:
        raise MailSourceError("IMAP 未配置：设置 ECOWATCH_BRIEF_IMAP_HOST 和 ECOWATCH_BRIEF_IMAP_USER")
    origin = imap_origin(settings)
    password = imap_password(settings)
    try:
        conn = _connect(settings)
    except (OSError, imaplib.IMAP4.error, ssl.SSLError) as exc:
        raise MailSourceError(f"{origin}: 无法连接：{exc}") from exc
    try:
        try:
            conn.login(settings.brief_imap_user or "", password)
            kind, _ = conn.select(_quoted(settings.brief_imap_folder))
            if kind != "OK":
                raise MailSourceError(f"{origin}: 文件夹不存在或无法打开")
            kind, found = conn.uid("SEARCH", "UNSEEN")
            if kind != "OK":
                raise MailSourceError(f"{origin}: 无法列出未读邮件")
        except (OSError, imaplib.IMAP4.error) as exc:
            raise MailSourceError(f"{origin}: {exc}") from exc
        for uid in (found[0] or b"").split():
            yield _one(conn, origin, uid.decode("ascii"), keep)
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            conn.logout()


def import_mailbox(settings: Settings, store: SqlStore, jurisdiction: Jurisdiction) -> Iterator[MailOutcome]:
    """The configured mailbox's unseen mails imported one by one (``ecowatch briefs import-mail``
    without paths, and the ``mail`` job of ``ecowatch serve``)."""
    return import_imap(settings, lambda origin, raw: import_mail(store, jurisdiction, raw, origin, utcnow()))


def _one(conn: imaplib.IMAP4, origin: str, uid: str, keep: Callable[[str, bytes], MailOutcome]) -> MailOutcome:
    where = f"{origin};UID={uid}"
    try:
        kind, data = conn.uid("FETCH", uid, "(BODY.PEEK[])")
        raw = next((part[1] for part in data if isinstance(part, tuple)), None)
        if kind != "OK" or not isinstance(raw, bytes):
            return MailOutcome(where, error="无法取回邮件")
        outcome = keep(where, raw)
        if outcome.stored:
            conn.uid("STORE", uid, "+FLAGS", "(\\Seen)")
        return outcome
    except (OSError, imaplib.IMAP4.error) as exc:
        raise MailSourceError(f"{where}: {exc}") from exc


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'
