"""Elasticsearch: the searchable copy of posts and their analyses, for offices past one machine.

The SQL store stays the record (posts, workflow); Elasticsearch holds a copy for full-text search
and aggregations at scale. Chinese text is indexed as jieba search-mode tokens joined by spaces
in ``tokens`` (analysed on whitespace), because the IK/smartcn plugins may be absent from a
cluster, plus the character bigrams of the text in ``grams``; a query word matches a post that has
it as a word OR contains it literally (the phrase of its bigrams) -- the same rule as the SQLite
full-text index (``storage.search``), so both stores answer a query alike. The caller tokenises.
Documents are written with the post id as ``_id``, so replaying a bulk after a failure never
doubles a post. Indices are monthly
(``<prefix>-YYYY.MM`` by publish or fetch time) under one index template.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError, helpers

from core.errors import NotConfigured, StoreError
from core.settings import Settings

log = logging.getLogger(__name__)

FACETS = ("unit_code", "topic", "source", "polarity")

MAPPINGS: dict[str, Any] = {
    "dynamic": False,
    "properties": {
        "post_id": {"type": "long"},
        "source": {"type": "keyword"},
        "url": {"type": "keyword", "index": False},
        "title": {"type": "text", "analyzer": "ws"},
        "text": {"type": "text", "analyzer": "ws"},
        "tokens": {"type": "text", "analyzer": "ws"},  # jieba search-mode tokens of title + text
        "grams": {"type": "text", "analyzer": "ws"},  # character bigrams of each run of Chinese, in order
        "author": {"type": "keyword"},
        "published_at": {"type": "date"},
        "fetched_at": {"type": "date"},
        "day": {"type": "date"},  # published_at, else fetched_at: what date facets count
        "relevant": {"type": "boolean"},
        "unit_code": {"type": "keyword"},  # the current unit: the incident's once the post is in one
        "unit": {"type": "keyword"},
        "incident_id": {"type": "long"},
        "topic": {"type": "keyword"},
        "topics": {"type": "keyword"},
        "polarity": {"type": "keyword"},
        "sentiment": {"type": "float"},
        "reposts": {"type": "long"},
        "comments": {"type": "long"},
        "likes": {"type": "long"},
    },
}


@dataclass(slots=True)
class SearchHit:
    """One matching post, with highlighted fragments (``<em>`` around matched tokens)."""

    post_id: int
    score: float
    highlight: list[str] = field(default_factory=list)


@dataclass(slots=True)
class SearchResult:
    """Hits (one page), the total, and facet counts per field."""

    total: int
    hits: list[SearchHit]
    facets: dict[str, dict[str, int]]


class EsPostIndex:
    """Index, search and aggregate posts in Elasticsearch (official client)."""

    def __init__(self, client: Elasticsearch, prefix: str = "ecowatch-posts") -> None:
        self.client = client
        self.prefix = prefix

    @classmethod
    def from_settings(cls, settings: Settings, **client_options: Any) -> EsPostIndex:
        """Built from ``ECOWATCH_ES_URL``; raises NotConfigured when it is unset."""
        if not settings.es_url:
            raise NotConfigured("ECOWATCH_ES_URL is not set: Elasticsearch is not used")
        options = {"request_timeout": 30, "max_retries": 3, "retry_on_timeout": True} | client_options
        return cls(Elasticsearch(settings.es_url, **options))

    @property
    def pattern(self) -> str:
        """Pattern matching every monthly index."""
        return f"{self.prefix}-*"

    def index_for(self, when: dt.datetime | None) -> str:
        """The monthly index a document of this date goes to."""
        when = when or dt.datetime.now(dt.UTC)
        return f"{self.prefix}-{when.astimezone(dt.UTC):%Y.%m}"

    def ensure_template(self) -> None:
        """Install (or update) the index template; idempotent."""
        try:
            self.client.indices.put_index_template(
                name=self.prefix, index_patterns=[self.pattern],
                template={"settings": {"number_of_shards": 1, "analysis": {
                    "analyzer": {"ws": {"type": "custom", "tokenizer": "whitespace", "filter": ["lowercase"]}}}},
                    "mappings": MAPPINGS})
        except (ApiError, TransportError) as exc:
            raise StoreError(f"Elasticsearch: cannot install the index template: {exc}") from exc

    def bulk_index(self, docs: Sequence[dict[str, Any]], *, refresh: bool = False, chunk_size: int = 500) -> list[int]:
        """Index documents (each with ``post_id``); returns the post ids stored.

        Rejections for back-pressure (HTTP 429) are retried with exponential backoff; an
        unreachable cluster raises StoreError so the caller keeps the batch for later.
        """
        actions = ({"_index": self.index_for(d.get("published_at") or d.get("fetched_at")), "_id": d["post_id"],
                    "_source": _jsonable(d)} for d in docs)
        done: list[int] = []
        try:
            for ok, info in helpers.streaming_bulk(self.client, actions, chunk_size=chunk_size, max_retries=5,
                                                   initial_backoff=1, max_backoff=30, raise_on_error=False,
                                                   raise_on_exception=True):
                item = info.get("index", {})
                if ok:
                    done.append(int(item["_id"]))
                else:
                    log.warning("Elasticsearch refused post %s: %s", item.get("_id"), item.get("error"))
        except (ApiError, TransportError, helpers.BulkIndexError) as exc:
            raise StoreError(f"Elasticsearch bulk failed after {len(done)} documents: {exc}") from exc
        if refresh:
            self.refresh()
        return done

    def refresh(self) -> None:
        """Make what was indexed visible to search now."""
        self.client.indices.refresh(index=self.pattern, allow_no_indices=True)

    def count(self) -> int:
        """How many posts are indexed."""
        try:
            return int(self.client.count(index=self.pattern, allow_no_indices=True)["count"])
        except (ApiError, TransportError) as exc:
            raise StoreError(f"Elasticsearch count failed: {exc}") from exc

    def search(self, terms: Iterable[str | tuple[str, Sequence[str]]], *, filters: dict[str, Any] | None = None,
               since: dt.datetime | None = None, until: dt.datetime | None = None,
               size: int = 20, offset: int = 0, facets: Sequence[str] = FACETS,
               sort: str = "newest") -> SearchResult:
        """Posts matching every query term, with facet counts and highlights.

        A term is a word, or (word, its bigrams): then a post containing the word literally matches
        too, as in the SQLite index. ``sort`` "newest" orders by publish (else fetch) time then post
        id, both descending, exactly as the SQLite backend does; "relevance" by score, then post id.
        Filters (the unit scoping among them) are part of the query, never applied to its answer.
        Facets count a missing value as "" and days in Asia/Shanghai, as the SQLite backend does."""
        must: list[dict[str, Any]] = []
        for term in terms:
            word, grams = (term, ()) if isinstance(term, str) else term
            if not word:
                continue
            either: list[dict[str, Any]] = [{"match": {"tokens": {"query": word, "operator": "and"}}}]
            if grams:
                either.append({"match_phrase": {"grams": " ".join(grams)}})
            must.append({"bool": {"should": either, "minimum_should_match": 1}})
        flt: list[dict[str, Any]] = [{"term": {k: v}} for k, v in (filters or {}).items() if v is not None]
        if since or until:
            rng: dict[str, str] = {}
            if since:
                rng["gte"] = since.astimezone(dt.UTC).isoformat()
            if until:
                rng["lt"] = until.astimezone(dt.UTC).isoformat()
            flt.append({"range": {"day": rng}})
        query = {"bool": {"must": must or [{"match_all": {}}], "filter": flt}}
        aggs: dict[str, Any] = {f: {"terms": {"field": f, "size": 50, "missing": ""}} for f in facets}
        aggs["day"] = {"date_histogram": {"field": "day", "calendar_interval": "day", "min_doc_count": 1,
                                          "time_zone": "+08:00"}}
        order = [{"_score": "desc"}, {"post_id": "desc"}] if sort == "relevance" else \
            [{"day": "desc"}, {"post_id": "desc"}]
        try:
            resp = self.client.search(index=self.pattern, query=query, aggs=aggs, size=size, from_=offset,
                                      sort=order, track_total_hits=True,
                                      highlight={"fields": {"tokens": {}}}, allow_no_indices=True)
        except (ApiError, TransportError) as exc:
            raise StoreError(f"Elasticsearch search failed: {exc}") from exc
        hits = [SearchHit(int(h["_source"]["post_id"]), float(h.get("_score") or 0.0),
                          list(h.get("highlight", {}).get("tokens", []))) for h in resp["hits"]["hits"]]
        out: dict[str, dict[str, int]] = {}
        for name, agg in resp.get("aggregations", {}).items():
            out[name] = {(b.get("key_as_string") or str(b["key"]))[:10] if name == "day" else str(b["key"]):
                         int(b["doc_count"]) for b in agg["buckets"]}
        return SearchResult(int(resp["hits"]["total"]["value"]), hits, out)


def _jsonable(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.astimezone(dt.UTC).isoformat() if isinstance(v, dt.datetime) else v) for k, v in doc.items()}
