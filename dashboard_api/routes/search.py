"""Full-text search over posts, with facets and highlighting."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from dashboard_api.deps import ReaderDep, StoreDep, aware_time, scoped_unit
from dashboard_api.errors import ERRORS
from dashboard_api.schemas import SearchHitPublic, SearchPublic
from indexing.find import Found, find_posts
from indexing.search_index import SearchIndexer, highlight
from storage import search
from storage.search_backends import SearchBackend, SearchUnavailable
from storage.sql import SqlStore

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/search", tags=["search"])


UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {"description": "the search backend (Elasticsearch) does not answer; detail says so"}}


@dataclass(slots=True)
class SearchQuery:
    """A search as the request gave it, the unit already held to the user's scope."""

    q: str
    filters: search.SearchFilters
    sort: str


def search_query(
        user: ReaderDep,
        q: Annotated[str, Query(min_length=1, max_length=200, description="words to find (all must match)",
                                examples=["石马河 黑臭"])],
        unit_code: Annotated[str | None, Query(max_length=20, description="facet: the post's unit")] = None,
        topic: Annotated[str | None, Query(max_length=20, description="facet: the post's main topic")] = None,
        source: Annotated[str | None, Query(max_length=200, description="facet: the source name")] = None,
        polarity: Annotated[Literal["neg", "neu", "pos"] | None, Query(description="facet: sentiment")] = None,
        since: Annotated[dt.datetime | None, Query(description="published at or after (with time zone)")] = None,
        until: Annotated[dt.datetime | None, Query(description="published before (with time zone)")] = None,
        sort: Annotated[Literal["relevance", "newest"], Query()] = "relevance") -> SearchQuery:
    """The search parameters of a request: the search and its export (routes.exports) take the
    same ones, parsed and scoped here once (a unit user asking for another unit is 403)."""
    filters = search.SearchFilters(unit_code=scoped_unit(user, unit_code), topic=topic, source=source,
                                   polarity=polarity, since=aware_time(since, "since"),
                                   until=aware_time(until, "until"))
    return SearchQuery(q, filters, sort)


SearchQueryDep = Annotated[SearchQuery, Depends(search_query)]


async def run_search(request: Request, store: SqlStore, query: SearchQuery, limit: int, offset: int) -> Found:
    """Run ``query`` on the app's search backend (off the event loop); Elasticsearch not answering
    is a 503 saying so (no silent fallback)."""
    indexer: SearchIndexer = request.app.state.search_indexer
    backend: SearchBackend = request.app.state.search_backend

    def run() -> Found:
        return find_posts(store, indexer, backend, query.q, query.filters, limit=limit, offset=offset,
                          sort=query.sort)

    try:
        return await asyncio.to_thread(run)
    except SearchUnavailable as exc:
        log.warning("search unavailable: %s", str(exc)[:300])  # the cluster's address stays in the log
        raise HTTPException(503, "search is unavailable: Elasticsearch does not answer; posts are still "
                                 "collected and processed, and the search copy catches up when it is back") from exc


@router.get("", response_model=SearchPublic, responses=ERRORS | UNAVAILABLE)
async def search_posts(
        request: Request, store: StoreDep, query: SearchQueryDep,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
        offset: Annotated[int, Query(ge=0, le=10_000)] = 0) -> SearchPublic:
    """Posts containing every word of ``q`` (Chinese is segmented with jieba, as the index is).

    Facet counts cover every match. A unit user searches only posts placed in its own unit.
    Served by Elasticsearch when ``ECOWATCH_ES_URL`` is set, else by SQLite FTS5; ``backend`` says
    which. Elasticsearch not answering is a 503 saying so (no silent fallback). By relevance, SQLite
    ranks the newest 10,000 matches when more match (``ranking``: relevance_of_newest; ``ranked``)."""
    found = await run_search(request, store, query, limit, offset)
    hits = []
    for h in found.result.hits:
        snippet, spans = highlight(h.text, found.tokens)
        title, title_spans = highlight(h.title, found.tokens, width=10_000)
        hits.append(SearchHitPublic(post_id=h.post_id, incident_id=h.incident_id, source=h.source, url=h.url,
                                    title=title, title_highlights=title_spans, snippet=snippet,
                                    highlights=spans, published_at=h.published_at, unit_code=h.unit_code,
                                    topic=h.topic, polarity=h.polarity))
    return SearchPublic(query=query.q, tokens=found.tokens, total=found.result.total, unindexed=found.unindexed,
                        hits=hits, facets=found.result.facets, backend=found.backend,
                        ranking=found.result.ranking, ranked=found.result.ranked)
