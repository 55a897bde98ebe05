"""The records a briefing is computed from, as read from the store (plain data, no I/O)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from core.models import AuditEntry, Incident, PostRole


@dataclass(slots=True, frozen=True)
class PostRecord:
    """A stored post with the analysis fields the briefing counts (``relevant`` None: not analysed)."""

    id: int
    source: str
    title: str
    text: str
    fetched_at: dt.datetime
    url: str | None = None
    author: str | None = None
    published_at: dt.datetime | None = None
    snapshot: str | None = None
    engagement: dict[str, int] = field(default_factory=dict)
    relevant: bool | None = None
    unit: str | None = None
    topic: str | None = None
    polarity: str | None = None
    sentiment: float | None = None
    place: str | None = None
    incident_id: int | None = None
    counted_at: dt.datetime | None = None  # storage.posts.counted_at; None on rows from before it

    @property
    def counts_at(self) -> dt.datetime:
        """When the briefing counts this post: a backfill in its published period, a live post
        when collected (the rule is :func:`storage.posts.counted_at`, stored with the post)."""
        return self.counted_at or self.fetched_at


@dataclass(slots=True, frozen=True)
class Assignment:
    """One (re)assignment of an incident to a unit."""

    unit: str | None
    unit_code: str | None
    at: dt.datetime
    by: str


@dataclass(slots=True)
class IncidentRecord:
    """An incident with its whole audit log and assignment history, oldest first."""

    incident: Incident
    audit: list[AuditEntry] = field(default_factory=list)
    assignments: list[Assignment] = field(default_factory=list)
    post_ids: list[int] = field(default_factory=list)
    roles: dict[int, PostRole] = field(default_factory=dict)  # post id → its role (reports are left out)


@dataclass(slots=True, frozen=True)
class SourceRun:
    """One collection run of a source (its health history)."""

    source: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    ok: bool
    items: int
    new_items: int
    error: str | None = None


@dataclass(slots=True)
class Records:
    """Everything a briefing needs, for its period and the one before (for the change)."""

    posts: list[PostRecord]  # collected in the previous or the current period, plus top incidents' posts
    incidents: list[IncidentRecord]
    runs: list[SourceRun]  # of the period, plus the last successful run of each source before it
    units: list[str]  # names of every unit of the jurisdiction, in pack order
    jurisdiction: str  # e.g. 重庆市江北区
    expected_hours: dict[str, float] = field(default_factory=dict)  # per configured source
    posts_by_id: dict[int, PostRecord] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.posts_by_id:
            self.posts_by_id = {p.id: p for p in self.posts}
