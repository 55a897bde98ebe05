"""Start-up of every command (issue 17: ``process`` took 7-10 s before its first post): jieba's
dictionary is read from its cache file in one go, and a database already at the newest schema is
not handed to Alembic. Both must give what the slow way gave."""

from __future__ import annotations

import tempfile
from pathlib import Path

import jieba
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from nlp.segment import Segmenter
from storage.migrations import _heads, _stored_revisions, alembic_config, upgrade_to_head

TEXT = "鱼嘴镇那个化工厂着火了！黑烟好大，整条街都是刺鼻的味道"


def test_dictionary_from_the_cache_is_jiebas_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    built = Segmenter(["鱼嘴镇"])  # no cache yet: jieba builds the dictionary and writes the cache
    assert (tmp_path / "jieba.cache").is_file()
    cached = Segmenter(["鱼嘴镇"])  # read back in one go
    assert cached.tokenizer.total == built.tokenizer.total
    assert cached.tokenizer.FREQ == built.tokenizer.FREQ
    assert cached.cut(TEXT) == built.cut(TEXT) and "鱼嘴镇" in cached.cut(TEXT)
    reference = jieba.Tokenizer()
    reference.initialize()  # jieba's own reading of the same cache
    reference.add_word("鱼嘴镇", freq=2000)
    assert reference.FREQ == cached.tokenizer.FREQ

    (tmp_path / "jieba.cache").write_bytes(b"\x00broken")
    rebuilt = Segmenter(["鱼嘴镇"])  # a broken cache: jieba's own way, which rebuilds it
    assert rebuilt.cut(TEXT) == built.cut(TEXT)


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
