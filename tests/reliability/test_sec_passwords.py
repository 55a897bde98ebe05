"""The password policy (core.passwords): at least 12 characters, not blank, not a common password
(also with digits and punctuation around it), not containing the user name; the same through the
API's admin routes and the CLI, and a refused password changes nothing."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest

from tests.api_seed import login, seed_users

REFUSED = {"password": "at least 12", "12345678": "at least 12", " " * 8: "at least 12", " " * 16: "blank",
           "qwerty123456": "too common", "Password2026!": "too common", "iloveyou-1234": "too common",
           "zhangsan-at-work": "user name", "aaaaaaaaaaaaaaaa": "too few different"}


@pytest.mark.parametrize("password", REFUSED)
def test_admin_cannot_set_a_weak_password(store, api_server, password):
    seed_users(store)
    admin = login(api_server, "admin1")
    new = {"name": "zhangsan", "role": "duty", "password": password}
    created = httpx.post(f"{api_server}/api/users", json=new, headers=admin)
    assert created.status_code == 422 and REFUSED[password] in str(created.json()["detail"])
    reset = httpx.patch(f"{api_server}/api/users/duty1", json={"password": password.replace("zhangsan", "duty1")},
                        headers=admin)
    assert reset.status_code == 422
    with store.read() as tx:
        assert tx.get_user("zhangsan") is None and tx.get_user("duty1").token_version == 0  # nothing changed
    assert httpx.post(f"{api_server}/api/users", json={**new, "password": "石马河边的老槐树今年还开花"},
                      headers=admin).status_code == 201


def _cli(args: list[str], data_dir, stdin: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECOWATCH_")}
    return subprocess.run([sys.executable, "-m", "ecowatch.cli", "user", *args], input=stdin, capture_output=True,
                          text=True, timeout=120, env={**env, "ECOWATCH_DATA_DIR": str(data_dir)})


def test_cli_applies_the_same_policy_and_manages_sessions(tmp_path):
    data = tmp_path / "data"
    for weak in ("password", "12345678", " " * 8, "zhangsan2026!x"):
        done = _cli(["add", "zhangsan", "--role", "duty"], data, weak + "\n")
        assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert _cli(["list"], data, "").stdout == ""  # nobody was added
    assert _cli(["add", "zhangsan", "--role", "duty"], data, "a-long-passphrase\n").returncode == 0
    assert _cli(["password", "zhangsan"], data, "qwerty123456\n").returncode == 2
    assert _cli(["password", "zhangsan"], data, "another-long-passphrase\n").returncode == 0
    assert _cli(["password", "nobody"], data, "another-long-passphrase\n").returncode == 1
    assert _cli(["disable", "zhangsan"], data, "").returncode == 0
    assert '"active": false' in _cli(["list"], data, "").stdout
    assert _cli(["enable", "zhangsan"], data, "").returncode == 0

    from storage.sql import open_store

    store = open_store(f"sqlite:///{data / 'ecowatch.db'}")
    with store.read() as tx:
        user = tx.get_user("zhangsan")
    store.dispose()
    assert user is not None and user.active and user.token_version == 3  # reset, disable, enable
