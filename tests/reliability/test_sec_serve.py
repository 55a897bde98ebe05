"""``ecowatch serve`` as deployed, in its own process on loopback: the login limiter counts the
connection's address unless a proxy is configured (X-Forwarded-For from anyone else is not
believed), and per address across user names (password spraying)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from core.settings import Settings
from storage.sql import open_store
from tests.api_seed import PASSWORD, seed_users
from tests.conftest import _free_port as free_port
from tests.conftest import wait_until_answering


def serve_env(data: Path, **extra: str) -> dict[str, str]:
    """The environment of an ``ecowatch serve`` on ``data`` that crawls nothing."""
    sources = data.parent / "no_sources.toml"
    sources.write_text("", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECOWATCH_")}
    return {**env, "ECOWATCH_DATA_DIR": str(data), "ECOWATCH_SOURCES_FILE": str(sources),
            "ECOWATCH_SECRET_KEY": "s" * 40, **extra}


@contextmanager
def served(data: Path, **extra: str) -> Iterator[str]:
    """``ecowatch serve`` in a subprocess on a free loopback port; yields its base URL."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "ecowatch.cli", "serve", "--port", str(port)],
                            env=serve_env(data, **extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(base, tries=1200)  # ~60 s: serve imports the analyser first
        if proc.poll() is not None:
            pytest.fail(f"serve exited {proc.returncode}: {proc.stderr.read() if proc.stderr else ''}")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture
def deployment(tmp_path: Path) -> Path:
    """A data folder with the five test users."""
    settings = Settings(data_dir=tmp_path / "data")
    settings.ensure_dirs()
    store = open_store(settings.sqlalchemy_url, settings.snapshot_dir)
    seed_users(store)
    store.dispose()
    return settings.data_dir


def _guess(base: str, name: str, password: str, forwarded: str) -> int:
    return httpx.post(f"{base}/api/auth/token", data={"username": name, "password": password},
                      headers={"X-Forwarded-For": forwarded}, timeout=30).status_code


def test_forwarded_for_does_not_slip_past_the_limiter(deployment):
    with served(deployment) as base:
        codes = [_guess(base, "leader1", "not-the-password", f"203.0.113.{i}") for i in range(1, 6)]
        assert codes == [400] * 5
        # A sixth guess "from" yet another address is still the same client: refused, even the right password.
        assert _guess(base, "leader1", PASSWORD, "198.51.100.7") == 429


def test_a_configured_proxy_is_believed(deployment):
    with served(deployment, ECOWATCH_TRUSTED_PROXIES="127.0.0.1") as base:
        assert [_guess(base, "leader1", "not-the-password", "203.0.113.9") for _ in range(5)] == [400] * 5
        assert _guess(base, "leader1", PASSWORD, "203.0.113.9") == 429  # that client is limited...
        assert _guess(base, "leader1", PASSWORD, "198.51.100.7") == 200  # ...another behind the proxy is not


def test_spraying_one_password_over_many_names_is_limited_per_address(store, api_server):
    seed_users(store)
    names = [f"user{i:02d}" for i in range(20)]  # one guess each: the per-user limit never trips
    assert {httpx.post(f"{api_server}/api/auth/token", data={"username": n, "password": "Spring2026!"},
                       timeout=30).status_code for n in names} == {400}
    blocked = httpx.post(f"{api_server}/api/auth/token", data={"username": "duty1", "password": PASSWORD}, timeout=30)
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0


def _fill_and_checkpoint(store, posts: int = 800) -> None:
    """Enough posts that the database spans many pages, all of them written into the main file."""
    from core.models import RawPost

    with store.begin() as tx:
        tx.add_posts([RawPost(source="s", text="石马河污水" * 40 + str(i), url=f"http://x/{i}") for i in range(posts)])
    with store.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def _break(database: Path, how: str) -> None:
    if how == "corrupt":
        with database.open("r+b") as f:
            f.write(b"\x00" * 100)  # the header gone, as a stray write or a bad copy leaves it
    else:
        with database.open("r+b") as f:
            f.truncate(database.stat().st_size // 2)  # a copy cut short, a disk that filled during it


@pytest.mark.parametrize("how", ["corrupt", "truncated"])
def test_healthz_says_when_the_database_is_broken(settings, store, api_server, how):
    _fill_and_checkpoint(store)
    assert httpx.get(f"{api_server}/healthz", timeout=10).json()["posts"] == 800
    _break(settings.data_dir / "ecowatch.db", how)
    resp = httpx.get(f"{api_server}/healthz", timeout=10)
    assert resp.status_code == 503, resp.text
    assert ("not an SQLite database" if how == "corrupt" else "is truncated") in resp.json()["detail"]


@pytest.mark.parametrize("how", ["corrupt", "truncated"])
def test_serve_refuses_a_broken_database_in_one_line(settings, store, how):
    _fill_and_checkpoint(store)
    store.dispose()
    database = settings.data_dir / "ecowatch.db"
    _break(database, how)
    before = database.read_bytes()
    done = subprocess.run([sys.executable, "-m", "ecowatch.cli", "serve", "--port", str(free_port())],
                          capture_output=True, text=True, timeout=120, env=serve_env(settings.data_dir))
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-3000:]
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"ecowatch: {database}: the database file is ") and line.endswith("; not starting"), line
    assert database.read_bytes() == before  # refused before anything wrote to it
