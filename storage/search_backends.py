"""The one search interface and its two backends: SQLite FTS5 (``storage.search``) and the
Elasticsearch copy (``storage.es_posts``), chosen by whether ``ECOWATCH_ES_URL`` is set.

Both take the same terms and filters and give the same :class:`storage.search.SearchResult`: the
hits themselves (text, current unit, incident) are always read from the SQL record, so only which
posts match, their order, the total and the facets come from the backend. The comparable order
is ``sort="newest"`` (publish, else fetch, time then post id, descending), identical on both;
"relevance" ranks by each engine's own score (bm25 on both, but over different statistics):
Elasticsearch every match, SQLite every match up to ``storage.search.RANKED_MATCHES`` and the
newest that many past it. Each answer says which (``ranking``, ``ranked``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

from core.errors import StoreError
from core.timeutil import utcnow
from storage.es_posts import EsPostIndex
from storage.search import FACETS, SearchFilters, SearchResult, no_matches
from storage.search_sync import lag
from storage.sql import SqlStore

Terms = Sequence[tuple[str, Sequence[str]]]
BackendName = Literal["elasticsearch", "sqlite"]


class SearchUnavailable(StoreError):
    """The search backend cannot answer now (Elasticsearch unreachable); the record is unaffected."""


class SearchBackend(Protocol):
    """What /api/search asks of a backend."""

    name: BackendName

    def search(self, terms: Terms, filters: SearchFilters, *, limit: int, offset: int, sort: str) -> SearchResult:
        """A page of matches with the total and facet counts over every match."""

    def unindexed(self) -> int:
        """Posts stored (SQLite) or analysed (Elasticsearch) that the backend cannot find yet."""


class SqliteSearch:
    """FTS5 on the SQL store (substring matching on PostgreSQL)."""

    name: BackendName = "sqlite"

    def __init__(self, store: SqlStore) -> None:
        self.store = store

    def search(self, terms: Terms, filters: SearchFilters, *, limit: int, offset: int, sort: str) -> SearchResult:
        """See :meth:`storage.search.SearchTx.search_posts`."""
        with self.store.read() as tx:
            return tx.search_posts(terms, filters, limit=limit, offset=offset, sort=sort)

    def unindexed(self) -> int:
        """Stored posts the FTS5 index does not cover yet."""
        with self.store.read() as tx:
            return tx.count_unindexed()


class ElasticsearchSearch:
    """The Elasticsearch copy, kept by ``storage.search_sync``. A cluster that does not answer
    raises :class:`SearchUnavailable` (the API answers 503): falling back to FTS5 would hide the
    outage and, at the sizes Elasticsearch is configured for, be too slow to be an answer."""

    name: BackendName = "elasticsearch"

    def __init__(self, store: SqlStore, index: EsPostIndex) -> None:
        self.store = store
        self.index = index

    def search(self, terms: Terms, filters: SearchFilters, *, limit: int, offset: int, sort: str) -> SearchResult:
        """Matching, order, total and facets from the cluster (unit scoping is a query filter);
        the page's hits from the record."""
        keyed = {"unit_code": filters.unit_code, "topic": filters.topic, "source": filters.source,
                 "polarity": filters.polarity}
        words = [(w, list(g)) for w, g in terms if w.strip() and any(ch.isalnum() for ch in w)]
        if not words:  # as on SQLite: nothing to look for finds nothing
            return no_matches(sort)
        try:
            found = self.index.search(words, filters=keyed, since=filters.since, until=filters.until, size=limit,
                                      offset=offset, sort=sort)
        except StoreError as exc:
            raise SearchUnavailable(str(exc)) from exc
        with self.store.read() as tx:
            hits = tx.search_hits([h.post_id for h in found.hits])
        return SearchResult(found.total, hits, {f: found.facets.get(f, {}) for f in FACETS},
                            ranking="relevance" if sort == "relevance" else "newest", ranked=found.total)

    def unindexed(self) -> int:
        """Analysed posts not yet acknowledged by the cluster."""
        with self.store.read() as tx:
            return lag(tx.conn, utcnow()).posts


def backend_for(store: SqlStore, index: EsPostIndex | None) -> SearchBackend:
    """Elasticsearch when an index is configured, else the SQL store's own full-text search."""
    return SqliteSearch(store) if index is None else ElasticsearchSearch(store, index)
