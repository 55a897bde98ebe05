"""One search over posts, as the console's search, its export and ``ecowatch export posts`` all
run it: the query segmented as the index is, the SQLite index caught up first (posts stored since
the last search join it), then the backend asked."""

from __future__ import annotations

from dataclasses import dataclass

from indexing.search_index import SearchIndexer
from storage.search import SearchFilters, SearchResult
from storage.search_backends import BackendName, SearchBackend
from storage.sql import SqlStore


@dataclass(slots=True)
class Found:
    """What one search found: the query's words, the matches and the backend that answered."""

    tokens: list[str]
    result: SearchResult
    unindexed: int
    backend: BackendName


def find_posts(store: SqlStore, indexer: SearchIndexer, backend: SearchBackend, q: str, filters: SearchFilters, *,
               limit: int, offset: int, sort: str) -> Found:
    """Posts containing every word of ``q`` under ``filters`` (raises
    ``storage.search_backends.SearchUnavailable`` when Elasticsearch does not answer)."""
    if backend.name == "sqlite":
        indexer.catch_up(store)
    tokens = indexer.query_tokens(q)
    result = backend.search(indexer.query_terms(tokens), filters, limit=limit, offset=offset, sort=sort)
    return Found(tokens, result, backend.unindexed(), backend.name)
