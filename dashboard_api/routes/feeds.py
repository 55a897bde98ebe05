"""Feeds for other systems (the city platform, 网信办): the live feed's console lines (new
incidents, grades raised, steps overdue, state changes) as JSON or Atom, paged by a cursor.

Read with ``Authorization: Bearer <ECOWATCH_FEED_TOKEN>`` (every unit; a key of its own, apart
from the inbound key, so the system that may push items down is not thereby able to read
everything, and the other way round) or with a console login (its own scope: a unit user reads
its own unit's lines). Each document is an ``ecowatch.event.v1`` (alerts.event_documents,
docs/exports.md); ``after`` is the cursor: the id of the last event the reader has.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import xml.etree.ElementTree as ET
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from alerts.event_documents import event_document
from core.display_text import displayable
from core.settings import load_settings
from core.timeutil import to_local, utcnow
from dashboard_api.deps import StoreDep, aware_time, get_principal, oauth2_scheme, of_roles
from dashboard_api.errors import ERRORS
from dashboard_api.feed import settled_after

router = APIRouter(prefix="/api/feeds", tags=["feeds"])
FEED_SCHEMA = "ecowatch.feed.v1"
ATOM = "http://www.w3.org/2005/Atom"
READERS = ("duty", "unit", "leader", "admin")


class FeedPublic(BaseModel):
    """A page of the feed: documents oldest first, and the cursor to ask for the next page with."""

    schema_version: str = Field(default=FEED_SCHEMA, examples=[FEED_SCHEMA])
    events: list[dict[str, Any]] = Field(description="ecowatch.event.v1 documents (docs/exports.md), oldest first")
    next_after: int = Field(description="pass as ?after= to get the events that follow (the last id here, or the "
                                        "given one when the page is empty)")
    has_more: bool = Field(description="true when more events wait: ask again at once with next_after")


def feed_scope(request: Request, store: StoreDep, token: Annotated[str | None, Depends(oauth2_scheme)]) -> str | None:
    """The unit the reader may see (None: every unit): the feed key sees all; a console login is
    held to its own scope; anything else is 401 (as for every endpoint)."""
    key = getattr(request.app.state, "feed_token", None) or load_settings().feed_token
    if key and token and hmac.compare_digest(token.encode(), key.encode()):
        return None
    return of_roles(get_principal(request, store, token), READERS).unit_scope


Scope = Annotated[str | None, Depends(feed_scope)]
After = Annotated[int, Query(ge=0, le=2**53, description="cursor: only events with a larger id")]
Since = Annotated[dt.datetime | None, Query(description="only events at or after this time (with time zone)",
                                            examples=["2026-12-01T00:00:00+08:00"])]
Limit = Annotated[int, Query(ge=1, le=500)]


async def _page(store: StoreDep, scope: str | None, after: int, since: dt.datetime | None,
                limit: int) -> FeedPublic:
    since = aware_time(since, "since")

    def read() -> FeedPublic:
        with store.read() as tx:  # only settled lines: the reader resumes from next_after (dashboard_api.feed)
            found, _seen = settled_after(tx, after, unit_code=scope, limit=limit + 1, since=since)
        docs = [event_document(e) for e in found[:limit]]
        return FeedPublic(events=docs, next_after=docs[-1]["id"] if docs else after, has_more=len(found) > limit)

    return await asyncio.to_thread(read)


@router.get("/incidents.json", response_model=FeedPublic, responses=ERRORS)
async def feed_json(store: StoreDep, scope: Scope, after: After = 0, since: Since = None,
                    limit: Limit = 100) -> FeedPublic:
    """New incidents and their changes after the cursor ``after``, oldest first, at most
    ``limit``; keep ``next_after`` and ask again (at once while ``has_more``)."""
    return await _page(store, scope, after, since, limit)


@router.get("/incidents.atom", response_class=Response,
            responses=ERRORS | {200: {"description": "an Atom 1.0 feed (RFC 4287); a rel=next link while more wait",
                                      "content": {"application/atom+xml": {}}}})
async def feed_atom(request: Request, store: StoreDep, scope: Scope, after: After = 0, since: Since = None,
                    limit: Limit = 100) -> Response:
    """The same page as Atom 1.0: one entry per event, its ``ecowatch.event.v1`` fields as text."""
    page = await _page(store, scope, after, since, limit)
    next_url = str(request.url.include_query_params(after=page.next_after)) if page.has_more else None
    return Response(atom(page, str(request.url), next_url), media_type="application/atom+xml; charset=utf-8",
                    headers={"Cache-Control": "no-store"})


def _text(parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    element.text = displayable(text)  # ElementTree escapes markup; XML cannot hold control characters at all
    return element


def atom(page: FeedPublic, self_url: str, next_url: str | None) -> bytes:
    """The page as an Atom document (crawled titles are text nodes: escaped, never markup)."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    _text(feed, "id", "urn:ecowatch:feed:incidents")
    _text(feed, "title", "ecowatch 舆情事件动态")
    newest = page.events[-1]["at"] if page.events else to_local(utcnow()).isoformat()
    _text(feed, "updated", newest)
    _text(ET.SubElement(feed, f"{{{ATOM}}}author"), "name", "ecowatch")
    ET.SubElement(feed, f"{{{ATOM}}}link", {"rel": "self", "href": self_url})
    if next_url:
        ET.SubElement(feed, f"{{{ATOM}}}link", {"rel": "next", "href": next_url})
    for doc in page.events:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        _text(entry, "id", f"urn:ecowatch:event:{doc['id']}")
        _text(entry, "title", f"{doc['label']} #{doc['incident_id'] or '-'} {doc['title'] or ''}".strip())
        _text(entry, "updated", doc["at"])
        ET.SubElement(entry, f"{{{ATOM}}}category", {"term": doc["kind"], "label": doc["label"]})
        lines = [f"{key}: {value}" for key, value in doc.items() if value is not None]
        _text(entry, "content", "\n".join(lines), type="text")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
