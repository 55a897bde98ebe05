"""Deploy files: backup and restore round trips on real SQLite and real PostgreSQL."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from core.models import RawPost
from storage.sql import open_store

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


def test_compose_file_is_valid_yaml_with_the_services():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    assert {"ecowatch", "postgres", "elasticsearch", "rsshub"} <= set(compose["services"])


def _run(script: str, arg: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(DEPLOY / script), str(arg)], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=120, check=False)


def test_sqlite_backup_and_restore_round_trip(tmp_path):
    data = tmp_path / "data"
    store = open_store(f"sqlite:///{data / 'ecowatch.db'}", data / "snapshots")
    with store.begin() as tx:
        tx.add_posts([RawPost(source="s", text=f"石马河第{i}条", url=f"http://x/{i}", raw="<p>原文</p>")
                      for i in range(5)])
    backup = _run("backup.sh", tmp_path / "backups", {"ECOWATCH_DATA_DIR": str(data), "ECOWATCH_DATABASE_URL": ""})
    assert backup.returncode == 0, backup.stderr
    (written,) = list((tmp_path / "backups").iterdir())
    restored = tmp_path / "restored"
    ok = _run("restore.sh", written, {"ECOWATCH_DATA_DIR": str(restored), "ECOWATCH_DATABASE_URL": ""})
    assert ok.returncode == 0, ok.stderr
    again = open_store(f"sqlite:///{restored / 'ecowatch.db'}", restored / "snapshots")
    with again.read() as tx:
        assert tx.count_posts() == 5
    assert len(list((restored / "snapshots").rglob("*.txt"))) == 5
    refused = _run("restore.sh", written, {"ECOWATCH_DATA_DIR": str(restored), "ECOWATCH_DATABASE_URL": ""})
    assert refused.returncode != 0 and "not empty" in refused.stderr


def test_postgres_backup_and_restore_round_trip(tmp_path, pg_url):
    import uuid

    import sqlalchemy as sa

    if not subprocess.run(["which", "pg_dump"], capture_output=True, check=False).stdout:
        pytest.skip("pg_dump not installed")
    admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    names = [f"b_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    with admin.connect() as conn:
        for name in names:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
    base = pg_url.rsplit("/", 1)[0]
    src_url, dst_url = f"{base}/{names[0]}", f"{base}/{names[1]}"
    store = open_store(src_url, tmp_path / "data" / "snapshots")
    with store.begin() as tx:
        tx.add_posts([RawPost(source="s", text=f"油烟第{i}条", url=f"http://y/{i}") for i in range(7)])
    store.dispose()
    env = {"ECOWATCH_DATA_DIR": str(tmp_path / "data"), "ECOWATCH_DATABASE_URL": src_url}
    assert _run("backup.sh", tmp_path / "b", env).returncode == 0
    (written,) = list((tmp_path / "b").iterdir())
    restore = _run("restore.sh", written, {"ECOWATCH_DATA_DIR": str(tmp_path / "r"), "ECOWATCH_DATABASE_URL": dst_url})
    assert restore.returncode == 0, restore.stderr
    again = open_store(dst_url)
    with again.read() as tx:
        assert tx.count_posts() == 7
    again.dispose()
    with admin.connect() as conn:
        for name in names:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
