"""``/healthz`` on a real small disk (a tmpfs mounted for the test): 503 with the reason when the disk
is full or the data folder read-only, 200 again once it is not; ``ecowatch serve`` will not start
on a read-only data folder. Needs the right to mount (root with CAP_SYS_ADMIN); skipped without it."""

from __future__ import annotations

import errno
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from core.settings import Settings
from tests.reliability.test_sec_serve import free_port, serve_env


def _mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True, check=False)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 96 MB tmpfs of its own (a real file system that can fill up and be made read-only)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    done = _mount("-t", "tmpfs", "-o", "size=96m", "tmpfs", str(disk))
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    yield disk
    _mount("-o", "remount,rw", str(disk))
    subprocess.run(["umount", "-l", str(disk)], check=False)


@pytest.fixture
def settings(small_disk: Path) -> Settings:
    """The data folder on the small disk (store and api_server are built on it)."""
    s = Settings(data_dir=small_disk / "data", fetch_timeout_seconds=3.0)
    s.ensure_dirs()
    return s


def _health(base: str) -> tuple[int, dict]:
    resp = httpx.get(f"{base}/healthz", timeout=10)
    return resp.status_code, resp.json()


def test_healthz_says_when_the_disk_is_full(settings, api_server):
    assert _health(api_server)[0] == 200
    filler = settings.data_dir / "filler"
    with filler.open("wb") as out, pytest.raises(OSError) as full:
        while True:
            out.write(b"\0" * 2**20)
            out.flush()
    assert full.value.errno == errno.ENOSPC  # really full
    code, body = _health(api_server)
    assert code == 503 and body["detail"].startswith("disk full: 0 MB free") and body["status"] == "unavailable"
    assert str(settings.data_dir) not in body["detail"]  # anyone may ask: the reason, not the paths
    filler.unlink()
    assert _health(api_server) == (200, {"status": "ok", "posts": 0, "database": "sqlite"})


def test_healthz_says_when_the_data_folder_is_read_only(settings, store, api_server, small_disk):
    assert _health(api_server)[0] == 200
    store.dispose()  # a file system with files open for writing cannot be remounted read-only
    assert _mount("-o", "remount,ro", str(small_disk)).returncode == 0
    code, body = _health(api_server)
    assert code == 503 and "read-only" in body["detail"], body
    assert _mount("-o", "remount,rw", str(small_disk)).returncode == 0
    assert _health(api_server)[0] == 200


def test_serve_refuses_a_read_only_data_folder_in_one_line(settings, store, small_disk):
    store.dispose()
    env = serve_env(settings.data_dir)
    assert _mount("-o", "remount,ro", str(small_disk)).returncode == 0
    done = subprocess.run([sys.executable, "-m", "ecowatch.cli", "serve", "--port", str(free_port())],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("ecowatch: ") and line.endswith("not starting"), line
