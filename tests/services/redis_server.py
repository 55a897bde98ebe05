"""A throwaway redis-server on 127.0.0.1, started by the tests themselves.

Uses Debian's ``redis-server`` (``.ci/run`` installs it when absent): a random port, no
persistence (``--save ''``, ``--appendonly no``), its working folder a temporary directory.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.services import free_port, stop


def find_redis_server() -> str | None:
    """The redis-server binary, or None when Redis is not installed."""
    return shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None)


@contextmanager
def running_redis() -> Iterator[str]:
    """Start redis-server; yield its redis:// URL; stop it and delete its folder after."""
    binary = find_redis_server()
    if binary is None:
        raise RuntimeError("redis-server not found (apt-get install redis-server)")
    root = Path(tempfile.mkdtemp(prefix="ecowatch-redis-"))
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(root), "--daemonize", "no", "--protected-mode", "yes"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError(f"redis-server did not answer on 127.0.0.1:{port}")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop(proc)
        shutil.rmtree(root, ignore_errors=True)
