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

from tests.services import free_port, stop

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
    port: int  # IMAP (STARTTLS offered when the server has a certificate)
    user: str
    password: str
    ssl_port: int | None = None  # IMAPS, when the server has a certificate
    cert: Path | None = None  # its self-signed certificate (the CA file a client trusts)

    def client(self) -> imaplib.IMAP4:
        """A logged-in client (the test's own view of the mailbox)."""
        conn = imaplib.IMAP4(self.host, self.port, timeout=5)
        conn.login(self.user, self.password)
        return conn


def _self_signed(root: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, signed by its own key (the test's CA)."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ecowatch test IMAP")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = root / "cert.pem", root / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


def _config(root: Path, port: int, account: pwd.struct_passwd, ssl_port: int | None) -> str:
    tls = f"ssl = yes\nssl_cert = <{root}/cert.pem\nssl_key = <{root}/key.pem" if ssl_port else "ssl = no"
    return f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
{tls}
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
    address = 127.0.0.1
    port = {ssl_port or 0}
  }}
}}
service anvil {{
  chroot =
}}
"""


@contextmanager
def running_dovecot(tls: bool = False) -> Iterator[Imap]:
    """Start dovecot (with ``tls``: a self-signed certificate, STARTTLS and IMAPS); yield where it
    listens; stop it and delete its folder after."""
    binary = find_dovecot()
    if binary is None:
        raise RuntimeError("dovecot not found (apt-get install dovecot-imapd)")
    account = pwd.getpwnam("nobody") if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())
    root = Path(tempfile.mkdtemp(prefix="ecowatch-dovecot-"))
    port, ssl_port = free_port(), free_port() if tls else None
    cert = _self_signed(root)[0] if tls else None
    server = Imap("127.0.0.1", port, "briefs", "imap-test-password", ssl_port, cert)
    (root / "passwd").write_text(f"{server.user}:{{PLAIN}}{server.password}\n", encoding="utf-8")
    (root / "dovecot.conf").write_text(_config(root, port, account, ssl_port), encoding="utf-8")
    if os.geteuid() == 0:
        for path in root.iterdir():
            os.chown(path, account.pw_uid, account.pw_gid)
        os.chown(root, account.pw_uid, account.pw_gid)
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
        stop(proc)
        shutil.rmtree(root, ignore_errors=True)
