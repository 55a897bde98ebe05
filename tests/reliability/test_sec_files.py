"""Secrets and the database are private files: a short signing key is refused in one line, the
generated key file is never readable by others (not even for a moment), the SQLite database is
0600 and the data folder 0700, from a fresh start and after an older version left them open."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from core.settings import Settings


def _cli(args: list[str], data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("ECOWATCH_")}
    return subprocess.run([sys.executable, "-m", "ecowatch.cli", *args], capture_output=True, text=True, timeout=120,
                          env={**full, "ECOWATCH_DATA_DIR": str(data_dir), **env})


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_short_secret_key_is_refused_in_one_line_without_echoing_it(tmp_path):
    short = "tiny-secret-xyz"
    done = _cli(["incidents"], tmp_path / "data", ECOWATCH_SECRET_KEY=short)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert "ECOWATCH_SECRET_KEY must be at least 32 bytes" in lines[0] and short not in done.stderr
    ok = _cli(["incidents"], tmp_path / "data", ECOWATCH_SECRET_KEY="k" * 32)
    assert ok.returncode == 0, ok.stderr


def test_generated_key_file_is_never_readable_by_others(tmp_path):
    """Every filesystem step Python takes while the key is made is watched (an audit hook): at no
    step may a key file exist with group or other permissions, the temporary one included."""
    settings = Settings(data_dir=tmp_path / "data")
    settings.ensure_dirs()
    seen: list[tuple[str, int]] = []
    state = {"watching": True, "inside": False}

    def watch(event: str, _args: tuple) -> None:
        if not state["watching"] or state["inside"] or not event.startswith(("open", "os.")):
            return
        state["inside"] = True  # looking raises audit events of its own
        try:
            for entry in os.scandir(settings.data_dir):
                if "secret_key" in entry.name:
                    seen.append((entry.name, stat.S_IMODE(entry.stat().st_mode)))
        finally:
            state["inside"] = False

    old = os.umask(0o022)
    sys.addaudithook(watch)
    try:
        key = settings.token_secret()
    finally:
        state["watching"] = False  # an audit hook cannot be removed: it just stops looking
        os.umask(old)
    assert len(key.encode()) >= 32 and seen
    assert {mode for _name, mode in seen} == {0o600}, f"key file modes seen while writing it: {seen}"
    assert _mode(settings.data_dir / "secret_key") == 0o600
    assert settings.token_secret() == key  # kept: the same key after a restart


def test_database_and_data_folder_are_private(tmp_path):
    data = tmp_path / "data"
    old = os.umask(0o022)
    try:
        done = _cli(["incidents"], data)  # a fresh start, under the usual umask
    finally:
        os.umask(old)
    assert done.returncode == 0, done.stderr
    assert _mode(data) == 0o700 and _mode(data / "ecowatch.db") == 0o600 and _mode(data / "snapshots") == 0o700

    # A deployment made by an older version: everything readable by all; the next command tightens it.
    data.chmod(0o755)
    (data / "ecowatch.db").chmod(0o644)
    (data / "ecowatch.db-wal").write_bytes(b"")
    (data / "ecowatch.db-wal").chmod(0o644)
    assert _cli(["incidents"], data).returncode == 0
    assert _mode(data) == 0o700 and _mode(data / "ecowatch.db") == 0o600
    assert not (data / "ecowatch.db-wal").exists() or _mode(data / "ecowatch.db-wal") == 0o600
