"""A throwaway Dovecot IMAP server on 127.0.0.1, started by the tests themselves.

Uses Debian's ``dovecot-imapd`` (``.ci/run`` installs it when absent): a generated config in a
temporary folder, a free port, one passwd-file user, Maildir storage, no TLS (the import allows
plain IMAP to loopback only). Dovecot runs as a non-root process: as the current user, or as
``nobody`` when the tests run as root (the folder is handed to it).
"""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

BINARY = "/usr/sbin/dovecot"


def find_dovecot() -> str | None:
    """The dovecot binary, or None when dovecot-imapd is not installed."""
    imap = Path("/usr/lib/dovecot/imap")
    found = shutil.which("dovecot") or (BINARY if Path(BINARY).exists() else None)
    return found if found and imap.exists() else None


@dataclass(frozen=True)
class Imap:
    """Where the test server listens and who may log in."""

    host: str
    port: int
    user: str
    password: str

    def client(self) -> imaplib.IMAP4:
        """A logged-in client (the test's own view of the mailbox)."""
        conn = imaplib.IMAP4(self.host, self.port, timeout=5)
        conn.login(self.user, self.password)
        return conn


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _config(root: Path, port: int, account: pwd.struct_passwd) -> str:
    return f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {account.pw_name}
default_internal_group = {grp.getgrgid(account.pw_gid).gr_name}
default_login_user = {account.pw_name}
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/passwd
}}
userdb {{
  driver = static
  args = uid={account.pw_uid} gid={account.pw_gid} home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


@contextmanager
def running_dovecot() -> Iterator[Imap]:
    """Start dovecot; yield where it listens; stop it and delete its folder after."""
    binary = find_dovecot()
    if binary is None:
        raise RuntimeError("dovecot not found (apt-get install dovecot-imapd)")
    account = pwd.getpwnam("nobody") if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())
    root = Path(tempfile.mkdtemp(prefix="ecowatch-dovecot-"))
    port = _free_port()
    server = Imap("127.0.0.1", port, "briefs", "imap-test-password")
    (root / "passwd").write_text(f"{server.user}:{{PLAIN}}{server.password}\n", encoding="utf-8")
    (root / "dovecot.conf").write_text(_config(root, port, account), encoding="utf-8")
    if os.geteuid() == 0:
        for path in (root, root / "passwd", root / "dovecot.conf"):
            os.chown(path, account.pw_uid, account.pw_gid)
    proc = subprocess.Popen([binary, "-F", "-c", str(root / "dovecot.conf")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL,
                            user=account.pw_uid if os.geteuid() == 0 else None,
                            group=account.pw_gid if os.geteuid() == 0 else None)
    try:
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
                    if s.recv(64).startswith(b"* OK"):
                        break
            except OSError:
                time.sleep(0.05)
            if proc.poll() is not None:
                log = root / "dovecot.log"
                raise RuntimeError(f"dovecot exited: {log.read_text() if log.exists() else proc.returncode}")
        else:
            raise RuntimeError(f"dovecot did not answer on 127.0.0.1:{port}")
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(root, ignore_errors=True)
