"""Start-up of every command (issue 17: ``process`` took 7-10 s before its first post): jieba's
dictionary is read from its cache file in one go, and a database already at the newest schema is
not handed to Alembic. Both must give what the slow way gave."""

from __future__ import annotations

import marshal
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import jieba
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from nlp.segment import Segmenter, cache_dir
from storage.migrations import _heads, _stored_revisions, alembic_config, upgrade_to_head

TEXT = "鱼嘴镇那个化工厂着火了！黑烟好大，整条街都是刺鼻的味道"


@pytest.fixture
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A cache home of the test's own; ``cache_dir`` is worked out once a process, so it is
    forgotten before and after."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home-cache"))
    cache_dir.cache_clear()
    yield tmp_path / "home-cache" / "ecowatch"
    cache_dir.cache_clear()


def test_dictionary_from_the_cache_is_jiebas_own(private_cache: Path) -> None:
    tmp_path = private_cache
    built = Segmenter(["鱼嘴镇"])  # no cache yet: jieba builds the dictionary and writes the cache
    assert (tmp_path / "jieba.cache").is_file()
    cached = Segmenter(["鱼嘴镇"])  # read back in one go
    assert cached.tokenizer.total == built.tokenizer.total
    assert cached.tokenizer.FREQ == built.tokenizer.FREQ
    assert cached.cut(TEXT) == built.cut(TEXT) and "鱼嘴镇" in cached.cut(TEXT)
    reference = jieba.Tokenizer()
    reference.tmp_dir = str(tmp_path)
    reference.initialize()  # jieba's own reading of the same cache
    reference.add_word("鱼嘴镇", freq=2000)
    assert reference.FREQ == cached.tokenizer.FREQ

    (tmp_path / "jieba.cache").write_bytes(b"\x00broken")
    rebuilt = Segmenter(["鱼嘴镇"])  # a broken cache: jieba's own way, which rebuilds it
    assert rebuilt.cut(TEXT) == built.cut(TEXT)


def test_the_dictionary_cache_is_private(private_cache: Path, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """jieba's own cache is ``jieba.cache`` in the shared temporary folder, where any local user can
    put a dictionary of their own first: it is neither read nor written there."""
    shared = tmp_path / "shared-tmp"
    shared.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(shared))
    planted = {"鱼嘴镇那个化工厂着火了": 10**9, "鱼": 1}  # a dictionary that would glue the text together
    poisoned = marshal.dumps((planted, 10**9 + 1))
    (shared / "jieba.cache").write_bytes(poisoned)
    segmenter = Segmenter(["鱼嘴镇"])
    assert "鱼嘴镇那个化工厂着火了" not in segmenter.cut(TEXT) and "鱼嘴镇" in segmenter.cut(TEXT)
    assert (private_cache / "jieba.cache").is_file()
    assert private_cache.stat().st_mode & 0o777 == 0o700
    assert (shared / "jieba.cache").read_bytes() == poisoned

    # A cache folder others can write is not trusted: a private folder of the process's own is used.
    cache_dir.cache_clear()
    private_cache.chmod(0o777)
    (private_cache / "jieba.cache").write_bytes(poisoned)
    elsewhere = cache_dir()
    assert elsewhere != private_cache and elsewhere.stat().st_mode & 0o777 == 0o700
    assert Segmenter(["鱼嘴镇"]).cut(TEXT) == segmenter.cut(TEXT)


def test_jieba_is_imported_without_pkg_resources() -> None:
    """setuptools' pkg_resources (~0.13 CPU s) is not loaded by the analyser; jieba still finds its
    dictionary (it opens it by path)."""
    code = ("import sys, tempfile; from nlp.segment import Segmenter; "
            "s = Segmenter(); print('pkg_resources' in sys.modules, s.cut('鱼嘴镇着火了'))")
    env = {**os.environ, "XDG_CACHE_HOME": tempfile.mkdtemp()}  # no cache: the dictionary file is read
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=Path(__file__).resolve().parents[1], check=True)
    assert done.stdout.startswith("False"), done.stdout + done.stderr
    assert "着火" in done.stdout


def test_heads_are_alembics(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'h.db'}")
    assert _heads() == set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())


def test_a_database_behind_is_still_upgraded(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    command.upgrade(alembic_config(engine), "0016_mailbrief")
    assert _stored_revisions(engine) == {"0016_mailbrief"}
    upgrade_to_head(engine)
    assert _stored_revisions(engine) == _heads()
    upgrade_to_head(engine)  # at the head: nothing to do, nothing changed
    assert _stored_revisions(engine) == _heads()
