"""Worker processes that analyse posts for ``ecowatch process`` while it writes.

Analysis is about half of a processing pass (bench/pipeline.py) and needs nothing from the
store, so ``ecowatch process`` hands each group's posts to these workers as soon as the batch is
read (``alerts.detection.process_pending``'s ``ahead``) and writes group after group while they
analyse the next. The workers are *spawned*: each is a fresh interpreter that builds its own
analyser and never opens the database, so no connection, lock or open file of the parent is
copied into them (a forked worker copies the parent's SQLite connections; SQLite forbids using
them across fork, and freeing them in the child can roll back a transaction the parent holds).
Everything the store sees (claims, links, analyses, commits) is still done by the one parent
process, in the same transactions as without workers; a worker that dies loses only analyses,
which the parent then does not write, so its posts stay pending for the next pass.
"""

from __future__ import annotations

import multiprocessing
import pickle
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.pool import Pool
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alerts.detection import AnalyseAhead, Analysed
    from core.models import RawPost
    from nlp.analyzer import Analyzer

_CHUNK = 50  # posts per task: small enough that every worker takes part in the first group
_analyzer: Analyzer | None = None  # each worker's own, built once by _start


def build_analyzer(jurisdiction: str, models_dir: Path) -> Analyzer:
    """The analyser of a deployment: its jurisdiction pack and its live models (the bundled ones
    until ``ecowatch retrain --promote`` made others live). The parent and every worker build it
    here, so both analyse with the same models."""
    from core.jurisdiction import load_jurisdiction
    from nlp.analyzer import Analyzer
    from nlp.classifiers import ModelStore

    return Analyzer(load_jurisdiction(jurisdiction), ModelStore(models_dir).live())


def _start(jurisdiction: str, models_dir: str) -> None:
    global _analyzer
    _analyzer = build_analyzer(jurisdiction, Path(models_dir))


def _portable(result: Analysed) -> Analysed:
    """The result as it can travel back: an exception that does not survive pickling is replaced
    by one carrying its type's name and message (what the parent records as the post's error)."""
    if isinstance(result, Exception):
        try:
            pickle.loads(pickle.dumps(result))
        except Exception:
            return RuntimeError(f"{type(result).__name__}: {result}")
    return result


def _analyse_chunk(posts: list[RawPost]) -> list[Analysed]:
    from alerts.detection import analyse_posts

    assert _analyzer is not None, "worker not started"
    return [_portable(r) for r in analyse_posts(_analyzer, posts)]


@contextmanager
def analysis_workers(jurisdiction: str, models_dir: Path, workers: int) -> Iterator[AnalyseAhead]:
    """``workers`` spawned analysing processes, as an ``ahead`` for ``process_pending``; they are
    stopped when the block ends (ended at once if it raised)."""
    pool: Pool = multiprocessing.get_context("spawn").Pool(workers, initializer=_start,
                                                           initargs=(jurisdiction, str(models_dir)))
    try:
        yield lambda posts: _submit(pool, posts)
    finally:
        pool.terminate()
        pool.join()


def _submit(pool: Pool, posts: list[RawPost]) -> Callable[[], list[Analysed]]:
    tasks = [pool.apply_async(_analyse_chunk, (posts[i:i + _CHUNK],)) for i in range(0, len(posts), _CHUNK)]
    return lambda: [result for task in tasks for result in task.get()]
