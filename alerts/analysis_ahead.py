"""The detection pass's analysis, in this process or one group ahead in a forked worker.

Analysis is pure Python (jieba, the classifiers): threads cannot overlap it with the pass's store
and grouping work, a second process can. ``ecowatch process`` runs a pass on its own, so it
analyses the next group in a worker forked from itself (the analyser inherited, nothing loaded
again) while the current group's transaction runs: on two cores the pass then costs about the
larger of the two instead of their sum (bench/pipeline.py). A long-running server does not fork
(its threads may hold locks a child would inherit): its passes analyse in process, one group at a
time, as before. Either way each post's analysis is the same function of the post alone.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Callable, Sequence
from multiprocessing.pool import Pool
from types import TracebackType

from alerts.grouping import MAX_KEYWORDS
from alerts.rules import concerns_incidents
from core.models import Analysis, RawPost
from nlp.analyzer import Analyzer

log = logging.getLogger(__name__)

# A post's analysis and event words, or the error its analysis raised as text (one bad post must
# not stop the group; text because it crosses from the worker).
Analysed = tuple[Analysis, list[str]] | str

_INHERITED: Analyzer | None = None  # what a forked worker analyses with


def analyse(analyzer: Analyzer, post: RawPost) -> Analysed:
    """A post's analysis and event words, or the error text its analysis raised."""
    try:
        analysis, tokens = analyzer.analyze_with_tokens(post.full_text)
        words = (analyzer.salience.event_words(tokens, MAX_KEYWORDS, analysis.signals)
                 if concerns_incidents(analysis) else [])
    except Exception as exc:
        log.exception("analysis failed for post %s", post.id)
        return f"{type(exc).__name__}: {exc}"
    return analysis, words


def _analyse_in_worker(posts: list[RawPost]) -> list[Analysed]:
    assert _INHERITED is not None, "the worker is forked after the analyser is set"
    return [analyse(_INHERITED, post) for post in posts]


class Analyst:
    """Analyses groups of posts: :meth:`submit` starts a group and returns what gives its results.
    ``ahead``: in one forked worker, so the caller works meanwhile; else when the results are
    asked for, in this process. A context manager: the worker ends with the block."""

    def __init__(self, analyzer: Analyzer, ahead: bool = False) -> None:
        global _INHERITED
        self.analyzer = analyzer
        self._pool: Pool | None = None
        if ahead:
            _INHERITED = analyzer
            self._pool = multiprocessing.get_context("fork").Pool(1)

    def submit(self, posts: Sequence[RawPost]) -> Callable[[], list[Analysed]]:
        """Start analysing ``posts``; call what is returned for their results, in order."""
        if self._pool is None:
            return lambda: [analyse(self.analyzer, post) for post in posts]
        return self._pool.apply_async(_analyse_in_worker, (list(posts),)).get

    def __enter__(self) -> Analyst:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
